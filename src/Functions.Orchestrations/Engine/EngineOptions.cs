using FentaWeb.Domain.Workflows;
using Microsoft.Extensions.Configuration;

namespace FentaWeb.Orchestrations.Engine;

/// <summary>Settings of one worker process, from <c>FENTA_WORKER_*</c> environment variables (README lists them).</summary>
public sealed class EngineOptions
{
    /// <summary>Unique per process: leases name their owner with it.</summary>
    public string WorkerId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}"[..^20];
    /// <summary>Queue → how many activities of it run at once in this process.</summary>
    public IReadOnlyDictionary<string, int> Concurrency { get; init; } = new Dictionary<string, int>
    {
        [NodeQueues.Default] = 32,
        // Renders belong to the render container (src/Render.Container), which runs with render=1.
        [NodeQueues.Render] = 0,
    };
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How often running tasks extend their leases and look for cancellation ("check in").</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>Fallback poll when no NOTIFY arrives (timers coming due, missed notifications).</summary>
    public TimeSpan Poll { get; init; } = TimeSpan.FromMilliseconds(500);
    public TimeSpan RescueEvery { get; init; } = TimeSpan.FromSeconds(2);
    public int ClaimBatch { get; init; } = 32;
    public int CompletionBatch { get; init; } = 256;
    /// <summary>Finished jobs older than this are deleted with their history.</summary>
    public TimeSpan Retention { get; init; } = TimeSpan.FromDays(30);

    public static EngineOptions FromConfiguration(IConfiguration config)
    {
        var options = new EngineOptions();
        var concurrency = new Dictionary<string, int>(options.Concurrency);
        foreach (var pair in (config["FENTA_WORKER_CONCURRENCY"] ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=');
            if (parts.Length != 2 || !int.TryParse(parts[1], out var n) || n < 0)
                throw new InvalidOperationException($"FENTA_WORKER_CONCURRENCY must look like 'default=32,render=1', not '{pair}'.");
            concurrency[parts[0]] = n;
        }
        return new EngineOptions
        {
            Concurrency = concurrency,
            Lease = Seconds(config, "FENTA_WORKER_LEASE_SECONDS", options.Lease),
            Heartbeat = Seconds(config, "FENTA_WORKER_HEARTBEAT_SECONDS", options.Heartbeat),
            Poll = Seconds(config, "FENTA_WORKER_POLL_SECONDS", options.Poll),
            Retention = TimeSpan.FromDays(double.TryParse(config["FENTA_JOB_RETENTION_DAYS"], out var days) ? days : options.Retention.TotalDays),
        };
    }

    private static TimeSpan Seconds(IConfiguration config, string key, TimeSpan fallback) =>
        config[key] is { Length: > 0 } text
            ? double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
                ? TimeSpan.FromSeconds(s)
                : throw new InvalidOperationException($"{key} must be a positive number of seconds, not '{text}'.")
            : fallback;
}
