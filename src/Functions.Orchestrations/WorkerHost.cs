using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Persistence;
using FentaWeb.Integrations.Blob;
using FentaWeb.Integrations.Stripe;
using FentaWeb.LocalHosting;
using FentaWeb.Orchestrations.Billing;
using FentaWeb.Orchestrations.Functions;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Orchestrations.Webhooks;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Nodes;
using FentaWeb.Runs.Publishing;
using FentaWeb.Runs;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations;

/// <summary>
/// The orchestration host outside Azure Functions: the same orchestrators, activities and functions in a plain .NET
/// host, a Durable Task worker on its own loopback sidecar over the shared task hub (several processes may share it,
/// as Function app instances do). Locally it migrates the schema on start, so a worker started before the API finds its tables.
/// </summary>
public static class WorkerHost
{
    private static readonly Dictionary<string, string?> LocalDefaults = new()
    {
        ["FENTA_WEBHOOK_SCHEDULE"] = WebhookOptions.DefaultSchedule,
        ["FENTA_PUBLICATION_STATS_SCHEDULE"] = Publishing.PublicationStatistics.DefaultSchedule,
    };

    /// <param name="configure">Extra registrations, e.g. test activities in a test worker process.</param>
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        // What the tenant environment sets as app settings of the Function app, as defaults here.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LocalDefaults });
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        // The sidecar's Kestrel would log every gRPC call of the worker.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddRunServices(builder.Configuration);
        builder.Services.AddFentaTelemetry(builder.Configuration, "fenta-orchestrations", httpSpans: false);
        builder.Services.AddLocalTaskHubWorker(TaskHubOptions.FromSettings(key => builder.Configuration[key]), RunTasks.Register);
        builder.Services.AddLocalTriggers();
        configure?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>What the functions need in either host: the database, assets, node activities, the render queues, webhook delivery, Stripe and the clock.</summary>
    public static IServiceCollection AddRunServices(this IServiceCollection services, IConfiguration config)
    {
        // Before any setting is read: both hosts of this app come through here, and none may start on a Key Vault
        // reference the platform left unresolved (its text would go to a provider as the key).
        Domain.Common.SettingReferences.ThrowIfUnresolved(config.AsEnumerable());
        services.AddSingleton(FentaDb.FromSettings(key => config[key]));
        services.AddAssetBlobs(AssetStorageOptions.FromSettings(key => config[key]));
        services.AddSingleton<AssetStore>();
        services.AddSingleton<UploadCleanup>();
        services.AddSingleton<JobResults>();
        services.AddSingleton(RenderQueues.FromSettings(key => config[key]));
        services.AddSingleton<NodeExecutor>();
        services.AddSingleton(Domain.Billing.PaidProviders.FromSettings(key => config[key]));
        services.AddSingleton<JobStarter>();
        services.AddSingleton<RenderResults>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMediaActivities(config);
        services.AddPublishing(key => config[key]);
        services.AddSingleton<PublishNode>();
        services.AddWebhookDelivery(config);
        // The render queue's depth and oldest request, sampled where telemetry is exported (this app is always up; renderers scale to zero).
        services.AddRenderQueueMonitor(config);
        // Paid overage goes to Stripe from here (the OverageReports timer); without FENTA_STRIPE_SECRET_KEY nothing is registered.
        if (StripeOptions.FromSettings(key => config[key]) is { } stripe) services.AddStripeBilling(stripe).AddTransient<OverageReporter>();
        return services;
    }
}

/// <summary>The schema on start, as the API does (unless FENTA_MIGRATE_ON_START=false: in Azure the migrate job migrates).</summary>
public sealed partial class MigrateOnStart(NpgsqlDataSource dataSource, IConfiguration config, ILogger<MigrateOnStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (DatabaseSetup.MigratesOnStart(key => config[key]))
            LogMigrated(logger, (await DatabaseSetup.ApplyAsync(dataSource, DatabaseSetup.ReadWritePrincipals(key => config[key]), ct)).Applied, Migrator.All.Count);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Worker database ready: {Applied} new of {Known} migrations applied")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);
}
