using System.Security.Cryptography;
using System.Text;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Identity;

public sealed class ApiKey : IHasId
{
    /// <summary>Every secret starts with this, so leaked keys are easy to grep for and to tell from JWTs.</summary>
    public const string SecretPrefix = "fw_";
    private const int VisiblePrefixLength = 11;

    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string OrgId { get; init; }
    public required string Name { get; set; }
    public required string KeyHash { get; init; }
    public required string KeyPrefix { get; init; }
    public string[] Scopes { get; set; } = [];
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; private set; }
    /// <summary>When this key got its successor; a key is rolled once.</summary>
    public DateTimeOffset? RolledAt { get; private set; }

    public bool IsUsableAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);

    public void Revoke(DateTimeOffset now) => RevokedAt ??= now;

    /// <summary>Longest a rolled key keeps working beside its successor (Stripe allows the same).</summary>
    public static readonly TimeSpan LongestOverlap = TimeSpan.FromDays(7);

    /// <summary>
    /// Rolls a key that still works and was not rolled before: a successor with the same owner, org, name, scopes and
    /// expiry, and this key retired after <paramref name="overlap"/> (at once when zero), so clients can switch over; never
    /// later than it would have expired. One successor per key: a second roll during the overlap would leave two live
    /// secrets where the owner asked for one. Callers hold the key's row lock, so concurrent rolls see the first one's mark.
    /// </summary>
    public (ApiKey Key, string Secret) Roll(TimeSpan overlap, DateTimeOffset now)
    {
        if (!IsUsableAt(now)) throw new ConflictException("API_KEY_NOT_ACTIVE", "Only a key that still works can be rolled; this one is revoked or expired.");
        if (RolledAt is not null)
            throw new ConflictException("API_KEY_ALREADY_ROLLED", "This key was already rolled and stops working when its overlap ends; roll its successor instead.");
        RolledAt = now;
        var successor = Issue(UserId, OrgId, Name, Scopes, ExpiresAt, now);
        if (overlap <= TimeSpan.Zero) Revoke(now);
        else if (ExpiresAt is null || ExpiresAt > now + overlap) ExpiresAt = now + overlap;
        return successor;
    }

    /// <summary>Creates a key and returns its secret, which is never stored and cannot be shown again.</summary>
    public static (ApiKey Key, string Secret) Issue(string userId, string orgId, string name, string[] scopes, DateTimeOffset? expiresAt, DateTimeOffset now)
    {
        var secret = SecretPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var key = new ApiKey
        {
            Id = Ids.New("key"),
            UserId = userId,
            OrgId = orgId,
            Name = name,
            KeyHash = Hash(secret),
            KeyPrefix = secret[..VisiblePrefixLength],
            Scopes = scopes,
            ExpiresAt = expiresAt,
            CreatedAt = now,
        };
        return (key, secret);
    }

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    internal static string Base64Url(byte[] bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
