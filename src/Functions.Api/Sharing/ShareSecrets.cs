using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FentaWeb.Api.Hosting;
using FentaWeb.Runs.Sharing;
using Microsoft.AspNetCore.DataProtection;

namespace FentaWeb.Api.Sharing;

/// <summary>
/// A share link's secrets: its token (32 random bytes, base64url), looked up by its SHA-256 and kept protected with the
/// app's Data Protection key ring for the owner's list; its public URL on FENTA_PUBLIC_URL; and the cookie a password
/// unlocks, an HMAC over the link, its password hash and the cookie's expiry with a key derived from FENTA_JWT_SIGNING_KEY.
/// </summary>
public sealed class ShareSecrets(IDataProtectionProvider protection, FentaOptions options)
{
    public const string CookieName = "fenta_share";
    /// <summary>How long a password, once given, opens the page in that browser (never past the link's expiry).</summary>
    public static readonly TimeSpan UnlockLifetime = TimeSpan.FromHours(12);

    private const int TokenBytes = 32;
    private static readonly int TokenLength = Base64Url.GetEncodedLength(TokenBytes);

    private readonly IDataProtector _tokens = protection.CreateProtector("FentaWeb.ShareLinks.Token.v1");

    /// <summary>Its own key, not the access tokens' signing key itself: a cookie MAC can never pass as a token signature.</summary>
    private readonly byte[] _cookieKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, options.JwtSigningKey, 32, info: "FentaWeb share-link unlock cookie"u8.ToArray());

    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));

    /// <summary>Only what <see cref="NewToken"/> makes can be a token: anything else is unknown without asking the database.</summary>
    public static bool IsWellFormed(string? token) => token is not null && token.Length == TokenLength && Base64Url.IsValid(token);

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(token)));

    public string Protect(string token) => _tokens.Protect(token);

    public string Unprotect(string payload) => _tokens.Unprotect(payload);

    /// <summary>The public page's address: on FENTA_PUBLIC_URL, which is the API's own host (it serves <c>/s/…</c>).</summary>
    public Uri PageUrl(string token, string? suffix = null) => new(options.PublicUrl, $"s/{token}{suffix}");

    /// <summary>The unlock cookie's value for this link: its expiry (Unix seconds) and the MAC over it.</summary>
    public string UnlockValue(ShareLink link, DateTimeOffset expires)
    {
        var seconds = expires.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"{seconds}.{Base64Url.EncodeToString(Mac(link, seconds))}";
    }

    /// <summary>Whether <paramref name="value"/> is this link's unexpired unlock cookie (made for its current password).</summary>
    public bool IsUnlocked(ShareLink link, string? value, DateTimeOffset now)
    {
        if (value?.Split('.') is not [var seconds, var mac] || !long.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var expires)) return false;
        if (DateTimeOffset.FromUnixTimeSeconds(Math.Min(expires, DateTimeOffset.MaxValue.ToUnixTimeSeconds())) <= now) return false;
        try
        {
            return CryptographicOperations.FixedTimeEquals(Base64Url.DecodeFromChars(mac), Mac(link, seconds));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private byte[] Mac(ShareLink link, string seconds) =>
        HMACSHA256.HashData(_cookieKey, Encoding.UTF8.GetBytes($"{link.Id}\n{link.PasswordHash}\n{seconds}"));
}
