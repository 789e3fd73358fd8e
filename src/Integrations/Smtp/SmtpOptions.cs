using MailKit.Security;

namespace FentaWeb.Integrations.Smtp;

/// <summary>The SMTP server every mail goes through (FENTA_SMTP_*); without FENTA_SMTP_HOST no mail is sent.</summary>
public sealed record SmtpOptions(string Host, int Port, string? Username, string? Password, string From, SecureSocketOptions Security)
{
    public static SmtpOptions? FromSettings(Func<string, string?> setting)
    {
        if (setting("FENTA_SMTP_HOST") is not { Length: > 0 } host) return null;
        var from = setting("FENTA_SMTP_FROM") is { Length: > 0 } address ? address
            : throw new InvalidOperationException("FENTA_SMTP_FROM must name the sender (e.g. FentaWeb <no-reply@example.com>) when FENTA_SMTP_HOST is set.");
        var security = (setting("FENTA_SMTP_TLS") ?? "starttls").ToLowerInvariant() switch
        {
            "starttls" => SecureSocketOptions.StartTls,
            "tls" => SecureSocketOptions.SslOnConnect,
            // Only for a catcher on loopback (MailDev): credentials and links would cross the network in the clear.
            "none" => SecureSocketOptions.None,
            var other => throw new InvalidOperationException($"FENTA_SMTP_TLS must be starttls, tls or none, not '{other}'."),
        };
        var port = setting("FENTA_SMTP_PORT") is { Length: > 0 } text
            ? int.TryParse(text, out var value) && value is > 0 and < 65536 ? value : throw new InvalidOperationException($"FENTA_SMTP_PORT must be a port number, not '{text}'.")
            : security == SecureSocketOptions.SslOnConnect ? 465 : 587;
        return new SmtpOptions(host, port, setting("FENTA_SMTP_USERNAME") is { Length: > 0 } user ? user : null, setting("FENTA_SMTP_PASSWORD"), from, security);
    }
}
