using System.Security.Claims;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace FentaWeb.Api.Identity;

public sealed record TokenPair(string AccessToken, string RefreshToken, string TokenType, int ExpiresIn);

/// <summary>Issues short-lived JWT access tokens and rotating refresh tokens.</summary>
public sealed class TokenService(FentaOptions options, TimeProvider clock)
{
    public const string Issuer = "fentaweb";
    public const string Audience = "fentaweb-api";
    /// <summary>
    /// When the token was issued, in Unix milliseconds: <c>iat</c> has whole seconds only, too coarse to tell a token issued
    /// just before a password reset from a sign-in just after it.
    /// </summary>
    public const string IssuedAtMillisecondsClaim = "iat_ms";

    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly SymmetricSecurityKey _key = new(options.JwtSigningKey);

    public TokenValidationParameters ValidationParameters => new()
    {
        ValidIssuer = Issuer,
        ValidAudience = Audience,
        IssuerSigningKey = _key,
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    public async Task<ClaimsIdentity?> ValidateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, ValidationParameters);
        return result.IsValid ? result.ClaimsIdentity : null;
    }

    /// <summary>When a validated token was issued: its <c>iat_ms</c>, or for a token from before that claim its <c>iat</c>.</summary>
    public static DateTimeOffset IssuedAt(ClaimsIdentity identity) =>
        long.TryParse(identity.FindFirst(IssuedAtMillisecondsClaim)?.Value, out var milliseconds) ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
        : long.TryParse(identity.FindFirst(JwtRegisteredClaimNames.Iat)?.Value, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds)
        : DateTimeOffset.MinValue;

    /// <summary>Issues a new pair; <paramref name="familyId"/> continues a rotation chain, null starts a new login.</summary>
    public TokenPair Issue(FentaDb db, string userId, string orgId, string? familyId)
    {
        var now = clock.GetUtcNow();
        var access = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + options.AccessTokenLifetime).UtcDateTime,
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256),
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId,
                [Caller.OrgClaim] = orgId,
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                [IssuedAtMillisecondsClaim] = now.ToUnixTimeMilliseconds(),
            },
        });
        var (refresh, secret) = RefreshToken.Issue(userId, familyId, options.RefreshTokenLifetime, now);
        db.RefreshTokens.Add(refresh);
        return new TokenPair(access, secret, "Bearer", (int)options.AccessTokenLifetime.TotalSeconds);
    }

    /// <summary>
    /// Redeems a refresh token once. A second redemption of the same token means it leaked: the whole family
    /// (every token of that login) is revoked and the caller must sign in again. A token revoked without being used
    /// (logout, password reset, or its family revoked that way) is refused as such.
    /// </summary>
    public async Task<(RefreshToken Token, Redemption Outcome)?> RedeemAsync(FentaDb db, string secret, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var hash = ApiKey.Hash(secret);
        var token = await db.RefreshTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (token is null) return null;
        if (token.WasRotated)
            return (token, await RetireUnsentSuccessorAsync(db, token, now, ct) ? Redemption.Redeemed : await RevokeFamilyAsync(db, token, now, ct));
        if (token.RevokedAt is not null) return (token, Redemption.Revoked);
        if (!token.CanRedeemAt(now)) return null;
        // Conditional update so two concurrent redemptions cannot both win.
        var won = await db.RefreshTokens.Where(t => t.Id == token.Id && t.RotatedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RotatedAt, now), ct);
        return (token, won == 1 ? Redemption.Redeemed : await RevokeFamilyAsync(db, token, now, ct));
    }

    /// <summary>How long after its rotation a refresh token may be presented again while its successor is unused.</summary>
    public static readonly TimeSpan ReuseGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A refresh whose answer never reached the client (a browser page reloaded or closed while it ran, a dropped
    /// connection) leaves the client holding the token it just spent, and the successor unsent. Presented again within
    /// <see cref="ReuseGrace"/> of its rotation while that successor has never been used, it is the same client trying
    /// again, not a thief: the unsent successor is retired and the login goes on (as Okta's grace period and Auth0's reuse
    /// interval allow). Once the successor has been used, or after the grace, a replay is a reuse and ends the login.
    /// </summary>
    private static async Task<bool> RetireUnsentSuccessorAsync(FentaDb db, RefreshToken token, DateTimeOffset now, CancellationToken ct)
    {
        if (token.RevokedAt is not null || token.RotatedAt is not { } rotated || now - rotated > ReuseGrace || token.ExpiresAt <= now) return false;
        var later = await db.RefreshTokens.Where(t => t.FamilyId == token.FamilyId && t.Id != token.Id && t.CreatedAt >= rotated)
            .Select(t => new { t.Id, t.RotatedAt, t.RevokedAt }).ToListAsync(ct);
        if (later is not [{ RotatedAt: null, RevokedAt: null } successor]) return false;
        // Conditional, as redemption is: a successor redeemed meanwhile is used after all, and this is a reuse.
        return await db.RefreshTokens.Where(t => t.Id == successor.Id && t.RotatedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct) == 1;
    }

    private static async Task<Redemption> RevokeFamilyAsync(FentaDb db, RefreshToken token, DateTimeOffset now, CancellationToken ct)
    {
        await db.RefreshTokens.Where(t => t.FamilyId == token.FamilyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        return Redemption.Reused;
    }
}

public enum Redemption
{
    Redeemed,
    /// <summary>Used before: it leaked, and its login is now revoked.</summary>
    Reused,
    /// <summary>Its login ended: signed out, password reset, or revoked after a reuse.</summary>
    Revoked,
}
