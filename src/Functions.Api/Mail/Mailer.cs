using System.Threading.Channels;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using MailKit.Net.Smtp;
using MimeKit;
using Npgsql;

namespace FentaWeb.Api.Mail;

public sealed record OutgoingMail(string To, string Subject, string Text);

/// <summary>
/// Sends the API's mails through MailKit to the configured SMTP server, after the response: a request never waits on
/// SMTP, so whether a mail went out (an account exists, the address is over its cap) does not show in response times.
/// The queue is in memory: a mail queued by an instance that stops before sending is lost, and the user asks again.
/// </summary>
public sealed partial class Mailer(FentaOptions options, NpgsqlDataSource db, TimeProvider clock, ILogger<Mailer> logger) : BackgroundService
{
    private readonly Channel<OutgoingMail> _queue = Channel.CreateBounded<OutgoingMail>(
        new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>
    /// Counts one mail to <paramref name="address"/> in this hour's window (one atomic upsert shared by every instance)
    /// and says whether it is within FENTA_MAILS_PER_ADDRESS_PER_HOUR. Callers count even when they will not send, so an
    /// address with an account and one without cost the same.
    /// </summary>
    public async Task<bool> ReserveAsync(string address, CancellationToken ct)
    {
        var sent = await MailRecords.CountSendAsync(db, address, clock.GetUtcNow(), ct);
        if (sent <= options.MailsPerAddressPerHour) return true;
        LogOverCap(logger, options.MailsPerAddressPerHour);
        return false;
    }

    public void Queue(OutgoingMail mail)
    {
        if (!_queue.Writer.TryWrite(mail)) LogQueueFull(logger, mail.Subject);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var mail in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await SendAsync(mail, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSendFailed(logger, e, mail.Subject);
            }
        }
    }

    private async Task SendAsync(OutgoingMail mail, CancellationToken ct)
    {
        if (options.Smtp is not { } smtp)
        {
            // The body holds a bearer link, so it is never logged, not even here.
            LogNotConfigured(logger, mail.Subject);
            return;
        }
        var message = new MimeMessage { Subject = mail.Subject, Body = new TextPart("plain") { Text = mail.Text } };
        message.From.Add(MailboxAddress.Parse(smtp.From));
        message.To.Add(MailboxAddress.Parse(mail.To));
        using var client = new SmtpClient();
        await client.ConnectAsync(smtp.Host, smtp.Port, smtp.Security, ct);
        if (smtp.Username is not null) await client.AuthenticateAsync(smtp.Username, smtp.Password ?? "", ct);
        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
        LogSent(logger, mail.Subject);
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Mail sent: {Subject}")]
    private static partial void LogSent(ILogger logger, string subject);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Mail not sent, FENTA_SMTP_HOST is not set: {Subject}")]
    private static partial void LogNotConfigured(ILogger logger, string subject);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Mail could not be sent: {Subject}")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string subject);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Mail not sent: the address already had {Cap} mails this hour")]
    private static partial void LogOverCap(ILogger logger, int cap);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Mail dropped, the send queue is full: {Subject}")]
    private static partial void LogQueueFull(ILogger logger, string subject);
}
