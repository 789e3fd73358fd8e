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
/// the address has an account; confirming ends every session of the account.
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

    [Function(nameof(ConfirmPasswordReset)), Anonymous, EndpointSummary("Set a new password with the mailed token; every session of the account ends.")]
    public async Task<NoContent> ConfirmPasswordReset(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/password-reset/confirm")] HttpRequest request,
        [FromBody] PasswordResetConfirmRequest body, CancellationToken ct)
    {
        if (body.NewPassword is null || body.NewPassword.Length is < 10 or > 200) throw new ValidationFailedException("new_password", "must be 10-200 characters");
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var user = await links.RedeemAsync(body.Token, EmailTokenPurpose.PasswordReset, now, ct);
        SetPassword(user, body.NewPassword, now);
        await db.SaveChangesAsync(ct);
        await EndSessionsAsync(user.Id, now, ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static void SetPassword(User user, string password, DateTimeOffset now)
    {
        user.PasswordHash = PasswordHasher.Hash(password);
        // The link reached the inbox, which is what verifying the address proves.
        user.EmailVerifiedAt ??= now;
        user.UpdatedAt = now;
    }

    /// <summary>Whoever had the old password may have signed in with it: every refresh token and other reset link dies.</summary>
    private async Task EndSessionsAsync(string userId, DateTimeOffset now, CancellationToken ct)
    {
        await db.RefreshTokens.Where(t => t.UserId == userId && t.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        await db.EmailTokens.Where(t => t.UserId == userId && t.Purpose == EmailTokenPurpose.PasswordReset && t.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct);
    }
}
