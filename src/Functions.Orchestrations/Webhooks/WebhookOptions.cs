using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FentaWeb.Domain.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly;

namespace FentaWeb.Orchestrations.Webhooks;

/// <summary>Settings of webhook delivery, from <c>FENTA_WEBHOOK_*</c> environment variables (docs/configuration.md lists them).</summary>
public sealed record WebhookOptions(TimeSpan Timeout, TimeSpan FirstRetry, int MaxAttempts, bool AllowPrivateNetworks, int DisableAfterFailures = 20)
{
    /// <summary>
    /// How long a handed-over delivery may go without its due attempt before the dispatcher asks the task hub whether its
    /// orchestration is still there to make it. Only a question: a live orchestration is left alone, so this bounds how
    /// late a lost delivery is noticed, not how long an attempt may take.
    /// </summary>
    public TimeSpan RedispatchAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>No wait between retries grows past this.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromHours(6);

    /// <summary>How often the dispatch timer hands new deliveries to orchestrations, unless FENTA_WEBHOOK_SCHEDULE says otherwise.</summary>
    public const string DefaultSchedule = "*/5 * * * * *";

    public static WebhookOptions FromConfiguration(IConfiguration config)
    {
        double Number(string key, double fallback) => config[key] is { Length: > 0 } text
            ? double.TryParse(text, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new InvalidOperationException($"{key} must be a number, not '{text}'.")
            : fallback;
        return new WebhookOptions(TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_TIMEOUT_SECONDS", 10)), TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_RETRY_SECONDS", 30)),
            Math.Clamp((int)Number("FENTA_WEBHOOK_MAX_ATTEMPTS", 10), 1, 100), SpecialPurposeAddresses.AllowedFromSettings(key => config[key]),
            (int)Number("FENTA_WEBHOOK_DISABLE_AFTER_FAILURES", 20))
        {
            RedispatchAfter = TimeSpan.FromSeconds(Number("FENTA_WEBHOOK_REDISPATCH_SECONDS", 60)),
        };
    }

    /// <summary>30 s, 90 s, 4.5 min … (by default) growing threefold to at most six hours, ±10 % so retries of one outage spread out.</summary>
    public TimeSpan RetryDelay(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(FirstRetry.TotalSeconds * Math.Pow(3, attempt - 1), MaxRetryDelay.TotalSeconds) * (0.9 + Random.Shared.NextDouble() * 0.2));
}

public static class WebhookRegistration
{
    public const string HttpClientName = "webhooks";

    /// <summary>What delivering webhooks needs in either host: its settings and an HTTP client that only reaches public addresses.</summary>
    public static IServiceCollection AddWebhookDelivery(this IServiceCollection services, IConfiguration config)
    {
        var options = WebhookOptions.FromConfiguration(config);
        services.AddSingleton(options);
        services.AddHttpClient(HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false, // a redirect is an answer that is not 2xx, not a hop to somewhere else
                ConnectCallback = (context, ct) => PublicAddressGuard.ConnectAsync(context, options.AllowPrivateNetworks, ct),
            })
            // A timeout and nothing else: no retry here, since a POST to a tenant's endpoint may have been acted on and
            // delivery's retries are the orchestration's (durable, with growing waits), nor a breaker, since one tenant's
            // dead endpoint must not pause the others' deliveries. Polly takes no timeout under 10 ms.
            .AddResilienceHandler("timeout", pipeline => pipeline.AddTimeout(options.Timeout > TimeSpan.FromMilliseconds(10) ? options.Timeout : TimeSpan.FromMilliseconds(10)));
        return services;
    }
}

/// <summary>
/// Webhook URLs are written by tenants, so delivery must not become a way into our own network: every connection
/// goes to an address checked at connect time (so DNS cannot swap in a refused one after validation), and every
/// special-purpose range and every address of this machine's interfaces is refused unless explicitly allowed
/// (FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS, for local development and tests with a receiver on loopback).
/// </summary>
public static class PublicAddressGuard
{
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, bool allowPrivate, CancellationToken ct)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        var usable = allowPrivate ? addresses : addresses.Except(SpecialPurposeAddresses.Refused(addresses)).ToArray();
        if (usable.Length == 0)
            throw new HttpRequestException($"refused to connect to {host}: it resolves only to special-purpose or local addresses ({string.Join(", ", addresses.Select(a => a.ToString()))})");
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
}
