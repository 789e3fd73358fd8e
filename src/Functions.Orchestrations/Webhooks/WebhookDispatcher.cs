using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FentaWeb.Domain.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Webhooks;

/// <summary>Settings of webhook delivery, from <c>FENTA_WEBHOOK_*</c> environment variables (README lists them).</summary>
public sealed record WebhookOptions(int Concurrency, TimeSpan Poll, TimeSpan Timeout, TimeSpan FirstRetry, int MaxAttempts, bool AllowPrivateNetworks,
    int DisableAfterFailures = 20)
{
    /// <summary>No wait between retries grows past this.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(6);

    public static WebhookOptions FromConfiguration(IConfiguration config)
    {
        double Number(string key, double fallback) => config[key] is { Length: > 0 } text
            ? double.TryParse(text, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new InvalidOperationException($"{key} must be a number, not '{text}'.")
            : fallback;
        return new WebhookOptions((int)Number("FENTA_WEBHOOK_CONCURRENCY", 8), TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_POLL_SECONDS", 1)),
            TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_TIMEOUT_SECONDS", 10)), TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_RETRY_SECONDS", 30)),
            Math.Max(1, (int)Number("FENTA_WEBHOOK_MAX_ATTEMPTS", 10)), config["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] is "true" or "1",
            (int)Number("FENTA_WEBHOOK_DISABLE_AFTER_FAILURES", 20));
    }

    /// <summary>30 s, 90 s, 4.5 min … (by default) growing threefold to at most six hours, ±10 % so retries of one outage spread out.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(FirstRetry.TotalSeconds * Math.Pow(3, attempt - 1), MaxRetryDelay.TotalSeconds) * (0.9 + Random.Shared.NextDouble() * 0.2));
}

public static class WebhookRegistration
{
    public const string HttpClientName = "webhooks";

    /// <summary>Delivers webhooks from this process, unless FENTA_WEBHOOK_CONCURRENCY is 0.</summary>
    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services, IConfiguration config)
    {
        var options = WebhookOptions.FromConfiguration(config);
        if (options.Concurrency == 0) return services;
        services.AddSingleton(options);
        services.AddHttpClient(HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect is an answer that is not 2xx, not a hop to somewhere else
                ConnectCallback = (context, ct) => PublicAddressGuard.ConnectAsync(context, options.AllowPrivateNetworks, ct),
            });
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }
}

/// <summary>
/// Webhook URLs are written by tenants, so delivery must not become a way into our own network: every connection
/// goes to an address checked at connect time (so DNS cannot swap in a private one after validation), and
/// loopback, private, link-local and carrier-grade NAT ranges are refused unless explicitly allowed.
/// </summary>
public static class PublicAddressGuard
{
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var usable = addresses.Where(a => allowPrivate || !IsPrivate(a)).ToArray();
        if (usable.Length == 0)
            throw new HttpRequestException($"refused to connect to {host}: it resolves only to private or local addresses ({string.Join(", ", addresses.Select(a => a.ToString()))})");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(usable, context.DnsEndPoint.Port, ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)) return true;
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || (address.GetAddressBytes()[0] & 0xFE) == 0xFC;
        var b = address.GetAddressBytes();
        return b[0] is 0 or 10 || (b[0] == 172 && b[1] is >= 16 and < 32) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254)
               || (b[0] == 100 && b[1] is >= 64 and < 128);
    }
}

/// <summary>
/// Posts due webhook deliveries: claimed in batches under a lease (<c>FOR UPDATE SKIP LOCKED</c>, so several worker
/// processes share the work), signed, and recorded: a 2xx answer is a success; anything else, a timeout or a refused
/// connection is retried with growing waits until the attempts run out. Woken by NOTIFY from the event triggers, with a
/// poll for retries coming due. A delivery may arrive more than once (a worker dying mid-post): receivers dedupe by event id.
/// </summary>
public sealed partial class WebhookDispatcher(NpgsqlDataSource db, WebhookOptions options, IHttpClientFactory httpClients, ILogger<WebhookDispatcher> logger)
    : BackgroundService
{
    private const string Channel = "fenta_webhooks";
    private const int ResponseBodyLimit = 1024;
    private readonly string _owner = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..^20];
    private readonly SemaphoreSlim _wakeup = new(0, 1);

    private sealed record Due(string Id, string EventId, string Event, string Payload, int Attempt, string Url, string Secret);

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var listen = ListenAsync(stopping);
        while (!stopping.IsCancellationRequested)
        {
            var claimed = 0;
            try
            {
                var due = await ClaimAsync(stopping);
                claimed = due.Count;
                await Parallel.ForEachAsync(due, new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = stopping },
                    async (delivery, ct) => await DeliverAsync(delivery, ct));
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                LogDatabaseError(logger, e);
            }
            if (claimed < options.Concurrency)
                try { await _wakeup.WaitAsync(options.Poll, stopping); } catch (OperationCanceledException) { }
        }
        await listen;
    }

    private async Task<List<Due>> ClaimAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH due AS (
              SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
              WHERE d.status = 'pending' AND d.next_retry_at <= now() AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())
              ORDER BY d.next_retry_at LIMIT $2
              FOR UPDATE OF d SKIP LOCKED)
            UPDATE webhook_deliveries d
            SET lease_owner = $1, lease_expires_at = now() + $3 * interval '1 second', attempts = d.attempts + 1, last_attempt_at = now()
            FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id
            RETURNING d.id, d.event_id, d.event, d.payload::text, d.attempts, w.url, w.secret
            """);
        cmd.Parameters.Add(new() { Value = _owner });
        cmd.Parameters.Add(new() { Value = options.Concurrency });
        cmd.Parameters.Add(new() { Value = options.Timeout.TotalSeconds + 30 });
        var due = new List<Due>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            due.Add(new Due(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4), reader.GetString(5), reader.GetString(6)));
        return due;
    }

    private async Task DeliverAsync(Due delivery, CancellationToken stopping)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("User-Agent", "FentaWeb-Webhooks/1.0");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Create(delivery.Secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), delivery.Payload));
        request.Headers.TryAddWithoutValidation("Fenta-Event-Id", delivery.EventId);
        request.Headers.TryAddWithoutValidation("Fenta-Event-Type", delivery.Event);
        request.Headers.TryAddWithoutValidation("Fenta-Delivery-Id", delivery.Id);
        request.Headers.TryAddWithoutValidation("Fenta-Delivery-Attempt", delivery.Attempt.ToString(CultureInfo.InvariantCulture));

        int? status = null;
        string? body = null, error = null;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(stopping))
        {
            deadline.CancelAfter(options.Timeout);
            try
            {
                using var response = await httpClients.CreateClient(WebhookRegistration.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                status = (int)response.StatusCode;
                body = await ReadStartAsync(response, deadline.Token);
                if (!response.IsSuccessStatusCode) error = $"the endpoint answered {status}";
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                error = $"no answer within {options.Timeout.TotalSeconds:0.#} s";
            }
            catch (HttpRequestException e)
            {
                error = e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} {inner.Message}" : e.Message;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever else goes wrong with one endpoint is that delivery's failure, never the dispatcher's.
                error = $"could not post: {e.Message}";
            }
        }
        await RecordAsync(delivery, status, body, error, CancellationToken.None);
        if (error is not null) LogFailed(logger, delivery.Id, delivery.Event, delivery.Attempt, error);
    }

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[ResponseBodyLimit];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    /// <summary>
    /// Fenced by the lease: a worker whose lease ran out (and whose delivery was claimed again) records nothing. A
    /// delivery that has failed for good switches its endpoint off when the endpoint's last deliveries all failed.
    /// </summary>
    private async Task RecordAsync(Due delivery, int? status, string? body, string? error, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH recorded AS (
              UPDATE webhook_deliveries
              SET status = CASE WHEN $5::text IS NULL THEN 'success' WHEN attempts >= $6 THEN 'failed' ELSE 'pending' END,
                  next_retry_at = CASE WHEN $5::text IS NULL OR attempts >= $6 THEN next_retry_at ELSE now() + $7 * interval '1 second' END,
                  http_status = $3, response_body = $4, error = $5, lease_owner = NULL, lease_expires_at = NULL
              WHERE id = $1 AND lease_owner = $2 AND attempts = $8
              RETURNING webhook_id, status)
            UPDATE webhooks w SET enabled = false, updated_at = now(),
                   disabled_reason = format('switched off after %s failed deliveries in a row; the last: %s', $9, $5::text)
            FROM recorded r
            WHERE w.id = r.webhook_id AND r.status = 'failed' AND w.enabled AND $9 > 0
              AND (SELECT count(*) FROM (SELECT d.status FROM webhook_deliveries d WHERE d.webhook_id = r.webhook_id AND d.status <> 'pending' AND d.id <> $1
                                         ORDER BY d.id DESC LIMIT $9 - 1) earlier WHERE earlier.status = 'failed') = $9 - 1
            """);
        cmd.Parameters.Add(new() { Value = delivery.Id });
        cmd.Parameters.Add(new() { Value = _owner });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        cmd.Parameters.Add(new() { Value = (object?)body ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = options.MaxAttempts });
        cmd.Parameters.Add(new() { Value = options.RetryDelay(delivery.Attempt).TotalSeconds });
        cmd.Parameters.Add(new() { Value = delivery.Attempt });
        cmd.Parameters.Add(new() { Value = options.DisableAfterFailures });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stopping);
                conn.Notification += (_, _) =>
                {
                    try { _wakeup.Release(); } catch (SemaphoreFullException) { }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", conn)) await listen.ExecuteNonQueryAsync(stopping);
                while (!stopping.IsCancellationRequested) await conn.WaitAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or IOException)
            {
                LogDatabaseError(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} ({Event}) attempt {Attempt} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string deliveryId, string @event, int attempt, string error);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Webhook delivery round failed (database?); will retry")]
    private static partial void LogDatabaseError(ILogger logger, Exception exception);
}
