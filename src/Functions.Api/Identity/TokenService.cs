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
            },
        });
        var (refresh, secret) = RefreshToken.Issue(userId, familyId, options.RefreshTokenLifetime, now);
        db.RefreshTokens.Add(refresh);
        return new TokenPair(access, secret, "Bearer", (int)options.AccessTokenLifetime.TotalSeconds);
    }

    /// <summary>
    /// Redeems a refresh token once. A second redemption of the same token means it leaked: the whole family
    /// (every token of that login) is revoked and the caller must sign in again.
    /// </summary>
    public async Task<(RefreshToken Token, bool Reused)?> RedeemAsync(FentaDb db, string secret, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var hash = ApiKey.Hash(secret);
        var token = await db.RefreshTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, ct);
        if (token is null) return null;
        if (token.WasRotated || token.RevokedAt is not null)
        {
            await db.RefreshTokens.Where(t => t.FamilyId == token.FamilyId && t.RevokedAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
            return (token, true);
        }
        if (!token.CanRedeemAt(now)) return null;
        // Conditional update so two concurrent redemptions cannot both win.
        var won = await db.RefreshTokens.Where(t => t.Id == token.Id && t.RotatedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RotatedAt, now), ct);
        if (won == 1) return (token, false);
        await db.RefreshTokens.Where(t => t.FamilyId == token.FamilyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        return (token, true);
    }
}
