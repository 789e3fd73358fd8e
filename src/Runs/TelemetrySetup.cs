using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FentaWeb.Runs;

/// <summary>Where a host's telemetry goes, from its settings; with none set, nowhere (OpenTelemetry is not even registered).</summary>
/// <param name="OtlpEndpoint">FENTA_OTLP_ENDPOINT: an OTLP collector (gRPC; FENTA_OTLP_PROTOCOL=http for HTTP/protobuf).</param>
/// <param name="Console">FENTA_TELEMETRY_CONSOLE=true: spans, metrics and logs written to the console.</param>
/// <param name="AzureMonitor">APPLICATIONINSIGHTS_CONNECTION_STRING set: Azure Monitor (Application Insights).</param>
public sealed record TelemetryOptions(Uri? OtlpEndpoint, OtlpExportProtocol OtlpProtocol, bool Console, bool AzureMonitor)
{
    public bool Enabled => OtlpEndpoint is not null || Console || AzureMonitor;

    public static TelemetryOptions FromSettings(Func<string, string?> setting) => new(
        Uri.TryCreate(setting("FENTA_OTLP_ENDPOINT"), UriKind.Absolute, out var otlp) ? otlp : null,
        string.Equals(setting("FENTA_OTLP_PROTOCOL"), "http", StringComparison.OrdinalIgnoreCase) ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc,
        string.Equals(setting("FENTA_TELEMETRY_CONSOLE"), "true", StringComparison.OrdinalIgnoreCase),
        !string.IsNullOrWhiteSpace(setting("APPLICATIONINSIGHTS_CONNECTION_STRING")));
}

public static class TelemetrySetup
{
    /// <summary>
    /// OpenTelemetry for one host: FentaWeb's spans and metrics, ASP.NET Core's and HttpClient's (built into .NET), the
    /// runtime's metrics, and the host's logs, to the exporters its settings name. <paramref name="host"/> adds what only
    /// that host has (the Functions worker's defaults on Azure). <paramref name="httpSpans"/>: ASP.NET Core's request
    /// and HttpClient's call spans; not in the orchestration worker, whose HTTP is mostly its worker's gRPC calls to its own
    /// task hub sidecar (a span each would be noise; its webhook deliveries have spans of their own). Returns whether
    /// anything was registered.
    /// </summary>
    public static bool AddFentaTelemetry(this IServiceCollection services, IConfiguration config, string serviceName,
        Action<OpenTelemetryBuilder>? host = null, bool httpSpans = true)
    {
        var options = TelemetryOptions.FromSettings(key => config[key]);
        if (!options.Enabled) return false;
        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                // Durable Task's own spans (create_orchestration, orchestration, activity) join the job's trace via "job schedule".
                tracing.AddSource(Telemetry.Name, "Microsoft.DurableTask");
                if (httpSpans) tracing.AddSource("Microsoft.AspNetCore", "System.Net.Http");
                if (options.Console) tracing.AddConsoleExporter();
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Telemetry.Name, "Microsoft.AspNetCore.Hosting", "System.Net.Http", "System.Runtime");
                if (options.Console) metrics.AddConsoleExporter();
            })
            .WithLogging(logging =>
            {
                if (options.Console) logging.AddConsoleExporter();
            }, logging => logging.IncludeScopes = true);
        if (options.OtlpEndpoint is { } endpoint) otel.UseOtlpExporter(options.OtlpProtocol, endpoint);
        // Given as read here: the exporter's own lookup needs the host's IConfiguration in the container.
        if (options.AzureMonitor) otel.UseAzureMonitorExporter(azure => azure.ConnectionString = config["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        host?.Invoke(otel);
        return true;
    }

    /// <summary>Samples the render queue for the queue depth and oldest-request gauges, where telemetry is exported.</summary>
    public static IServiceCollection AddRenderQueueMonitor(this IServiceCollection services, IConfiguration config)
    {
        if (TelemetryOptions.FromSettings(key => config[key]).Enabled) services.AddHostedService<RenderQueueMonitor>();
        return services;
    }
}

/// <summary>Every 30 s: how many render requests wait, and how long the oldest has waited.</summary>
public sealed partial class RenderQueueMonitor(RenderQueues queues, TimeProvider clock, ILogger<RenderQueueMonitor> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(30), clock);
        do
        {
            try
            {
                await queues.EnsureCreatedAsync();
                var depth = (await queues.Requests.GetPropertiesAsync(stopping)).Value.ApproximateMessagesCount;
                var oldest = (await queues.Requests.PeekMessageAsync(stopping)).Value?.InsertedOn;
                Telemetry.ObserveRenderQueue(depth, oldest is { } at ? clock.GetUtcNow() - at : TimeSpan.Zero);
            }
            catch (Azure.RequestFailedException e)
            {
                LogSampleFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stopping).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));
    }

    [LoggerMessage(EventId = 450, Level = LogLevel.Warning, Message = "Could not sample the render queue")]
    private static partial void LogSampleFailed(ILogger logger, Exception exception);
}
