using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;

namespace FentaWeb.Api.Identity;

/// <summary>
/// One bearer credential, two kinds: a JWT access token (a signed-in user) or an API key (<c>fw_…</c>). Either way the
/// caller's membership is read from the database on every request, so a removed member or a changed role takes effect at
/// once rather than when a token expires; the same read brings the user's last password reset, before which no credential
/// counts (<see cref="User.CredentialsValidAfter"/>), and whether their address is verified.
/// </summary>
public sealed class Authenticator(FentaDb db, TokenService tokens, TimeProvider clock)
{
    public const string OrgHeader = "X-Org-Id";
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    public async Task<Caller> AuthenticateAsync(HttpRequest request, CancellationToken ct)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new UnauthorizedException("Send 'Authorization: Bearer <access token or API key>'.") { Challenge = "Bearer" };
        var credential = header["Bearer ".Length..].Trim();
        var caller = credential.StartsWith(ApiKey.SecretPrefix, StringComparison.Ordinal)
            ? await ApiKeyCallerAsync(credential, ct)
            : await SessionCallerAsync(credential, request.Headers[OrgHeader].FirstOrDefault(), ct);
        var userAgent = request.Headers.UserAgent.ToString();
        return caller with { ClientAddress = Caller.ClientAddressOf(request), UserAgent = userAgent.Length > 0 ? userAgent : null };
    }

    private async Task<Caller> ApiKeyCallerAsync(string secret, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var hash = ApiKey.Hash(secret);
        var found = await (
            from key in db.ApiKeys
            where key.KeyHash == hash
            join member in db.OrgMembers on new { key.OrgId, key.UserId } equals new { member.OrgId, member.UserId }
            where member.User!.Status == "active" && member.User.DeletedAt == null
            select new { key, member.Role, member.User!.EmailVerifiedAt, member.User.CredentialsValidAfter }).SingleOrDefaultAsync(ct);
        // A reset revokes the account's keys; the check against its instant also covers a key minted while it committed.
        if (found is null || !found.key.IsUsableAt(now) || User.IssuedBeforeReset(found.key.CreatedAt, found.CredentialsValidAfter))
            throw InvalidToken("The API key is unknown, revoked or expired.");

        if (found.key.LastUsedAt is null || now - found.key.LastUsedAt > LastUsedGranularity)
            await db.ApiKeys.Where(k => k.Id == found.key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        return new Caller(found.key.UserId, found.key.OrgId, found.Role, found.key.Id, found.key.Scopes.ToHashSet(StringComparer.Ordinal))
        {
            EmailVerified = found.EmailVerifiedAt is not null,
        };
    }

    private async Task<Caller> SessionCallerAsync(string token, string? orgHeader, CancellationToken ct)
    {
        var identity = await tokens.ValidateAsync(token);
        var userId = identity?.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
        if (identity is null || userId is null) throw InvalidToken("The access token is invalid or expired.");

        // A user who belongs to several orgs picks one per request; the token carries their default.
        var orgId = orgHeader ?? identity.FindFirst(Caller.OrgClaim)?.Value;
        var member = await db.OrgMembers
            .Where(m => m.OrgId == orgId && m.UserId == userId && m.User!.Status == "active" && m.User.DeletedAt == null)
            .Select(m => new { m.Role, m.User!.EmailVerifiedAt, m.User.CredentialsValidAfter })
            .SingleOrDefaultAsync(ct);
        if (member is null) throw InvalidToken($"You are not a member of organization '{orgId}'.");
        // A signed token needs no look-up of its own, so the password reset that ended its login is checked here.
        if (User.IssuedBeforeReset(TokenService.IssuedAt(identity), member.CredentialsValidAfter))
            throw InvalidToken("This access token was issued before the account's password was reset; sign in again.");
        return new Caller(userId, orgId!, member.Role, null, null) { EmailVerified = member.EmailVerifiedAt is not null };
    }

    private static UnauthorizedException InvalidToken(string message) => new(message) { Challenge = "Bearer error=\"invalid_token\"" };
}
