using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Persistence;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using FentaWeb.Orchestrations.Activities;
using FentaWeb.Orchestrations.Engine;
using FentaWeb.Orchestrations.Scheduling;
using FentaWeb.Orchestrations.Webhooks;
using Npgsql;

namespace FentaWeb.Orchestrations;

/// <summary>
/// The orchestration worker process: several can run against one database. It migrates the schema on start
/// (so a worker deployed before the API still finds its tables), then runs the durable engine with the node
/// activities registered here, starts scheduled runs and delivers webhooks.
/// </summary>
public static class WorkerHost
{
    /// <param name="configure">Extra registrations, e.g. test activities in a test worker process.</param>
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var database = builder.Configuration["FENTA_DB"];
        if (string.IsNullOrWhiteSpace(database))
            throw new InvalidOperationException("FENTA_DB is not set: give an Npgsql connection string (./run.sh sets one up).");

        builder.Services.AddSingleton(FentaDb.CreateDataSource(database));
        var storageRoot = builder.Configuration["FENTA_STORAGE_ROOT"] is { Length: > 0 } root ? root : ".local/storage";
        var azureBlob = AzureBlobOptions.FromSettings(key => builder.Configuration[key]);
        builder.Services.AddHttpClient(AzureBlobStore.HttpClientName);
        builder.Services.AddSingleton(sp => BlobStores.Create(storageRoot, azureBlob,
            () => sp.GetRequiredService<IHttpClientFactory>().CreateClient(AzureBlobStore.HttpClientName)));
        builder.Services.AddSingleton<AssetStore>();
        builder.Services.AddHostedService<MigrateOnStart>();
        builder.Services.AddDurableEngine(builder.Configuration);
        builder.Services.AddMediaActivities(builder.Configuration);
        builder.Services.AddWebhookDelivery(builder.Configuration);
        builder.Services.AddScheduleTicker(builder.Configuration);
        configure?.Invoke(builder.Services);
        return builder.Build();
    }
}

public sealed partial class MigrateOnStart(NpgsqlDataSource dataSource, ILogger<MigrateOnStart> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct) => LogMigrated(logger, await Migrator.ApplyAsync(dataSource, ct), Migrator.All.Count);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Worker database ready: {Applied} new of {Known} migrations applied")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);
}
