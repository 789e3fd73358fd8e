using System.Diagnostics;
using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Integrations.Blob;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.LocalHosting;
using FentaWeb.Orchestrations;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs;
using FentaWeb.TestWorker;
using FentaWeb.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>
/// A fresh database with an org, a task hub of its own on the shared Azurite, and (unless a test wants its own) an
/// in-process orchestration worker with the test activities. Runs are started and stopped through a client-only
/// host, as the API does.
/// </summary>
public class RunHost : IAsyncLifetime
{
    public const string OrgId = "org_test";
    private IHost? _worker;
    private IHost _client = null!;

    public string ConnectionString { get; private set; } = null!;
    /// <summary>This host's task hub (name, storage, timings), for worker processes started by tests.</summary>
    public IReadOnlyDictionary<string, string?> TaskHub { get; private set; } = null!;
    public JobStarter Jobs => _client.Services.GetRequiredService<JobStarter>();
    public DurableTaskClient Runs => _client.Services.GetRequiredService<DurableTaskClient>();
    public NpgsqlDataSource Db { get; private set; } = null!;
    /// <summary>The in-process worker's executor, to deliver a node activity as a task hub would (again).</summary>
    public NodeExecutor Executor => _worker!.Services.GetRequiredService<NodeExecutor>();

    protected virtual bool StartsWorker => true;

    /// <summary>This host's local files (copies of stored assets, a stock library); removed with the host.</summary>
    public string LocalFolder { get; } = Path.Combine(Path.GetTempPath(), $"fenta-test-local-{Guid.NewGuid():N}");

    public Dictionary<string, string?> WorkerSettings() => new(TaskHub)
    {
        ["FENTA_DB"] = ConnectionString,
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>The asset store the workers use: this host's database and asset container.</summary>
    public AssetStore Assets() => new(Db, Blobs());

    /// <summary>Direct uploads as the API makes them, over the same database and container.</summary>
    public AssetUploads Uploads() => new(Db, Blobs());

    private AssetBlobs Blobs() => new(AssetStorageOptions.FromSettings(key => TaskHub.GetValueOrDefault(key)));

    /// <summary>A local copy of a stored asset, read straight from its blob through the SDK, for tools that read files.</summary>
    public async Task<string> LocalCopyAsync(string storageKey)
    {
        var path = Path.Combine(LocalFolder, Guid.NewGuid().ToString("N") + Path.GetExtension(storageKey));
        Directory.CreateDirectory(LocalFolder);
        await StoredAssets.Container(TaskHub).GetBlobClient(storageKey).DownloadToAsync(path);
        return path;
    }

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        ConnectionString = await server.CreateDatabaseAsync(GetType().Name);
        Db = FentaDb.CreateDataSource(ConnectionString);
        await ExecAsync(TestActivities.Schema);
        await ExecAsync($"""
            INSERT INTO users (id, email, password_hash, name) VALUES ('user_test', 'test@example.test', 'x', 'Test');
            -- A paid plan: generations here are not held to the free tier's 50 KIE credits a month.
            INSERT INTO orgs (id, name, slug, owner_id, plan) VALUES ('{OrgId}', 'Test', 'test', 'user_test', 'starter');
            """);
        TaskHub = await TaskHubs.SettingsAsync(GetType().Name);
        var clientHost = Host.CreateApplicationBuilder();
        clientHost.Logging.SetMinimumLevel(LogLevel.Warning);
        clientHost.Services.AddLocalTaskHubClient(TaskHubOptions.FromSettings(key => TaskHub.GetValueOrDefault(key)));
        clientHost.Services.AddSingleton(Db);
        clientHost.Services.AddSingleton(TimeProvider.System);
        clientHost.Services.AddSingleton(new Domain.Billing.PaidProviders(Llm: false, Kie: false, OpenAiSpeech: false));
        clientHost.Services.AddSingleton<JobStarter>();
        _client = clientHost.Build();
        await _client.StartAsync();
        if (StartsWorker) _worker = await StartWorkerAsync();
    }

    public async Task<IHost> StartWorkerAsync()
    {
        var worker = WorkerHost.Build([], WorkerSettings(), services =>
        {
            // The engine is tested with doubles; the real generation activities are left out, so Input.KAI.EditVideo
            // (which has no double) stays unimplemented for the NODE_NOT_AVAILABLE check.
            foreach (var kai in services.Where(d => d.ServiceType == typeof(INodeActivity) && d.ImplementationFactory is not null).ToList())
                services.Remove(kai);
            services.AddTestActivities();
        });
        await worker.StartAsync();
        return worker;
    }

    public async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.StopAsync();
            _worker.Dispose();
        }
        await _client.StopAsync();
        _client.Dispose();
        await Db.DisposeAsync();
        if (Directory.Exists(LocalFolder)) Directory.Delete(LocalFolder, recursive: true);
    }

    public async Task<string> StartJobAsync(string graphJson, string? parentJobId = null, string? idempotencyKey = null)
    {
        var graph = JsonSerializer.Deserialize<WorkflowGraph>(graphJson, FentaJson.Options)!;
        var config = new JobConfig(graph, JsonDocument.Parse("{}").RootElement);
        var (jobId, _) = await Jobs.StartAsync(_client.Services.GetRequiredService<DurableTaskClient>(), new JobRequest(OrgId, null, config, idempotencyKey, parentJobId));
        return jobId;
    }

    /// <summary>What the API's cancel does: the job is cancelled in PostgreSQL, and its run hears of it by event.</summary>
    public async Task<string?> CancelAsync(string jobId)
    {
        var status = (await RunStore.CancelAsync(Db, OrgId, jobId, CancellationToken.None))?.Status;
        if (status == JobStatus.Cancelled) await Runs.RaiseEventAsync(jobId, RunNames.CancelEvent, "test");
        return status?.ToWire();
    }

    /// <summary>Waits until the job reaches a final status; returns it.</summary>
    public async Task<string> WaitForJobAsync(string jobId, TimeSpan? timeout = null)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < (timeout ?? TimeSpan.FromSeconds(60)))
        {
            var status = (string)(await ScalarAsync("SELECT status FROM jobs WHERE id = $1", jobId))!;
            if (status is "completed" or "failed" or "cancelled") return status;
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {jobId} did not finish: {await ScalarAsync("SELECT status || ' ' || progress FROM jobs WHERE id = $1", jobId)}");
    }

    public async Task WaitUntilAsync(string sql, params object[] args)
    {
        var watch = Stopwatch.StartNew();
        while (!(bool)(await ScalarAsync(sql, args))!)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"never true: {sql}");
            await Task.Delay(50);
        }
    }

    public async Task<object?> ScalarAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return await cmd.ExecuteScalarAsync();
    }

    public async Task<long> CountAsync(string sql, params object[] args) => Convert.ToInt64(await ScalarAsync(sql, args));

    public async Task<JsonElement> JsonAsync(string sql, params object[] args) =>
        JsonDocument.Parse((string)(await ScalarAsync(sql, args))!).RootElement.Clone();

    public async Task ExecAsync(string sql)
    {
        await using var conn = await Db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>A <see cref="RunHost"/> without its in-process worker: the tests that run jobs start the workers they need.</summary>
public sealed class RunHostWithoutWorker : RunHost
{
    protected override bool StartsWorker => false;
}
