using System.Diagnostics;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Orchestrations;
using FentaWeb.Testing;
using FentaWeb.TestWorker;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>A fresh database with an org, and (unless a test wants its own) an in-process worker with the test activities.</summary>
public class EngineHost : IAsyncLifetime
{
    public const string OrgId = "org_test";
    private IHost? _worker;

    public string ConnectionString { get; private set; } = null!;
    public NpgsqlDataSource Db { get; private set; } = null!;

    protected virtual bool StartsWorker => true;

    /// <summary>Where this host's workers keep asset files (removed with the host).</summary>
    public string StorageRoot { get; } = Path.Combine(Path.GetTempPath(), $"fenta-test-storage-{Guid.NewGuid():N}");

    public Dictionary<string, string?> WorkerSettings() => WorkerSettings(ConnectionString, StorageRoot);

    public static Dictionary<string, string?> WorkerSettings(string connectionString, string? storageRoot = null) => new()
    {
        ["FENTA_DB"] = connectionString,
        ["FENTA_STORAGE_ROOT"] = storageRoot ?? Path.Combine(Path.GetTempPath(), "fenta-test-storage"),
        ["FENTA_WORKER_LEASE_SECONDS"] = "2",
        ["FENTA_WORKER_HEARTBEAT_SECONDS"] = "0.25",
        ["FENTA_WORKER_POLL_SECONDS"] = "0.2",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        ConnectionString = await server.CreateDatabaseAsync(GetType().Name);
        Db = FentaDb.CreateDataSource(ConnectionString);
        await ExecAsync(TestActivities.Schema);
        await ExecAsync($"""
            INSERT INTO users (id, email, password_hash, name) VALUES ('user_test', 'test@example.test', 'x', 'Test');
            INSERT INTO orgs (id, name, slug, owner_id) VALUES ('{OrgId}', 'Test', 'test', 'user_test');
            """);
        if (StartsWorker) _worker = await StartWorkerAsync();
    }

    public async Task<IHost> StartWorkerAsync()
    {
        var worker = WorkerHost.Build([], WorkerSettings(), services =>
        {
            // The engine is tested with doubles; the real generation activities are left out, so Input.KAI.EditVideo
            // (which has no double) stays unimplemented for the NODE_NOT_AVAILABLE check.
            foreach (var kai in services.Where(d => d.ServiceType == typeof(FentaWeb.Domain.Engine.INodeActivity) && d.ImplementationFactory is not null).ToList())
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
        await Db.DisposeAsync();
        if (Directory.Exists(StorageRoot)) Directory.Delete(StorageRoot, recursive: true);
    }

    public async Task<string> StartJobAsync(string graphJson, string? parentJobId = null, string? idempotencyKey = null)
    {
        var graph = JsonSerializer.Deserialize<WorkflowGraph>(graphJson, FentaJson.Options)!;
        var config = new JobConfig(graph, JsonDocument.Parse("{}").RootElement);
        var (jobId, _) = await JobStarter.StartAsync(Db, new JobRequest(OrgId, null, config, idempotencyKey, parentJobId));
        return jobId;
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
