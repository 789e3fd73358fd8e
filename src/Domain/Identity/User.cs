using FentaWeb.Domain.Common;
namespace FentaWeb.Domain.Identity;

public sealed class User : IHasId
{
    public required string Id { get; init; }
    public required string Email { get; set; }
    /// <summary>When the owner of <see cref="Email"/> followed a verification link; keys, invitations and paid plans need it.</summary>
    public DateTimeOffset? EmailVerifiedAt { get; set; }
    /// <summary>
    /// The last password reset: every credential of the account issued before it (access and refresh tokens, API keys)
    /// is dead. Null when the password was never reset.
    /// </summary>
    public DateTimeOffset? CredentialsValidAfter { get; private set; }
    public required string PasswordHash { get; set; }
    public required string Name { get; set; }
    public string? AvatarUrl { get; set; }
    public string Status { get; set; } = "active";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }

    public bool IsActive => Status == "active" && DeletedAt is null;

    public bool EmailVerified => EmailVerifiedAt is not null;

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();

    /// <summary>
    /// A reset with a link mailed to <see cref="Email"/>: the inbox is proven, so the address counts as verified, and whoever
    /// held the old password (a squatter who registered the address, a thief) loses every credential issued before now.
    /// </summary>
    public void ResetPassword(string password, DateTimeOffset now)
    {
        PasswordHash = PasswordHasher.Hash(password);
        EmailVerifiedAt ??= now;
        // Whole milliseconds, as access tokens carry their issue time: a sign-in in the reset's own millisecond counts.
        CredentialsValidAfter = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
        UpdatedAt = now;
    }

    /// <summary>Whether a credential issued at <paramref name="issuedAt"/> predates the last password reset.</summary>
    public static bool IssuedBeforeReset(DateTimeOffset issuedAt, DateTimeOffset? credentialsValidAfter) =>
        credentialsValidAfter is { } reset && issuedAt < reset;
}

public sealed class Org : IHasId
{
    public required string Id { get; init; }
    public required string Name { get; set; }
    public required string Slug { get; set; }
    public required string OwnerId { get; set; }
    public string Plan { get; set; } = "free";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; set; }
}

public sealed class OrgMember : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string UserId { get; init; }
    public OrgRole Role { get; set; }
    public string? InvitedBy { get; init; }
    public DateTimeOffset JoinedAt { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    public User? User { get; init; }
}

public sealed class OrgInvitation : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string Email { get; init; }
    public OrgRole Role { get; set; }
    public string? InvitedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? AcceptedAt { get; set; }
    /// <summary>SHA-256 of the secret mailed to <see cref="Email"/> (none until the mail goes out); the secret itself is never stored.</summary>
    public string? TokenHash { get; private set; }
    public DateTimeOffset ExpiresAt { get; set; }

    public bool IsPendingAt(DateTimeOffset now) => AcceptedAt is null && ExpiresAt > now;

    /// <summary>A week-long invitation; its secret is minted when its mail is sent (<see cref="OutboxMail"/>).</summary>
    public static OrgInvitation Issue(string orgId, string email, OrgRole role, string invitedBy, DateTimeOffset now) => new()
    {
        Id = Ids.New("invite"), OrgId = orgId, Email = email, Role = role, InvitedBy = invitedBy, CreatedAt = now,
        ExpiresAt = now + EmailTokens.InvitationLifetime,
    };

    /// <summary>The secret for the mail being sent now; the row keeps its hash, and a secret minted before stops working.</summary>
    public string MintSecret()
    {
        var secret = EmailTokens.NewSecret("inv_");
        TokenHash = ApiKey.Hash(secret);
        return secret;
    }
}
