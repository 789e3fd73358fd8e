using FentaWeb.Api.Hosting;
using FentaWeb.Api.Mail;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

public sealed record PasswordResetRequest(string? Email);
public sealed record PasswordResetConfirmRequest(string? Token, string? NewPassword);

/// <summary>
/// Password reset by a link mailed to the account's address (1 h, single use). Asking answers the same whether or not
/// the address has an account. Confirming proves the mailbox, so it ends every credential issued before it: sessions
/// (refresh tokens now, access tokens by <see cref="User.CredentialsValidAfter"/>) and the user's API keys in every org,
/// whoever minted them (someone who registered the address before its owner, or stole the password); the owner gets a
/// mail naming what was revoked. The answer stays 204, as documented and as the client libraries expect.
/// </summary>
[Tags("Auth")]
public sealed class PasswordResetFunctions(FentaDb db, Mailer mailer, EmailLinks links, TimeProvider clock)
{
    [Function(nameof(RequestPasswordReset)), Anonymous, EndpointSummary("Mail a password-reset link; the answer is the same whether or not the account exists.")]
    public async Task<Accepted<MailQueuedResponse>> RequestPasswordReset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/password-reset")] HttpRequest request, [FromBody] PasswordResetRequest body,
        CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Email) || body.Email.Length > 254 || !body.Email.Contains('@')) throw new ValidationFailedException("email", "must be a valid email address");
        var email = User.NormalizeEmail(body.Email);
        // Counted before looking the account up, so a known and an unknown address take the same path to here.
        var allowed = await mailer.ReserveAsync(email, ct);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == email, ct);
        if (allowed && user is { IsActive: true }) await links.SendAsync(user, EmailTokenPurpose.PasswordReset, ct);
        return TypedResults.Accepted((string?)null, new MailQueuedResponse($"If {email} has an account, a reset link is on its way (valid 1 hour)."));
    }

    [Function(nameof(ConfirmPasswordReset)), Anonymous,
     EndpointSummary("Set a new password with the mailed token; every session and API key of the account issued before ends, and a mail lists them.")]
    public async Task<NoContent> ConfirmPasswordReset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/password-reset/confirm")] HttpRequest request,
        [FromBody] PasswordResetConfirmRequest body, CancellationToken ct)
    {
        if (body.NewPassword is null || body.NewPassword.Length is < 10 or > 200) throw new ValidationFailedException("new_password", "must be 10-200 characters");
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var user = await links.RedeemAsync(body.Token, EmailTokenPurpose.PasswordReset, now, ct);
        user.ResetPassword(body.NewPassword, now);
        // Not counted against the address's hourly cap: only a mailed (capped) reset link leads here, and this one must arrive.
        db.MailOutbox.Add(OutboxMail.Notice(OutboxMailKind.CredentialsRevoked, user, now));
        await db.SaveChangesAsync(ct);
        await RevokeCredentialsAsync(user, now, ct);
        await tx.CommitAsync(ct);
        mailer.Wake();
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Whoever had the old password may have signed in with it or minted keys: every refresh token, every API key that still
    /// works (in every org) and every other reset link dies, stamped with the reset's instant so its mail can list them.
    /// </summary>
    private async Task RevokeCredentialsAsync(User user, DateTimeOffset now, CancellationToken ct)
    {
        var at = user.CredentialsValidAfter!.Value;
        await db.RefreshTokens.Where(t => t.UserId == user.Id && t.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, at), ct);
        await db.ApiKeys.Where(k => k.UserId == user.Id && k.RevokedAt == null && (k.ExpiresAt == null || k.ExpiresAt > now))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, at), ct);
        await db.EmailTokens.Where(t => t.UserId == user.Id && t.Purpose == EmailTokenPurpose.PasswordReset && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct);
    }
}
