using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Durable;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Persistence;
using FentaWeb.Orchestrations.Activities;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Orchestrations.Scheduling;
using FentaWeb.Orchestrations.Webhooks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations;

/// <summary>
/// The orchestration host outside Azure Functions: the same orchestrators, activities and functions in a plain .NET
/// host, a Durable Task worker on its own loopback sidecar over the shared task hub (several processes may share it,
/// as Function app instances do). It migrates the schema on start, so a worker deployed before the API finds its tables.
/// </summary>
public static class WorkerHost
{
    /// <param name="configure">Extra registrations, e.g. test activities in a test worker process.</param>
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        // The sidecar's Kestrel would log every gRPC call of the worker.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddRunServices(builder.Configuration);
        builder.Services.AddLocalTaskHubWorker(TaskHubOptions.FromSettings(key => builder.Configuration[key]), RunTasks.Register);
        builder.Services.AddHostedService<RenderResultsPoller>();
        // Until schedules become a timer trigger, the ticker is a loop of the local host.
        builder.Services.AddScheduleTicker(builder.Configuration);
        builder.Services.AddHostedService<RetentionLoop>();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>What runs need in either host: the database, assets, node activities, the render queues and webhook delivery.</summary>
    public static IServiceCollection AddRunServices(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(FentaDb.CreateDataSource(config["FENTA_DB"] is { Length: > 0 } database ? database
            : throw new InvalidOperationException("FENTA_DB is not set: give an Npgsql connection string (./run.sh sets one up).")));
        var storageRoot = config["FENTA_STORAGE_ROOT"] is { Length: > 0 } root ? root : ".local/storage";
        var azureBlob = AzureBlobOptions.FromSettings(key => config[key]);
        services.AddHttpClient(AzureBlobStore.HttpClientName);
        services.AddSingleton(sp => BlobStores.Create(storageRoot, azureBlob,
            () => sp.GetRequiredService<IHttpClientFactory>().CreateClient(AzureBlobStore.HttpClientName)));
        services.AddSingleton<AssetStore>();
        services.AddSingleton(RenderQueues.FromSettings(key => config[key]));
        services.AddSingleton<NodeExecutor>();
        services.AddSingleton<JobStarter>();
        services.AddSingleton<RenderResults>();
        services.AddMediaActivities(config);
        services.AddWebhookDelivery(config);
        return services;
    }
}

/// <summary>
/// Every hour, deletes finished jobs older than FENTA_JOB_RETENTION_DAYS (30) with their history and finished webhook
/// deliveries (usage records stay). A loop of the local host until retention becomes a timer trigger.
/// </summary>
public sealed partial class RetentionLoop(NpgsqlDataSource db, IConfiguration config, ILogger<RetentionLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        var retention = TimeSpan.FromDays(double.TryParse(config["FENTA_JOB_RETENTION_DAYS"], System.Globalization.CultureInfo.InvariantCulture, out var days) && days > 0 ? days : 30);
        using var timer = new PeriodicTimer(TimeSpan.FromHours(1));
        do
        {
            try
            {
                if (await RunStore.PruneAsync(db, retention, stopping) is > 0 and var pruned) LogPruned(logger, pruned, retention.TotalDays);
            }
            catch (NpgsqlException e)
            {
                LogPruneFailed(logger, e);
            }
        } while (await timer.WaitForNextTickAsync(stopping).AsTask().ContinueWith(t => t.IsCompletedSuccessfully && t.Result, TaskScheduler.Default));
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Pruned {Count} finished jobs older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int count, double days);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Pruning finished jobs failed; will try again in an hour")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}

public sealed partial class MigrateOnStart(NpgsqlDataSource dataSource, ILogger<MigrateOnStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct) => LogMigrated(logger, await Migrator.ApplyAsync(dataSource, ct), Migrator.All.Count);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Worker database ready: {Applied} new of {Known} migrations applied")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);
}
