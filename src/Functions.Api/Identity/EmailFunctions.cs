using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

public sealed record TokenRequest(string? Token);
public sealed record MailQueuedResponse(string Message);

/// <summary>
/// Proving that the caller owns their account's address: a link with a random token is mailed to it (24 h, single use).
/// Invitations are accepted only by a verified owner of the invited address.
/// </summary>
[Tags("Auth")]
public sealed class EmailFunctions(FentaDb db, EmailLinks links, TimeProvider clock)
{
    [Function(nameof(SendEmailVerification)), Access(SessionOnly = true), EndpointSummary("Mail a new verification link to the signed-in user's address.")]
    public async Task<Accepted<MailQueuedResponse>> SendEmailVerification(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/verify-email/send")] HttpRequest request, Caller caller, CancellationToken ct)
    {
        var user = await db.Users.SingleAsync(u => u.Id == caller.UserId, ct);
        if (user.EmailVerifiedAt is not null) throw new ConflictException("EMAIL_ALREADY_VERIFIED", $"{user.Email} is already verified.");
        await links.SendVerificationAsync(user, ct);
        return TypedResults.Accepted((string?)null, new MailQueuedResponse($"A verification link is on its way to {user.Email} (valid 24 hours)."));
    }

    [Function(nameof(VerifyEmail)), Anonymous, EndpointSummary("Confirm the address with the token from the mailed link.")]
    public async Task<Ok<UserDto>> VerifyEmail([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/auth/verify-email")] HttpRequest request,
        [FromBody] TokenRequest body, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var user = await links.RedeemAsync(body.Token, EmailTokenPurpose.VerifyEmail, now, ct);
        user.EmailVerifiedAt ??= now;
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(UserDto.From(user));
    }
}
