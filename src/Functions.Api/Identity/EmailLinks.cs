using FentaWeb.Api.Mail;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

/// <summary>
/// Issues the single-use links of <see cref="EmailToken"/> (address verification, password reset) by mail and redeems them,
/// and composes every mail when the outbox sends it: links (invitations too) and the notices about an account.
/// </summary>
public sealed class EmailLinks(FentaDb db, Mailer mailer, Mails mails, TimeProvider clock)
{
    /// <summary>Mails a verification link to the account's address (within the address's hourly cap).</summary>
    public async Task SendVerificationAsync(User user, CancellationToken ct)
    {
        if (await mailer.ReserveAsync(user.Email, ct)) await SendAsync(user, EmailTokenPurpose.VerifyEmail, ct);
    }

    /// <summary>Mails a link of <paramref name="purpose"/> to the account's address; the caller has counted it against the cap.</summary>
    public async Task SendAsync(User user, EmailTokenPurpose purpose, CancellationToken ct)
    {
        var token = EmailToken.Issue(user.Id, user.Email, purpose, clock.GetUtcNow());
        db.EmailTokens.Add(token);
        db.MailOutbox.Add(OutboxMail.Of(token));
        await db.SaveChangesAsync(ct);
        mailer.Wake();
    }

    /// <summary>
    /// Mails the account's owner a notice about the account (within the address's hourly cap, as anyone can cause one: an
    /// attempt to register the address).
    /// </summary>
    public async Task SendNoticeAsync(User user, OutboxMailKind kind, CancellationToken ct)
    {
        if (!await mailer.ReserveAsync(user.Email, ct)) return;
        db.MailOutbox.Add(OutboxMail.Notice(kind, user, clock.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        mailer.Wake();
    }

    /// <summary>
    /// The mail of an outbox entry, its link's secret minted now (saved as a hash, replacing any minted by an earlier
    /// attempt), or null when the link is no longer wanted: used, expired, accepted, cancelled.
    /// </summary>
    public Task<OutgoingMail?> ComposeAsync(OutboxMail mail, CancellationToken ct) => mail.Kind switch
    {
        OutboxMailKind.EmailToken => ComposeLinkAsync(mail.SubjectId, clock.GetUtcNow(), ct),
        OutboxMailKind.Invitation => ComposeInvitationAsync(mail.SubjectId, clock.GetUtcNow(), ct),
        OutboxMailKind.CredentialsRevoked => ComposeRevocationAsync(mail.SubjectId, ct),
        _ => ComposeRegistrationAttemptAsync(mail.SubjectId, ct),
    };

    /// <summary>What the user's last password reset revoked: read back by its instant, so the outbox row names only the user.</summary>
    private async Task<OutgoingMail?> ComposeRevocationAsync(string userId, CancellationToken ct)
    {
        if (await db.Users.FindAsync([userId], ct) is not { CredentialsValidAfter: { } at } user) return null;
        var keys = await db.ApiKeys.Where(k => k.UserId == userId && k.RevokedAt == at).OrderBy(k => k.CreatedAt)
            .Join(db.Orgs, k => k.OrgId, o => o.Id, (k, o) => new RevokedKey(k.Name, k.KeyPrefix, o.Name, k.CreatedAt))
            .ToListAsync(ct);
        // A login is a family of refresh tokens; one whose latest token could still be redeemed was live when the reset ended it.
        var sessions = await db.RefreshTokens.Where(t => t.UserId == userId && t.RevokedAt == at && t.RotatedAt == null && t.ExpiresAt > at)
            .Select(t => t.FamilyId).Distinct().CountAsync(ct);
        return mails.CredentialsRevoked(user.Email, at, sessions, keys);
    }

    private async Task<OutgoingMail?> ComposeRegistrationAttemptAsync(string userId, CancellationToken ct) =>
        await db.Users.FindAsync([userId], ct) is { } user ? mails.RegistrationAttempt(user.Email) : null;

    private async Task<OutgoingMail?> ComposeLinkAsync(string tokenId, DateTimeOffset now, CancellationToken ct)
    {
        if (await db.EmailTokens.FindAsync([tokenId], ct) is not { } token || !token.IsUsableAt(now)) return null;
        var secret = token.MintSecret();
        await db.SaveChangesAsync(ct);
        return token.Purpose == EmailTokenPurpose.VerifyEmail ? mails.VerifyEmail(token.Email, secret) : mails.PasswordReset(token.Email, secret);
    }

    private async Task<OutgoingMail?> ComposeInvitationAsync(string invitationId, DateTimeOffset now, CancellationToken ct)
    {
        if (await db.OrgInvitations.FindAsync([invitationId], ct) is not { } invitation || !invitation.IsPendingAt(now)) return null;
        var org = await db.Orgs.SingleAsync(o => o.Id == invitation.OrgId, ct);
        var inviter = await db.Users.Where(u => u.Id == invitation.InvitedBy).Select(u => u.Name).SingleOrDefaultAsync(ct);
        var secret = invitation.MintSecret();
        await db.SaveChangesAsync(ct);
        return mails.Invitation(invitation.Email, org.Name, inviter ?? $"A member of {org.Name}", invitation.Role.ToWire(), secret);
    }

    /// <summary>
    /// The account the token was mailed to, its token marked used by this call, or a 400 naming <c>token</c>. The
    /// conditional update makes two concurrent redemptions of one link end with one winner, and a link proves only the
    /// address it was mailed to, so it is refused once the account's address is another.
    /// </summary>
    public async Task<User> RedeemAsync(string? secret, EmailTokenPurpose purpose, DateTimeOffset now, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(secret)) throw new ValidationFailedException("token", "is required");
        var hash = ApiKey.Hash(secret);
        var token = await db.EmailTokens.SingleOrDefaultAsync(t => t.TokenHash == hash && t.Purpose == purpose, ct);
        var won = token is not null && token.UsedAt is null && token.ExpiresAt > now &&
                  await db.EmailTokens.Where(t => t.Id == token.Id && t.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct) == 1;
        if (!won) throw new ValidationFailedException("token", "is unknown, already used or expired; ask for a new link");
        var user = await db.Users.SingleAsync(u => u.Id == token!.UserId, ct);
        return user.Email == token!.Email ? user : throw new ValidationFailedException("token", "was sent to an address this account no longer has");
    }
}
