using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

// MimeKit brings BouncyCastle, whose root namespace is also called Org; inside the namespace this alias wins.
using Org = FentaWeb.Domain.Identity.Org;

/// <summary>
/// Creating a user: the account and their personal org (as owner). Registering an address proves nothing about owning it,
/// so invitations to it wait until the owner verifies the address and accepts them (<see cref="InvitationFunctions"/>).
/// </summary>
public static partial class Accounts
{
    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex NonSlug();

    public static async Task<(User User, Org Org)> CreateAsync(FentaDb db, string email, string name, string password, DateTimeOffset now, CancellationToken ct)
    {
        email = User.NormalizeEmail(email);
        if (await db.Users.AnyAsync(u => u.Email == email, ct)) throw EmailTaken();

        var user = new User { Id = Ids.New("user"), Email = email, Name = name.Trim(), PasswordHash = PasswordHasher.Hash(password), CreatedAt = now, UpdatedAt = now };
        var slugBase = NonSlug().Replace(user.Name.ToLowerInvariant(), "-").Trim('-');
        var org = new Org
        {
            Id = Ids.New("org"),
            Name = $"{user.Name}'s workspace",
            Slug = $"{(slugBase.Length == 0 ? "org" : slugBase[..Math.Min(slugBase.Length, 40)])}-{user.Id[^8..]}",
            OwnerId = user.Id,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Users.Add(user);
        db.Orgs.Add(org);
        db.OrgMembers.Add(NewMember(org.Id, user.Id, OrgRole.Owner, null, now));
        return (user, org);
    }

    /// <summary>The account that holds <paramref name="email"/>, if any.</summary>
    public static Task<User?> HolderOfAsync(FentaDb db, string email, CancellationToken ct)
    {
        var normalized = User.NormalizeEmail(email);
        return db.Users.SingleOrDefaultAsync(u => u.Email == normalized, ct);
    }

    public static ConflictException EmailTaken() => new("EMAIL_TAKEN", "An account with this email already exists; sign in, or reset its password.");

    public static OrgMember NewMember(string orgId, string userId, OrgRole role, string? invitedBy, DateTimeOffset now) => new()
    {
        Id = Ids.New("member"),
        OrgId = orgId,
        UserId = userId,
        Role = role,
        InvitedBy = invitedBy,
        JoinedAt = now,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>Email, name and password rules for registration, every problem at once.</summary>
    public static void Validate(string? email, string? name, string? password)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(email) || email.Length > 254 || !email.Contains('@') || email.Trim().Contains(' '))
            errors.Add("email", "must be a valid email address");
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > 100) errors.Add("name", "must be 1-100 characters");
        if (password is null || password.Length < 10 || password.Length > 200) errors.Add("password", "must be 10-200 characters");
        errors.ThrowIfAny();
    }
}
