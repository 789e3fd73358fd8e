using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

public sealed record CreateApiKeyRequest(string? Name, IReadOnlyList<string>? Scopes, DateTimeOffset? ExpiresAt);
public sealed record ApiKeyDto(string Id, string Name, string Prefix, IReadOnlyList<string> Scopes, string UserId,
    DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);
/// <summary>The only response that ever contains the secret.</summary>
public sealed record CreatedApiKeyDto(ApiKeyDto ApiKey, string Key);
public sealed record RollApiKeyRequest(int? ExpiresIn);
/// <summary>The successor with its secret (shown once), and the rolled key with when it stops working.</summary>
public sealed record RolledApiKeyDto(ApiKeyDto ApiKey, string Key, ApiKeyDto Rolled);

/// <summary>
/// Personal access tokens for the caller's current org. Managed only from a signed-in session; minted and rolled only by a
/// user whose address is verified (a key outlives a session, so it must not belong to someone who merely registered the
/// address). A key acts as its owner within its scopes, and never above its owner's role. Admins see and revoke every key of the org.
/// </summary>
[Tags("API keys")]
public sealed class ApiKeyFunctions(FentaDb db, AuditTrail audit, TimeProvider clock)
{
    [Function(nameof(CreateApiKey)), Access(SessionOnly = true, VerifiedEmail = true), EndpointSummary("Create a key. The secret is in this response only.")]
    public async Task<Created<CreatedApiKeyDto>> CreateApiKey([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/api-keys")] HttpRequest request,
        [FromBody] CreateApiKeyRequest body, Caller caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 100) errors.Add("name", "must be 1-100 characters");
        var scopes = body.Scopes ?? [];
        if (scopes.Count == 0) errors.Add("scopes", $"must list at least one of: {string.Join(", ", Scopes.All)}");
        for (var i = 0; i < scopes.Count; i++)
            if (!Scopes.All.Contains(scopes[i])) errors.Add($"scopes[{i}]", $"unknown scope '{scopes[i]}'; known: {string.Join(", ", Scopes.All)}");
        if (body.ExpiresAt is { } expires && expires <= now) errors.Add("expires_at", "must be in the future");
        errors.ThrowIfAny();

        var (key, secret) = ApiKey.Issue(caller.UserId, caller.OrgId, body.Name!.Trim(), scopes.Distinct().ToArray(), body.ExpiresAt, now);
        db.ApiKeys.Add(key);
        audit.Record(caller, "create", "api_key", key.Id, new { key.Name, key.Scopes, key.ExpiresAt });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/api-keys/{key.Id}", new CreatedApiKeyDto(ToDto(key), secret));
    }

    // Revoked keys (by DELETE, a roll, or a password reset) leave the list; GET /v1/api-keys/{id} still shows when one was revoked.
    [Function(nameof(ListApiKeys)), Access(SessionOnly = true), EndpointSummary("Your keys in this org that are not revoked (all keys of the org for admins).")]
    public async Task<Ok<Page<ApiKeyDto>>> ListApiKeys([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/api-keys")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct) =>
        TypedResults.Ok(await Visible(db, caller).Where(k => k.RevokedAt == null).ToPageAsync(page, ToDto, ct));

    [Function(nameof(GetApiKey)), Access(SessionOnly = true), EndpointSummary("One key, without its secret.")]
    public async Task<Ok<ApiKeyDto>> GetApiKey([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/api-keys/{keyId}")] HttpRequest request,
        string keyId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await Visible(db, caller).SingleOrDefaultAsync(k => k.Id == keyId, ct) ?? throw new NotFoundException("API key", keyId)));

    [Function(nameof(RevokeApiKey)), Access(SessionOnly = true), EndpointSummary("Revoke a key; it stops working at once.")]
    public async Task<NoContent> RevokeApiKey([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/api-keys/{keyId}")] HttpRequest request,
        string keyId, Caller caller, CancellationToken ct)
    {
        var key = await Visible(db, caller).SingleOrDefaultAsync(k => k.Id == keyId, ct) ?? throw new NotFoundException("API key", keyId);
        if (key.RevokedAt is null)
        {
            key.Revoke(clock.GetUtcNow());
            audit.Record(caller, "delete", "api_key", key.Id, new { key.Name });
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.NoContent();
    }

    [Function(nameof(RollApiKey)), Access(SessionOnly = true, VerifiedEmail = true),
     EndpointSummary("Replace a key with a new secret (same name, scopes and expiry). The old key stops working at once, or after expires_in seconds (at most 7 days) so clients can switch over; a key is rolled once (409 after).")]
    public async Task<Created<RolledApiKeyDto>> RollApiKey([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/api-keys/{keyId}/roll")] HttpRequest request,
        string keyId, [FromBody] RollApiKeyRequest? body, Caller caller, CancellationToken ct)
    {
        if (body?.ExpiresIn is < 0 || body?.ExpiresIn > ApiKey.LongestOverlap.TotalSeconds)
            throw new ValidationFailedException("expires_in", $"must be 0 (at once) to {ApiKey.LongestOverlap.TotalSeconds:0} seconds (7 days)");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The row lock makes concurrent rolls of one key (from any instance) take turns, each reading the key as the one
        // before left it, so only the first finds it not rolled yet.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM api_keys WHERE id = {keyId} FOR UPDATE", ct);
        var key = await Visible(db, caller).SingleOrDefaultAsync(k => k.Id == keyId, ct) ?? throw new NotFoundException("API key", keyId);
        // An admin sees every key of the org, but a new secret acting as someone else is for that someone only.
        if (key.UserId != caller.UserId) throw new ForbiddenException("Only a key's owner can roll it; an admin can revoke it instead.");
        var (successor, secret) = key.Roll(TimeSpan.FromSeconds(body?.ExpiresIn ?? 0), clock.GetUtcNow());
        db.ApiKeys.Add(successor);
        audit.Record(caller, "roll", "api_key", key.Id, new { successor_id = successor.Id, key.ExpiresAt, key.RevokedAt });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.Created($"/v1/api-keys/{successor.Id}", new RolledApiKeyDto(ToDto(successor), secret, ToDto(key)));
    }

    private static IQueryable<ApiKey> Visible(FentaDb db, Caller caller)
    {
        var (orgId, userId, seesAll) = (caller.OrgId, caller.UserId, caller.Role >= OrgRole.Admin);
        return db.ApiKeys.Where(k => k.OrgId == orgId && (seesAll || k.UserId == userId));
    }

    private static ApiKeyDto ToDto(ApiKey k) => new(k.Id, k.Name, k.KeyPrefix, k.Scopes, k.UserId, k.LastUsedAt, k.ExpiresAt, k.CreatedAt, k.RevokedAt);
}
