using System.Security.Cryptography;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Identity;

public enum EmailTokenPurpose
{
    VerifyEmail,
    PasswordReset,
}

/// <summary>
/// A single-use link mailed to an address: random (256 bits), stored only as its SHA-256 like API keys and refresh
/// tokens, so it is checked by one indexed lookup, used once by a conditional update, and dies with its row. The secret is
/// minted when the mail is sent (<see cref="OutboxMail"/>), so the link has no working secret until then.
/// </summary>
public sealed class EmailToken
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public EmailTokenPurpose Purpose { get; init; }
    public required string Email { get; init; }
    public string? TokenHash { get; private set; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? UsedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    public static EmailToken Issue(string userId, string email, EmailTokenPurpose purpose, DateTimeOffset now) => new()
    {
        Id = Ids.New("etok"),
        UserId = userId,
        Purpose = purpose,
        Email = email,
        ExpiresAt = now + EmailTokens.Lifetime(purpose),
        CreatedAt = now,
    };

    public bool IsUsableAt(DateTimeOffset now) => UsedAt is null && ExpiresAt > now;

    /// <summary>The secret for the mail being sent now; the row keeps its hash, and a secret minted before stops working.</summary>
    public string MintSecret()
    {
        var secret = EmailTokens.NewSecret(Purpose == EmailTokenPurpose.VerifyEmail ? "ev_" : "pr_");
        TokenHash = ApiKey.Hash(secret);
        return secret;
    }
}

public static class EmailTokens
{
    /// <summary>A verification link may sit in an inbox for a day; a reset link is a password, so an hour.</summary>
    public static readonly TimeSpan VerifyEmailLifetime = TimeSpan.FromHours(24);
    public static readonly TimeSpan PasswordResetLifetime = TimeSpan.FromHours(1);
    /// <summary>Invitations wait a week for someone to come back to them.</summary>
    public static readonly TimeSpan InvitationLifetime = TimeSpan.FromDays(7);

    public static TimeSpan Lifetime(EmailTokenPurpose purpose) =>
        purpose == EmailTokenPurpose.VerifyEmail ? VerifyEmailLifetime : PasswordResetLifetime;

    public static string NewSecret(string prefix) => prefix + ApiKey.Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string ToWire(EmailTokenPurpose purpose) => purpose == EmailTokenPurpose.VerifyEmail ? "verify_email" : "password_reset";

    public static EmailTokenPurpose Parse(string wire) => wire == "verify_email" ? EmailTokenPurpose.VerifyEmail : EmailTokenPurpose.PasswordReset;
}
