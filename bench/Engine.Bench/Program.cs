using System.Diagnostics;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Orchestrations;
using FentaWeb.Testing;
using FentaWeb.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

// End-to-end throughput of the durable engine with no-op activities (claim → run → complete → enqueue successors),
// on a PostgreSQL cluster with fsync and synchronous_commit ON, against a baseline measured in the same run:
// how many durable single-row commits per second the same database takes from the same number of clients.
const int Concurrency = 32;
var rounds = args.Length > 0 ? int.Parse(args[0]) : 3;

await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
var cs = await server.CreateDatabaseAsync("bench");
await using var db = FentaDb.CreateDataSource(cs);
await Exec(db, """
    INSERT INTO users (id, email, password_hash, name) VALUES ('user_bench', 'bench@example.test', 'x', 'Bench');
    INSERT INTO orgs (id, name, slug, owner_id) VALUES ('org_bench', 'Bench', 'bench', 'user_bench');
    CREATE TABLE baseline_commits (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz DEFAULT now());
    """);
Console.WriteLine($"PostgreSQL {await Scalar(db, "SHOW server_version")}, fsync={await Scalar(db, "SHOW fsync")}, " +
                  $"synchronous_commit={await Scalar(db, "SHOW synchronous_commit")}, {Environment.ProcessorCount} cores");

var baseline = await BaselineAsync(db, Concurrency, TimeSpan.FromSeconds(5));
Console.WriteLine($"baseline: {baseline:F0} durable commits/s ({Concurrency} clients, one INSERT per transaction)");

using var worker = WorkerHost.Build([], new Dictionary<string, string?>(await TaskHubs.SettingsAsync("bench"))
{
    ["FENTA_DB"] = cs,
    ["Logging:LogLevel:Default"] = "Warning",
}, services => services.AddTestActivities());
await worker.StartAsync();
var starter = worker.Services.GetRequiredService<JobStarter>();

var chain = Chain(200);
var fanOut = Parse("""
    {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1000 noop"}},
               {"id": "img", "type": "Input.KAI.GenerateImage", "params": {"prompt": "noop"}},
               {"id": "t", "type": "Edit.Timeline", "params": {"template_id": "noop"}}],
     "edges": [{"from": "s", "to": "img"}, {"from": "img", "to": "t"}]}
    """);
await RunAsync(db, [chain], 1, "warm-up");

var results = new List<(string Name, double PerSecond)>
{
    ("chain, 1 job × 200 nodes", Best(await Repeat(() => RunAsync(db, [chain], 200, "chain")))),
    ("chains, 8 jobs × 200 nodes", Best(await Repeat(() => RunAsync(db, Enumerable.Repeat(chain, 8).ToList(), 1600, "8 chains")))),
    ("fan-out, 1 job × 1,000 items", Best(await Repeat(() => RunAsync(db, [fanOut], 1002, "fan-out")))),
};
await worker.StopAsync();

Console.WriteLine();
Console.WriteLine($"{"scenario",-32} {"activities/s",12} {"vs baseline",12}");
foreach (var (name, perSecond) in results)
    Console.WriteLine($"{name,-32} {perSecond,12:F0} {perSecond / baseline,11:F2}x");
return;

async Task<List<double>> Repeat(Func<Task<double>> run)
{
    var list = new List<double>();
    for (var i = 0; i < rounds; i++) list.Add(await run());
    return list;
}

static double Best(List<double> values) => values.Max();

async Task<double> RunAsync(NpgsqlDataSource db, IReadOnlyList<WorkflowGraph> graphs, int activities, string name)
{
    var watch = Stopwatch.StartNew();
    var jobs = new List<string>();
    foreach (var graph in graphs)
        jobs.Add((await starter.StartAsync(new JobRequest("org_bench", null, new JobConfig(graph, JsonDocument.Parse("{}").RootElement)))).JobId);
    while (true)
    {
        await using var cmd = db.CreateCommand("SELECT count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE status IN ('failed', 'cancelled')) FROM jobs WHERE id = ANY($1)");
        cmd.Parameters.Add(new() { Value = jobs.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        if (reader.GetInt64(1) > 0) throw new InvalidOperationException($"{name}: a job failed");
        if (reader.GetInt64(0) == jobs.Count) break;
        await Task.Delay(5);
    }
    var perSecond = activities / watch.Elapsed.TotalSeconds;
    // Where a step's time goes, from the database's own clock: inside the step (claim → completion) and between steps.
    await using var timing = db.CreateCommand("""
        SELECT avg(extract(epoch FROM completed_at - started_at)) * 1000,
               avg(extract(epoch FROM started_at - prev)) * 1000
        FROM (SELECT started_at, completed_at, lag(completed_at) OVER (PARTITION BY job_id ORDER BY started_at) AS prev
              FROM node_runs WHERE job_id = ANY($1) AND item_index <= 0 AND NOT reused) s
        """);
    timing.Parameters.Add(new() { Value = jobs.ToArray() });
    await using var t = await timing.ExecuteReaderAsync();
    await t.ReadAsync();
    Console.WriteLine($"  {name}: {activities} activities in {watch.Elapsed.TotalSeconds:F2} s = {perSecond:F0}/s " +
                      $"(node step {t.GetDouble(0):F2} ms, hand-off {(t.IsDBNull(1) ? 0 : t.GetDouble(1)):F2} ms)");
    return perSecond;
}

static async Task<double> BaselineAsync(NpgsqlDataSource db, int clients, TimeSpan duration)
{
    var stop = DateTime.UtcNow + duration;
    var counts = await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
    {
        var n = 0;
        await using var conn = await db.OpenConnectionAsync();
        await using var cmd = new NpgsqlCommand("INSERT INTO baseline_commits DEFAULT VALUES", conn);
        while (DateTime.UtcNow < stop)
        {
            await cmd.ExecuteNonQueryAsync();
            n++;
        }
        return n;
    }));
    return counts.Sum() / duration.TotalSeconds;
}

static WorkflowGraph Chain(int length)
{
    var nodes = new List<object> { new { id = "n0", type = "Script.Generate", @params = new { prompt = "scenes=1 noop" } } };
    var edges = new List<object>();
    for (var i = 1; i < length; i++)
    {
        nodes.Add(new { id = $"n{i}", type = "Script.Transform", @params = new { operation = "adapt", instructions = "noop" } });
        edges.Add(new { from = $"n{i - 1}", to = $"n{i}" });
    }
    return Parse(JsonSerializer.Serialize(new { nodes, edges }));
}

static WorkflowGraph Parse(string json) => JsonSerializer.Deserialize<WorkflowGraph>(json, FentaJson.Options)!;

static async Task Exec(NpgsqlDataSource db, string sql)
{
    await using var conn = await db.OpenConnectionAsync();
    await using var cmd = new NpgsqlCommand(sql, conn);
    await cmd.ExecuteNonQueryAsync();
}

static async Task<string> Scalar(NpgsqlDataSource db, string sql)
{
    await using var cmd = db.CreateCommand(sql);
    return (string)(await cmd.ExecuteScalarAsync())!;
}
