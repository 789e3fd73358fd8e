using System.Security.Cryptography;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Identity;

/// <summary>
/// One link in a rotating refresh-token family (one login). A token can be redeemed once; redeeming a token that
/// was already rotated means it leaked, so the whole family is revoked (OAuth 2.0 Security BCP, section 4.14).
/// </summary>
public sealed class RefreshToken
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string FamilyId { get; init; }
    public required string TokenHash { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RotatedAt { get; private set; }
    public DateTimeOffset? RevokedAt { get; private set; }

    public bool CanRedeemAt(DateTimeOffset now) => RotatedAt is null && RevokedAt is null && ExpiresAt > now;

    public bool WasRotated => RotatedAt is not null;

    public void MarkRotated(DateTimeOffset now) => RotatedAt ??= now;

    public void Revoke(DateTimeOffset now) => RevokedAt ??= now;

    public static (RefreshToken Token, string Secret) Issue(string userId, string? familyId, TimeSpan lifetime, DateTimeOffset now)
    {
        var secret = "rt_" + ApiKey.Base64Url(RandomNumberGenerator.GetBytes(32));
        return (new RefreshToken
        {
            Id = Ids.New("rt"),
            UserId = userId,
            FamilyId = familyId ?? Ids.New("rtf"),
            TokenHash = ApiKey.Hash(secret),
            ExpiresAt = now + lifetime,
            CreatedAt = now,
        }, secret);
    }
}
