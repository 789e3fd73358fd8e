using System.Security.Claims;
using System.Text.Encodings.Web;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace FentaWeb.Api.Identity;

/// <summary>
/// One bearer scheme for both credentials: a JWT access token (a signed-in user) or an API key (<c>fw_…</c>).
/// Either way the caller's membership is read from the database on every request, so a removed member or a
/// changed role takes effect at once rather than when a token expires.
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    FentaDb db,
    TokenService tokens,
    TimeProvider clock,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    public const string OrgHeader = "X-Org-Id";
    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var credential = header["Bearer ".Length..].Trim();
        return credential.StartsWith(ApiKey.SecretPrefix, StringComparison.Ordinal)
            ? await AuthenticateApiKeyAsync(credential)
            : await AuthenticateJwtAsync(credential);
    }

    private async Task<AuthenticateResult> AuthenticateApiKeyAsync(string secret)
    {
        var now = clock.GetUtcNow();
        var hash = ApiKey.Hash(secret);
        var found = await (
            from key in db.ApiKeys
            where key.KeyHash == hash
            join member in db.OrgMembers on new { key.OrgId, key.UserId } equals new { member.OrgId, member.UserId }
            where member.User!.Status == "active" && member.User.DeletedAt == null
            select new { key, member.Role }).SingleOrDefaultAsync(Context.RequestAborted);
        if (found is null || !found.key.IsUsableAt(now)) return AuthenticateResult.Fail("The API key is unknown, revoked or expired.");

        if (found.key.LastUsedAt is null || now - found.key.LastUsedAt > LastUsedGranularity)
            await db.ApiKeys.Where(k => k.Id == found.key.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), Context.RequestAborted);

        return Success(found.key.UserId, found.key.OrgId, found.Role,
            new Claim(Caller.ApiKeyClaim, found.key.Id), new Claim(Caller.ScopeClaim, string.Join(' ', found.key.Scopes)));
    }

    private async Task<AuthenticateResult> AuthenticateJwtAsync(string token)
    {
        var identity = await tokens.ValidateAsync(token);
        var userId = identity?.FindFirst(JwtRegisteredClaimNames.Sub)?.Value;
        if (identity is null || userId is null) return AuthenticateResult.Fail("The access token is invalid or expired.");

        // A user who belongs to several orgs picks one per request; the token carries their default.
        var orgId = Request.Headers[OrgHeader].FirstOrDefault() ?? identity.FindFirst(Caller.OrgClaim)?.Value;
        var role = await db.OrgMembers
            .Where(m => m.OrgId == orgId && m.UserId == userId && m.User!.Status == "active" && m.User.DeletedAt == null)
            .Select(m => (OrgRole?)m.Role)
            .SingleOrDefaultAsync(Context.RequestAborted);
        return role is null
            ? AuthenticateResult.Fail($"You are not a member of organization '{orgId}'.")
            : Success(userId, orgId!, role.Value);
    }

    private AuthenticateResult Success(string userId, string orgId, OrgRole role, params Claim[] extra)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.NameIdentifier, userId), new Claim(Caller.OrgClaim, orgId), new Claim(Caller.RoleClaim, role.ToWire()), .. extra],
            SchemeName);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null ? "Bearer" : $"Bearer error=\"invalid_token\"";
        var problem = Titles.Problem(401, "UNAUTHORIZED", failure ?? "Send 'Authorization: Bearer <access token or API key>'.");
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}
