using System.Security.Cryptography;
using System.Text;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Publishing;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Runs.Publishing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Api.Publishing;

public sealed record ConnectRequest(string? ReturnTo);

public sealed record ConnectDto(string Platform, string AuthorizationUrl, DateTimeOffset ExpiresAt);

public sealed record AccountDto(string Id, string Name, string? Handle, string? AvatarUrl);

/// <summary>A connected account: who it is and whether it can publish; never its tokens.</summary>
public sealed record IntegrationDto(string Id, string Platform, string Status, string? StatusReason, AccountDto Account, IReadOnlyList<string> Scopes,
    DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, string? CreatedBy, DateTimeOffset CreatedAt)
{
    public static IntegrationDto From(Integration i) => new(i.Id, i.Platform, i.Status, i.StatusReason,
        new AccountDto(i.AccountId, i.AccountName, i.AccountHandle, i.AvatarUrl), i.Scopes, i.ExpiresAt, i.LastUsedAt, i.CreatedBy, i.CreatedAt);
}

public sealed record DisconnectedDto(IntegrationDto Integration, bool RevokedAtPlatform);

public sealed record PlatformDto(string Platform, bool Configured, string? MissingSetting, IReadOnlyList<string> Scopes, ConstraintsDto Constraints);

public sealed record ConstraintsDto(double MinDurationSeconds, double MaxDurationSeconds, long MaxBytes, double MinAspect, double MaxAspect,
    IReadOnlyList<string> VideoCodecs, IReadOnlyList<string> AudioCodecs, int MaxWidth, int MaxFrameRate)
{
    public static ConstraintsDto From(VideoConstraints c) => new(c.MinDuration.TotalSeconds, c.MaxDuration.TotalSeconds, c.MaxBytes, c.MinAspect, c.MaxAspect,
        c.VideoCodecs, c.AudioCodecs, c.MaxWidth, c.MaxFrameRate);
}

public sealed record CreatorOptionsDto(IReadOnlyList<string> PrivacyOptions, double MaxDurationSeconds, IReadOnlyList<string> Modes,
    bool CommentsDisabled, bool DuetDisabled, bool StitchDisabled, string? Notice);

/// <summary>
/// Connected accounts on YouTube, TikTok and Instagram: OAuth 2.0 authorization code with PKCE (S256) and a single-use
/// state bound to the person and org that asked; the tokens are kept protected (see <see cref="TokenProtection"/>) and
/// never answered. Connecting and disconnecting take an editor.
/// </summary>
[Tags("Integrations")]
public sealed class IntegrationFunctions(FentaDb db, NpgsqlDataSource dataSource, PublishingPlatforms platforms, IntegrationStore store, TokenVault vault,
    AuditTrail audit, FentaOptions options, TimeProvider clock)
{
    private static readonly TimeSpan StateLifetime = TimeSpan.FromMinutes(10);

    [Function(nameof(DescribePlatforms)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("The publishing platforms: whether this deployment is configured for each (else the setting it lacks), the scopes asked for, and the videos each takes.")]
    public Ok<List<PlatformDto>> DescribePlatforms([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/integrations/platforms")] HttpRequest request) =>
        TypedResults.Ok(platforms.All.OrderBy(p => Platforms.All.ToList().IndexOf(p.Name))
            .Select(p => new PlatformDto(p.Name, p.MissingSetting is null, p.MissingSetting, p.Scopes, ConstraintsDto.From(p.Constraints))).ToList());

    [Function(nameof(ListIntegrations)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("The org's connected accounts, newest first (disconnected ones left out).")]
    public async Task<Ok<Page<IntegrationDto>>> ListIntegrations([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/integrations")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, string? platform, CancellationToken ct)
    {
        var query = db.Integrations.Where(i => i.OrgId == caller.OrgId && i.Status != "revoked");
        if (platform is not null) query = query.Where(i => i.Platform == platform);
        return TypedResults.Ok(await query.ToPageAsync(page, IntegrationDto.From, ct));
    }

    [Function(nameof(GetIntegration)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One connected account.")]
    public async Task<Ok<IntegrationDto>> GetIntegration([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/integrations/{integrationId}")] HttpRequest request,
        string integrationId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(IntegrationDto.From(await FindAsync(caller, integrationId, ct)));

    [Function(nameof(ConnectIntegration)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Start connecting an account: answers the platform's authorization URL to send the person to (valid 10 minutes, once). The platform sends them back to /v1/integrations/{platform}/callback, which stores the account and redirects to return_to (a path of this app) when given.")]
    public async Task<Ok<ConnectDto>> ConnectIntegration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/integrations/{platform}/connect")] HttpRequest request, string platform,
        [FromBody] ConnectRequest? body, Caller caller, CancellationToken ct)
    {
        if (!Platforms.All.Contains(platform)) throw new ValidationFailedException("platform", $"must be one of: {string.Join(", ", Platforms.All)}");
        var adapter = platforms.Configured(platform);
        if (body?.ReturnTo is { } returnTo && !IsLocalPath(returnTo))
            throw new ValidationFailedException("return_to", "must be a path of this app, such as /settings/integrations");
        var state = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var verifier = System.Buffers.Text.Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var expires = clock.GetUtcNow() + StateLifetime;
        await using (var cmd = dataSource.CreateCommand("""
            INSERT INTO oauth_states (state_hash, org_id, user_id, platform, code_verifier, return_to, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
            """))
        {
            foreach (var value in new object?[] { Hash(state), caller.OrgId, caller.UserId, platform, vault.ProtectVerifier(verifier), body?.ReturnTo, expires })
                cmd.Parameters.Add(new() { Value = value ?? DBNull.Value });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        var challenge = System.Buffers.Text.Base64Url.EncodeToString(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
        return TypedResults.Ok(new ConnectDto(platform, adapter.AuthorizationUrl(state, challenge, RedirectUri(platform)).AbsoluteUri, expires));
    }

    [Function(nameof(IntegrationCallback)), Anonymous,
     EndpointSummary("Where the platform sends the person back: exchanges the code (with the PKCE verifier), stores the account and redirects to the return_to given at connect, or answers the account. A state used before, expired or unknown is refused.")]
    public async Task<Results<Ok<IntegrationDto>, RedirectHttpResult>> IntegrationCallback(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/integrations/{platform}/callback")] HttpRequest request, string platform,
        string? code, string? state, string? error, [FromQuery(Name = "error_description")] string? errorDescription, CancellationToken ct)
    {
        if (state is null) throw new ValidationFailedException("state", "is required: the platform returns the state it was given");
        // Taken once: a second use of the same state (a replayed or reloaded callback) finds it used.
        await using var take = dataSource.CreateCommand("""
            UPDATE oauth_states SET used_at = now() WHERE state_hash = $1 AND platform = $2 AND used_at IS NULL AND expires_at > now()
            RETURNING org_id, user_id, code_verifier, return_to
            """);
        take.Parameters.Add(new() { Value = Hash(state) });
        take.Parameters.Add(new() { Value = platform });
        string orgId, userId, verifier;
        string? returnTo;
        await using (var reader = await take.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct))
                throw new ValidationFailedException("state", "is unknown, expired or already used: start connecting again");
            (orgId, userId, verifier, returnTo) = (reader.GetString(0), reader.GetString(1), vault.UnprotectVerifier(reader.GetString(2)), reader.IsDBNull(3) ? null : reader.GetString(3));
        }
        if (error is not null || code is null)
        {
            var why = error is null ? "the platform returned no code" : $"{error}{(errorDescription is null ? "" : $": {errorDescription}")}";
            if (returnTo is not null) return TypedResults.Redirect(WithQuery(returnTo, ("integration_error", why), ("platform", platform)));
            throw new ValidationFailedException(error is null ? "code" : "error", $"the connection was not made: {InputText.Checked(why, "error")}");
        }
        var adapter = platforms.Configured(platform);
        string integrationId;
        try
        {
            var grant = await adapter.ExchangeCodeAsync(code, verifier, RedirectUri(platform), ct);
            var account = await adapter.AccountAsync(grant, ct);
            integrationId = await store.SaveConsentAsync(orgId, userId, platform, grant, account, ct);
        }
        catch (PublishingException e)
        {
            if (returnTo is not null) return TypedResults.Redirect(WithQuery(returnTo, ("integration_error", e.Message), ("platform", platform)));
            throw new ConflictException(e.Code, e.Message);
        }
        var integration = await db.Integrations.AsNoTracking().SingleAsync(i => i.Id == integrationId, ct);
        // The person who started connecting, as the state recorded (the platform's redirect carries no credential of ours).
        audit.Record(new Caller(userId, orgId, OrgRole.Editor, null, null) { ClientAddress = Caller.ClientAddressOf(request), UserAgent = request.Headers.UserAgent.ToString() },
            "connect", "integration", integrationId, new { platform, account = integration.AccountName });
        await db.SaveChangesAsync(ct);
        return returnTo is not null
            ? TypedResults.Redirect(WithQuery(returnTo, ("connected", platform), ("integration_id", integrationId)))
            : TypedResults.Ok(IntegrationDto.From(integration));
    }

    [Function(nameof(GetCreatorOptions)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("What this account may post now (TikTok's creator_info: privacy levels, longest video, direct post or draft): the publish form offers only these.")]
    public async Task<Ok<CreatorOptionsDto>> GetCreatorOptions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/integrations/{integrationId}/options")] HttpRequest request, string integrationId,
        Caller caller, CancellationToken ct)
    {
        var integration = await FindAsync(caller, integrationId, ct);
        var options = await store.CreatorOptionsAsync(integration.Id, ct);
        return TypedResults.Ok(new CreatorOptionsDto(options.PrivacyOptions, options.MaxDuration.TotalSeconds, options.Modes,
            options.CommentsDisabled, options.DuetDisabled, options.StitchDisabled, options.Notice));
    }

    [Function(nameof(DisconnectIntegration)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Disconnect an account: the grant is revoked at the platform where it offers that, and the tokens are erased. Publications that named it keep their record.")]
    public async Task<Ok<DisconnectedDto>> DisconnectIntegration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/integrations/{integrationId}")] HttpRequest request, string integrationId,
        Caller caller, CancellationToken ct)
    {
        var integration = await FindAsync(caller, integrationId, ct);
        var revoked = false;
        if (integration.Status == "active" && platforms.Get(integration.Platform).MissingSetting is null)
        {
            try
            {
                var access = await store.AccessAsync(integrationId, ct);
                revoked = await platforms.Get(integration.Platform).RevokeAsync(new TokenGrant(access.AccessToken, null, null, null, []), ct);
            }
            catch (Exception e) when (e is PublishingException or ProviderException or HttpRequestException)
            {
                // The platform may have revoked it already; the account is disconnected here either way.
            }
        }
        await using (var erase = dataSource.CreateCommand("UPDATE integrations SET status = 'revoked', status_reason = 'disconnected', credentials = '', updated_at = now() WHERE id = $1"))
        {
            erase.Parameters.Add(new() { Value = integrationId });
            await erase.ExecuteNonQueryAsync(ct);
        }
        audit.Record(caller, "disconnect", "integration", integrationId, new { integration.Platform, revoked_at_platform = revoked });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new DisconnectedDto(IntegrationDto.From(await db.Integrations.AsNoTracking().SingleAsync(i => i.Id == integrationId, ct)), revoked));
    }

    private async Task<Integration> FindAsync(Caller caller, string integrationId, CancellationToken ct) =>
        await db.Integrations.AsNoTracking().SingleOrDefaultAsync(i => i.Id == integrationId && i.OrgId == caller.OrgId && i.Status != "revoked", ct)
        ?? throw new NotFoundException("integration", integrationId);

    private Uri RedirectUri(string platform) => new(options.PublicUrl, $"v1/integrations/{platform}/callback");

    private static bool IsLocalPath(string path) => path.StartsWith('/') && !path.StartsWith("//", StringComparison.Ordinal) && !path.Contains('\\') && path.Length <= 500;

    private static string WithQuery(string path, params (string Name, string Value)[] query) =>
        path + (path.Contains('?') ? "&" : "?") + string.Join("&", query.Select(q => $"{q.Name}={Uri.EscapeDataString(q.Value)}"));

    private static string Hash(string state) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(state)));

}
