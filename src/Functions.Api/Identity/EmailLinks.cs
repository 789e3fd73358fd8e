using FentaWeb.Api.Mail;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

/// <summary>Issues the single-use links of <see cref="EmailToken"/> by mail and redeems them.</summary>
public sealed class EmailVerification(FentaDb db, Mailer mailer, Mails mails, TimeProvider clock)
{
    /// <summary>Mails a verification link to the account's address (within the address's hourly cap).</summary>
    public async Task SendAsync(User user, CancellationToken ct)
    {
        if (!await mailer.ReserveAsync(user.Email, ct)) return;
        var (token, secret) = EmailToken.Issue(user.Id, user.Email, EmailTokenPurpose.VerifyEmail, clock.GetUtcNow());
        db.EmailTokens.Add(token);
        await db.SaveChangesAsync(ct);
        mailer.Queue(mails.VerifyEmail(user.Email, secret));
    }

    /// <summary>
    /// The token's row, marked used by this call, or a 400 naming <c>token</c>. The conditional update makes two
    /// concurrent redemptions of one link end with one winner.
    /// </summary>
    public static async Task<EmailToken> RedeemAsync(FentaDb db, string? secret, EmailTokenPurpose purpose, DateTimeOffset now, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(secret)) throw new ValidationFailedException("token", "is required");
        var hash = ApiKey.Hash(secret);
        var token = await db.EmailTokens.SingleOrDefaultAsync(t => t.TokenHash == hash && t.Purpose == purpose, ct);
        var won = token is not null && token.UsedAt is null && token.ExpiresAt > now &&
                  await db.EmailTokens.Where(t => t.Id == token.Id && t.UsedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.UsedAt, now), ct) == 1;
        return won ? token! : throw new ValidationFailedException("token", "is unknown, already used or expired; ask for a new link");
    }
}
