using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

// MimeKit brings BouncyCastle, whose root namespace is also called Org; inside the namespace this alias wins.
using Org = FentaWeb.Domain.Identity.Org;

public sealed record RegisterRequest(string? Email, string? Password, string? Name);
public sealed record LoginRequest(string? Email, string? Password);
public sealed record RefreshRequest(string? RefreshToken);
public sealed record UserDto(string Id, string Email, string Name, bool EmailVerified, DateTimeOffset CreatedAt)
{
    public static UserDto From(User user) => new(user.Id, user.Email, user.Name, user.EmailVerifiedAt is not null, user.CreatedAt);
}

public sealed record OrgDto(string Id, string Name, string Slug, string Plan, DateTimeOffset CreatedAt)
{
    public static OrgDto From(Org org) => new(org.Id, org.Name, org.Slug, org.Plan, org.CreatedAt);
}

public sealed record MembershipDto(string OrgId, string OrgName, string Role);
/// <param name="RefreshToken">Null for the web app (<c>X-Fenta-Client: web</c>), whose refresh token is the HttpOnly <c>fenta_refresh</c> cookie.</param>
public sealed record SessionResponse(UserDto User, OrgDto Org, string AccessToken, string? RefreshToken, string TokenType, int ExpiresIn);
public sealed record MeResponse(UserDto User, OrgDto Org, string Role, string? ApiKeyId, IReadOnlyList<string> Scopes, IReadOnlyList<MembershipDto> Memberships);

[Tags("Auth")]
public sealed class AuthFunctions(FentaDb db, TokenService tokens, EmailLinks links, FentaOptions options, TimeProvider clock)
{
    // Verifying against a real hash when the email is unknown keeps login time the same either way.
    private static readonly Lazy<string> DecoyHash = new(() => PasswordHasher.Hash("decoy password for timing"));

    [Function(nameof(Register)), Anonymous, EndpointSummary("Create an account and its personal org; returns a session and mails a link to verify the address. With 'X-Fenta-Client: web' the refresh token is set as the fenta_refresh cookie instead of returned.")]
    public async Task<Created<SessionResponse>> Register([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/register")] HttpRequest request,
        [FromBody] RegisterRequest body, CancellationToken ct)
    {
        Accounts.Validate(body.Email, body.Name, body.Password);
        // Still a 409: the documented flow answers a new address with a session, which a taken one cannot get, so the answer
        // differs either way. The address's owner hears of the attempt (within its hourly mail cap).
        if (await Accounts.HolderOfAsync(db, body.Email!, ct) is { } holder)
        {
            await links.SendNoticeAsync(holder, OutboxMailKind.RegistrationAttempt, ct);
            throw Accounts.EmailTaken();
        }
        var (user, org) = await Accounts.CreateAsync(db, body.Email!, body.Name!, body.Password!, clock.GetUtcNow(), ct);
        var pair = tokens.Issue(db, user.Id, org.Id, familyId: null);
        await db.SaveChangesAsync(ct);
        await links.SendVerificationAsync(user, ct);
        return TypedResults.Created("/v1/auth/me", Session(request, user, org, pair));
    }

    [Function(nameof(Login)), Anonymous, EndpointSummary("Sign in with email and password; returns a session. With 'X-Fenta-Client: web' the refresh token is set as the fenta_refresh cookie instead of returned.")]
    public async Task<Ok<SessionResponse>> Login([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/login")] HttpRequest request,
        [FromBody] LoginRequest body, CancellationToken ct)
    {
        var email = User.NormalizeEmail(body.Email ?? "");
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == email, ct);
        if (!PasswordHasher.Verify(body.Password ?? "", user?.PasswordHash ?? DecoyHash.Value) || user is null || !user.IsActive)
            throw new UnauthorizedException("The email or password is wrong.", "INVALID_CREDENTIALS");
        var org = await DefaultOrgAsync(db, user.Id, ct);
        var pair = tokens.Issue(db, user.Id, org.Id, familyId: null);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(Session(request, user, org, pair));
    }

    [Function(nameof(RefreshSession)), Anonymous,
     EndpointSummary("Trade a refresh token for a new pair. Reusing a rotated token revokes the login. The web app sends 'X-Fenta-Client: web' and no body: the fenta_refresh cookie is the token and is replaced.")]
    public async Task<Ok<SessionResponse>> RefreshSession([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/refresh")] HttpRequest request,
        [FromBody] RefreshRequest? body, CancellationToken ct)
    {
        try
        {
            var secret = BrowserSessions.RefreshTokenOf(request, body)
                ?? throw new UnauthorizedException("There is no session cookie; sign in again.", "SESSION_COOKIE_MISSING");
            var (user, org, family) = await RedeemAsync(secret, ct);
            var pair = tokens.Issue(db, user.Id, org.Id, family);
            await db.SaveChangesAsync(ct);
            return TypedResults.Ok(Session(request, user, org, pair));
        }
        catch (UnauthorizedException)
        {
            // The cookie's login is over: the browser drops it instead of sending it again.
            BrowserSessions.Clear(request.HttpContext);
            throw;
        }
    }

    [Function(nameof(Logout)), Anonymous,
     EndpointSummary("Revoke the login a refresh token belongs to. The web app sends 'X-Fenta-Client: web' and no body: the fenta_refresh cookie's login ends and the cookie is cleared.")]
    public async Task<NoContent> Logout([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/logout")] HttpRequest request,
        [FromBody] RefreshRequest? body, CancellationToken ct)
    {
        // A web app without the cookie is signed out already.
        if (BrowserSessions.RefreshTokenOf(request, body) is { } secret)
        {
            var hash = ApiKey.Hash(secret);
            var family = await db.RefreshTokens.Where(t => t.TokenHash == hash).Select(t => t.FamilyId).SingleOrDefaultAsync(ct);
            if (family is not null)
            {
                var now = clock.GetUtcNow();
                await db.RefreshTokens.Where(t => t.FamilyId == family && t.RevokedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
            }
        }
        BrowserSessions.Clear(request.HttpContext);
        return TypedResults.NoContent();
    }

    [Function(nameof(GetMe)), Access, EndpointSummary("The caller, their current org, role and memberships.")]
    public async Task<Ok<MeResponse>> GetMe([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/auth/me")] HttpRequest request,
        Caller caller, CancellationToken ct)
    {
        var user = await db.Users.SingleAsync(u => u.Id == caller.UserId, ct);
        var org = await db.Orgs.SingleAsync(o => o.Id == caller.OrgId, ct);
        var memberships = await db.OrgMembers.Where(m => m.UserId == caller.UserId)
            .Join(db.Orgs, m => m.OrgId, o => o.Id, (m, o) => new { o.Id, o.Name, m.Role, m.JoinedAt })
            .OrderBy(m => m.JoinedAt).ToListAsync(ct);
        return TypedResults.Ok(new MeResponse(UserDto.From(user), OrgDto.From(org), caller.Role.ToWire(), caller.ApiKeyId,
            caller.Scopes?.Order().ToList() ?? [.. Scopes.All],
            memberships.Select(m => new MembershipDto(m.Id, m.Name, m.Role.ToWire())).ToList()));
    }

    /// <summary>The org a session starts in: the first one the user joined (their personal org).</summary>
    private static async Task<Org> DefaultOrgAsync(FentaDb db, string userId, CancellationToken ct) =>
        await db.OrgMembers.Where(m => m.UserId == userId).OrderBy(m => m.JoinedAt)
            .Join(db.Orgs, m => m.OrgId, o => o.Id, (m, o) => o).FirstOrDefaultAsync(ct)
        ?? throw new ForbiddenException("This account no longer belongs to any organization.");

    /// <summary>Redeems a refresh token once: the user and org of the login it continues, and its rotation chain.</summary>
    private async Task<(User User, Org Org, string FamilyId)> RedeemAsync(string secret, CancellationToken ct)
    {
        var redeemed = await tokens.RedeemAsync(db, secret, ct)
            ?? throw new UnauthorizedException("The refresh token is unknown or expired; sign in again.", "INVALID_REFRESH_TOKEN");
        if (redeemed.Outcome == Redemption.Reused)
            throw new UnauthorizedException("This refresh token was already used, so the login was revoked; sign in again.", "REFRESH_TOKEN_REUSED");
        if (redeemed.Outcome == Redemption.Revoked)
            throw new UnauthorizedException("This login has ended (signed out, password reset, or revoked after a refresh token was reused); sign in again.", "SESSION_REVOKED");
        var user = await db.Users.SingleAsync(u => u.Id == redeemed.Token.UserId, ct);
        // The reset revoked every refresh token it saw; one a sign-in with the old password saved while it committed predates it too.
        if (User.IssuedBeforeReset(redeemed.Token.CreatedAt, user.CredentialsValidAfter))
            throw new UnauthorizedException("This login has ended (signed out, password reset, or revoked after a refresh token was reused); sign in again.", "SESSION_REVOKED");
        if (!user.IsActive) throw new UnauthorizedException("The account is not active.", "ACCOUNT_INACTIVE");
        return (user, await DefaultOrgAsync(db, user.Id, ct), redeemed.Token.FamilyId);
    }

    private SessionResponse Session(HttpRequest request, User user, Org org, TokenPair pair) => BrowserSessions.Answer(request.HttpContext,
        new(UserDto.From(user), OrgDto.From(org), pair.AccessToken, pair.RefreshToken, pair.TokenType, pair.ExpiresIn), options.RefreshTokenLifetime);
}
