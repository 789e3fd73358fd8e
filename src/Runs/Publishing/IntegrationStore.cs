using System.Data;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Publishing;
using Npgsql;

namespace FentaWeb.Runs.Publishing;

/// <summary>A connected account with a usable access token.</summary>
public sealed record ConnectedAccount(string IntegrationId, string Platform, string AccessToken, PlatformAccount Account);

/// <summary>
/// Connected accounts' rows: saving a consent, and handing out an access token that is valid for a while yet. A token
/// near its expiry is refreshed while the row is locked (SELECT … FOR UPDATE), so two workers never spend one refresh
/// token twice (platforms that rotate refresh tokens would revoke the grant); a grant the platform refuses marks the
/// account <c>reconnect_required</c> with the platform's reason.
/// </summary>
public sealed class IntegrationStore(NpgsqlDataSource db, TokenVault vault, PublishingPlatforms platforms, TimeProvider clock)
{
    /// <summary>Saves a consent: a new row, or the org's existing row for the same account renewed. Returns its id.</summary>
    public async Task<string> SaveConsentAsync(string orgId, string userId, string platform, TokenGrant grant, PlatformAccount account, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO integrations (id, org_id, created_by, platform, account_id, account_name, account_handle, avatar_url, scopes,
                                      credentials, expires_at, refresh_expires_at)
            VALUES (fenta_id('int'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (org_id, platform, account_id) WHERE status <> 'revoked' DO UPDATE
              SET status = 'active', status_reason = NULL, account_name = EXCLUDED.account_name, account_handle = EXCLUDED.account_handle,
                  avatar_url = EXCLUDED.avatar_url, scopes = EXCLUDED.scopes, credentials = EXCLUDED.credentials,
                  expires_at = EXCLUDED.expires_at, refresh_expires_at = EXCLUDED.refresh_expires_at, updated_at = now()
            RETURNING id
            """);
        foreach (var value in new object?[] { orgId, userId, platform, account.Id, account.Name, account.Handle, account.AvatarUrl,
                     grant.Scopes.ToArray(), vault.Protect(grant), grant.ExpiresAt, grant.RefreshExpiresAt })
            cmd.Parameters.Add(new() { Value = value ?? DBNull.Value });
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>
    /// The account's access token, refreshed first when it lapses soon. Throws <see cref="PublishingException"/> with
    /// <see cref="PublishFailure.ReconnectRequired"/> when the account must be connected again (also recorded on the row).
    /// </summary>
    public async Task<ConnectedAccount> AccessAsync(string integrationId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        string platformName, status, credentials, accountId, accountName;
        string? reason, handle, avatar;
        DateTimeOffset? expires;
        await using (var read = new NpgsqlCommand("""
            SELECT platform, status, status_reason, credentials, expires_at, account_id, account_name, account_handle, avatar_url
            FROM integrations WHERE id = $1 FOR UPDATE
            """, connection, tx))
        {
            read.Parameters.Add(new() { Value = integrationId });
            await using var reader = await read.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                throw new PublishingException("INTEGRATION_NOT_FOUND", $"The connected account {integrationId} no longer exists.", PublishFailure.Permanent);
            (platformName, status, reason, credentials) = (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
            expires = reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4);
            (accountId, accountName, handle, avatar) = (reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8));
        }
        if (status != "active")
            throw new PublishingException("RECONNECT_REQUIRED", status == "revoked"
                ? $"The {platformName} account {accountName} was disconnected."
                : $"The {platformName} account {accountName} must be connected again: {reason}", PublishFailure.ReconnectRequired);
        var platform = platforms.Get(platformName);
        var tokens = vault.Unprotect(credentials);
        var account = new PlatformAccount(accountId, accountName, avatar, handle);
        if (expires is { } at && at - clock.GetUtcNow() < platform.RefreshAhead)
        {
            if (tokens.RefreshToken is null)
                return await MarkReconnectAsync(connection, tx, integrationId, platformName, accountName, "the access token expired and the platform gave no refresh token", ct);
            TokenGrant grant;
            try
            {
                grant = await platform.RefreshAsync(tokens.RefreshToken, ct);
            }
            catch (PublishingException e) when (e.Failure == PublishFailure.ReconnectRequired)
            {
                return await MarkReconnectAsync(connection, tx, integrationId, platformName, accountName, e.Message, ct);
            }
            // A platform that does not rotate refresh tokens answers without one: the old one stays good.
            grant = grant with { RefreshToken = grant.RefreshToken ?? tokens.RefreshToken };
            await using var save = new NpgsqlCommand("""
                UPDATE integrations SET credentials = $2, expires_at = $3, refresh_expires_at = coalesce($4, refresh_expires_at), last_used_at = now(), updated_at = now()
                WHERE id = $1
                """, connection, tx);
            foreach (var value in new object?[] { integrationId, vault.Protect(grant), grant.ExpiresAt, grant.RefreshExpiresAt })
                save.Parameters.Add(new() { Value = value ?? DBNull.Value });
            await save.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return new ConnectedAccount(integrationId, platformName, grant.AccessToken, account);
        }
        await using (var used = new NpgsqlCommand("UPDATE integrations SET last_used_at = now() WHERE id = $1", connection, tx))
        {
            used.Parameters.Add(new() { Value = integrationId });
            await used.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return new ConnectedAccount(integrationId, platformName, tokens.AccessToken, account);
    }

    /// <summary>
    /// What the account may post now, from the platform (TikTok's creator_info). A grant it refuses marks the account and
    /// is a 409 RECONNECT_REQUIRED; another refusal is a 409 with the platform's code.
    /// </summary>
    public async Task<CreatorOptions> CreatorOptionsAsync(string integrationId, CancellationToken ct)
    {
        try
        {
            var access = await AccessAsync(integrationId, ct);
            return await platforms.Configured(access.Platform).CreatorOptionsAsync(access.AccessToken, access.Account, ct);
        }
        catch (PublishingException e) when (e.Failure == PublishFailure.ReconnectRequired)
        {
            await MarkReconnectRequiredAsync(integrationId, e.Message, CancellationToken.None);
            throw new ConflictException("RECONNECT_REQUIRED", e.Message);
        }
        catch (PublishingException e)
        {
            throw new ConflictException(e.Code, e.Message);
        }
    }

    /// <summary>Records that the platform refused the grant (a call answered 401 with it, or its refresh failed).</summary>
    public async Task MarkReconnectRequiredAsync(string integrationId, string reason, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("UPDATE integrations SET status = 'reconnect_required', status_reason = $2, updated_at = now() WHERE id = $1 AND status = 'active'");
        cmd.Parameters.Add(new() { Value = integrationId });
        cmd.Parameters.Add(new() { Value = reason });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<ConnectedAccount> MarkReconnectAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string integrationId, string platform,
        string accountName, string reason, CancellationToken ct)
    {
        await using (var mark = new NpgsqlCommand("UPDATE integrations SET status = 'reconnect_required', status_reason = $2, updated_at = now() WHERE id = $1", connection, tx))
        {
            mark.Parameters.Add(new() { Value = integrationId });
            mark.Parameters.Add(new() { Value = reason });
            await mark.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        throw new PublishingException("RECONNECT_REQUIRED", $"The {platform} account {accountName} must be connected again: {reason}", PublishFailure.ReconnectRequired);
    }
}
