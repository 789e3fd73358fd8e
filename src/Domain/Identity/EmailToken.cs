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
/// tokens, so it is checked by one indexed lookup, used once by a conditional update, and dies with its row.
/// </summary>
public sealed class EmailToken
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public EmailTokenPurpose Purpose { get; init; }
    public required string Email { get; init; }
    public required string TokenHash { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? UsedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    public static (EmailToken Token, string Secret) Issue(string userId, string email, EmailTokenPurpose purpose, DateTimeOffset now)
    {
        var secret = EmailTokens.NewSecret(purpose == EmailTokenPurpose.VerifyEmail ? "ev_" : "pr_");
        return (new EmailToken
        {
            Id = Ids.New("etok"),
            UserId = userId,
            Purpose = purpose,
            Email = email,
            TokenHash = ApiKey.Hash(secret),
            ExpiresAt = now + EmailTokens.Lifetime(purpose),
            CreatedAt = now,
        }, secret);
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
