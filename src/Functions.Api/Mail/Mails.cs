using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Mail;

/// <summary>
/// The API's mails. Links are built from FENTA_PUBLIC_URL only, never from the request's Host or X-Forwarded-Host, so a
/// forged header cannot send a user's token to someone else's site.
/// </summary>
public sealed class Mails(FentaOptions options)
{
    /// <summary>What a password reset revoked, so the owner learns of credentials someone else held (a squatter, a thief).</summary>
    public OutgoingMail CredentialsRevoked(string to, DateTimeOffset at, int sessions, IReadOnlyList<RevokedKey> keys) =>
        new(to, "Your FentaWeb password was reset: what we revoked", $"""
        The password of the FentaWeb account of this address was reset at {at:yyyy-MM-dd HH:mm:ss} UTC with a link mailed
        here. Everything issued before the reset stopped working, whoever held it:

        - {Count(sessions, "signed-in session")} ended (their access and refresh tokens no longer work);
        - {Count(keys.Count, "API key")} revoked{KeyList(keys)}

        If a key above was yours, sign in and create a new one (POST /v1/api-keys). If you did not reset your password,
        ask for a new reset link now: POST /v1/auth/password-reset {JsonField("email", to)}
        """);

    /// <summary>Registering a taken address is refused (409); its owner hears of the attempt.</summary>
    public OutgoingMail RegistrationAttempt(string to) => new(to, "Someone tried to create a FentaWeb account with your address", $"""
        Someone tried to create a FentaWeb account with this address, which already has one. Nothing changed: no account
        was created and your password is the same.

        If it was you, sign in instead; if you forgot your password, ask for a reset link:
        POST /v1/auth/password-reset {JsonField("email", to)}
        If it was not you, ignore this mail.
        """);

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

    private static string JsonField(string name, string value) => $"{{\"{name}\": \"{value}\"}}";

    private static string KeyList(IReadOnlyList<RevokedKey> keys) => keys.Count == 0 ? "." : ":" + string.Concat(keys.Select(k =>
        $"\n  - \"{k.Name}\" ({k.Prefix}…) in {k.OrgName}, created {k.CreatedAt:yyyy-MM-dd HH:mm} UTC"));

    private static string Count(int n, string what) => $"{n} {what}{(n == 1 ? "" : "s")}";
}

/// <summary>An API key as a revocation notice names it: never its secret, only the prefix its owner can recognise.</summary>
public sealed record RevokedKey(string Name, string Prefix, string OrgName, DateTimeOffset CreatedAt);
