using MailKit.Net.Smtp;
using MimeKit;

namespace FentaWeb.Integrations.Smtp;

/// <summary>Sends one plain-text mail through the configured SMTP server (MailKit): a connection per mail, as the outbox sends few.</summary>
public static class SmtpSender
{
    public static async Task SendAsync(SmtpOptions smtp, string to, string subject, string text, CancellationToken ct)
    {
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = text } };
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(MailboxAddress.Parse(to));
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.Security, ct);
        if (smtp.Username is not null) await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", ct);
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }
}
