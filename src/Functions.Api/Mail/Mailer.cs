using System.Threading.Channels;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Identity;
using FentaWeb.Domain.Identity;
using FentaWeb.Integrations.Smtp;
using Npgsql;

namespace FentaWeb.Api.Mail;

public sealed record OutgoingMail(string To, string Subject, string Text);

/// <summary>
/// Sends the mails of the outbox (<see cref="OutboxMail"/>) through MailKit to the configured SMTP server, after the
/// response: a request never waits on SMTP, so whether a mail went out (an account exists, the address is over its cap)
/// does not show in response times. A request that saves a mail wakes this instance's sender; every instance also looks
/// for due mails every few seconds, which sends what a stopped instance left and retries what failed.
/// </summary>
public sealed partial class Mailer(
    FentaOptions options, NpgsqlDataSource db, IServiceScopeFactory scopes, TimeProvider clock, ILogger<Mailer> logger) : BackgroundService
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);
    private const int BatchSize = 20;
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

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

    /// <summary>Tells this instance's sender that a mail was saved to the outbox, so it goes out now rather than at the next look.</summary>
    public void Wake() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await SendDueAsync(stoppingToken) == BatchSize) { }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogOutboxFailed(logger, e);
            }
            using var poll = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            poll.CancelAfter(PollInterval);
            try
            {
                await _wake.Reader.ReadAsync(poll.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Sends one batch of due mails; returns how many it took.</summary>
    private async Task<int> SendDueAsync(CancellationToken ct)
    {
        var due = await MailOutbox.ClaimDueAsync(db, clock.GetUtcNow(), BatchSize, ct);
        foreach (var mail in due) await SendAsync(mail, ct);
        return due.Count;
    }

    private async Task SendAsync(OutboxMail mail, CancellationToken ct)
    {
        if (options.Smtp is not { } smtp)
        {
            LogNotConfigured(logger, mail.Id);
            await MailOutbox.RemoveAsync(db, mail.Id, ct);
            return;
        }
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            // The link's secret is minted here, so the mail is composed only now; null when its link is no longer wanted.
            if (await scope.ServiceProvider.GetRequiredService<EmailLinks>().ComposeAsync(mail, ct) is { } outgoing)
            {
                await SmtpSender.SendAsync(smtp, outgoing.To, outgoing.Subject, outgoing.Text, ct);
                LogSent(logger, outgoing.Subject, mail.Attempts);
            }
            await MailOutbox.RemoveAsync(db, mail.Id, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (mail.IsLastAttempt)
            {
                LogGaveUp(logger, e, mail.Id, mail.Attempts);
                await MailOutbox.RemoveAsync(db, mail.Id, ct);
                return;
            }
            LogSendFailed(logger, e, mail.Id, mail.Attempts, mail.RetryDelay.TotalSeconds);
            // The message only: an SMTP error names the server and its reply, never the mail's body.
            await MailOutbox.RetryLaterAsync(db, mail, clock.GetUtcNow(), e.Message, ct);
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Mail sent: {Subject} (attempt {Attempt})")]
    private static partial void LogSent(ILogger logger, string subject, int attempt);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Mail {MailId} dropped, FENTA_SMTP_HOST is not set")]
    private static partial void LogNotConfigured(ILogger logger, string mailId);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Mail {MailId} could not be sent (attempt {Attempt}); trying again in {RetrySeconds} s")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string mailId, int attempt, double retrySeconds);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Mail not sent: the address already had {Cap} mails this hour")]
    private static partial void LogOverCap(ILogger logger, int cap);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Mail {MailId} dropped after {Attempts} failed attempts")]
    private static partial void LogGaveUp(ILogger logger, Exception exception, string mailId, int attempts);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The mail outbox could not be read; looking again shortly")]
    private static partial void LogOutboxFailed(ILogger logger, Exception exception);
}
