using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Mail;

/// <summary>
/// The API's mails. Links are built from FENTA_PUBLIC_URL only, never from the request's Host or X-Forwarded-Host, so a
/// forged header cannot send a user's token to someone else's site.
/// </summary>
public sealed class Mails(FentaOptions options)
{
    public OutgoingMail VerifyEmail(string to, string token) => new(to, "Confirm your email address for FentaWeb", $"""
        Confirm that this address is yours by opening this link within {EmailTokens.VerifyEmailLifetime.TotalHours:0} hours:

        {Link("verify-email", token)}

        Or send it to the API yourself: POST /v1/auth/verify-email {Json(token)}
        If you did not create a FentaWeb account, ignore this mail.
        """);

    public OutgoingMail PasswordReset(string to, string token) => new(to, "Reset your FentaWeb password", $"""
        Someone (we hope you) asked to reset the password of the FentaWeb account of this address. Open this link within
        {EmailTokens.PasswordResetLifetime.TotalMinutes:0} minutes to choose a new one; every signed-in session ends when you do:

        {Link("reset-password", token)}

        Or send it to the API yourself: POST /v1/auth/password-reset/confirm {Json(token, ", \"new_password\": \"…\"")}
        If you did not ask, ignore this mail: your password stays as it is.
        """);

    public OutgoingMail Invitation(string to, string orgName, string inviterName, string role, string token) =>
        new(to, $"{inviterName} invited you to {orgName} on FentaWeb", $"""
        {inviterName} invited this address to join {orgName} on FentaWeb as {role}. Sign in (or create an account) with this
        address, confirm the address, then accept within {EmailTokens.InvitationLifetime.TotalDays:0} days:

        {Link("accept-invitation", token)}

        Or send it to the API yourself: POST /v1/invitations/{token}/accept (signed in as this address).
        """);

    private string Link(string page, string token) => new Uri(options.PublicUrl, $"{page}?token={Uri.EscapeDataString(token)}").ToString();

    private static string Json(string token, string more = "") => $"{{\"token\": \"{token}\"{more}}}";
}
