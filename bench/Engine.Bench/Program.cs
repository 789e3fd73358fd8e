using System.Diagnostics;
using System.Text.Json;
using FentaWeb.Api.Samples;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.LocalHosting;
using FentaWeb.Orchestrations;
using FentaWeb.Render;
using FentaWeb.Runs;
using FentaWeb.TestWorker;
using FentaWeb.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

// The run engine (RunWorkflow on Durable Task, Azure Storage backend on Azurite, PostgreSQL bookkeeping) against a
// baseline measured in the same run: bare Durable Task orchestrations on the same sidecar, backend and Azurite, whose
// activities do nothing. The ratio is what our orchestration and bookkeeping cost on top of Durable Task itself.
var rounds = args.Length > 0 ? int.Parse(args[0]) : 2;
// "demo" as the second argument runs only the Daily News Shorts part (for working on the render path).
var demoOnly = args.Length > 1 && args[1] == "demo";
const int ChainLength = 200;
const int FanOutWidth = 1000;

await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
var cs = await server.CreateDatabaseAsync("bench");
await using var db = FentaDb.CreateDataSource(cs);
await Exec(db, """
    INSERT INTO users (id, email, password_hash, name) VALUES ('user_bench', 'bench@example.test', 'x', 'Bench');
    INSERT INTO orgs (id, name, slug, owner_id) VALUES ('org_bench', 'Bench', 'bench', 'user_bench');
    """);
await Exec(db, TestActivities.Schema);
Console.WriteLine($"{Environment.ProcessorCount} cores; Azurite 3.37 (in memory); PostgreSQL, fsync on");

var settings = new Dictionary<string, string?>(await TaskHubs.SettingsAsync("runs"))
{
    ["FENTA_DB"] = cs,
    ["FENTA_TASK_HUB_VISIBILITY_SECONDS"] = "120",
    ["FENTA_STOCK_DIR"] = Path.Combine(Path.GetTempPath(), "fenta-bench-stock"),
    ["Logging:LogLevel:Default"] = "Warning",
};
if (!demoOnly)
{
    // Baseline: plain Durable Task on its own hub.
    // The tests' short visibility (10 s, for fast crash recovery) would let queued items of a 1,000-wide fan-out
    // reappear while they wait for a slot, and run twice; the bench uses the product's default.
    var baselineHub = new Dictionary<string, string?>(await TaskHubs.SettingsAsync("baseline")) { ["FENTA_TASK_HUB_VISIBILITY_SECONDS"] = "120" };
    var baseline = Host.CreateApplicationBuilder();
    baseline.Logging.SetMinimumLevel(LogLevel.Warning);
    baseline.Services.AddLocalTaskHubWorker(TaskHubOptions.FromSettings(key => baselineHub.GetValueOrDefault(key)),
        tasks => tasks.AddOrchestrator<Chain>().AddOrchestrator<FanOut>().AddActivity<Echo>());
    using (var host = baseline.Build())
    {
        await host.StartAsync();
        var client = host.Services.GetRequiredService<DurableTaskClient>();
        await Bare(client, nameof(Chain), 1); // warm-up
        var chain = Best(await Repeat(() => Bare(client, nameof(Chain), ChainLength)));
        var fan = Best(await Repeat(() => Bare(client, nameof(FanOut), FanOutWidth)));
        Console.WriteLine($"baseline (bare Durable Task): chain {1000 / chain:F1} ms/step, fan-out {fan:F1} activities/s");
        await host.StopAsync();
        Results.Baseline = (1000 / chain, fan);
    }

    // Ours: RunWorkflow with no-op node activities (test doubles), writing the product's view of every node to PostgreSQL.
    using (var worker = WorkerHost.Build([], settings, services => services.AddTestActivities()))
    {
        await worker.StartAsync();
        await RunAsync(db, worker.Services, ChainGraph(2), "warm-up");
        var chain = Best(await Repeat(() => RunAsync(db, worker.Services, ChainGraph(ChainLength), "chain").ContinueWith(t => ChainLength / t.Result.TotalSeconds)));
        var fan = Best(await Repeat(() => RunAsync(db, worker.Services, FanOutGraph(FanOutWidth), "fan-out").ContinueWith(t => (FanOutWidth + 2) / t.Result.TotalSeconds)));
        await worker.StopAsync();
        Results.Ours = (1000 / chain, fan);
    }
}

// The Daily News Shorts demo with the real activities and renderer: how much of its wall time is the engine's
// (time between nodes on its critical path) rather than the nodes' own work.
// On a hub of its own: the fan-outs above leave thousands of history rows in theirs, and Azurite slows down with them.
foreach (var (key, value) in await TaskHubs.SettingsAsync("demo")) if (key.StartsWith("FENTA_TASK_HUB", StringComparison.Ordinal) || key == "FENTA_RENDER_QUEUE_PREFIX") settings[key] = value;
settings["FENTA_TASK_HUB_VISIBILITY_SECONDS"] = "120";
// The renderer's debug log says where a render's time goes (queue, inputs, ffmpeg, outputs, report).
settings["Logging:LogLevel:FentaWeb.Render"] = "Debug";
using (var media = WorkerHost.Build([], settings))
using (var renderer = RenderHost.Build([], once: false, settings))
{
    await media.StartAsync();
    await renderer.StartAsync();
    var graph = JsonSerializer.Deserialize<WorkflowGraph>(SampleWorkflows.DailyNewsGraph, FentaJson.Options)!;
    // The first run also pays for a new worker taking the hub's partition lease, the stock library and ffmpeg's first
    // start; the figure is the steady state, the best of the runs after it.
    await RunAsync(db, media.Services, graph, "Daily News Shorts (cold)");
    var shares = new List<(double Wall, double Work)>();
    for (var i = 0; i < rounds; i++)
    {
        var wall = await RunAsync(db, media.Services, graph, "Daily News Shorts");
        shares.Add((wall.TotalSeconds, (await CriticalPathWorkAsync(db, Results.LastJob!, graph)).TotalSeconds));
        Console.WriteLine($"    node work on the critical path {shares[^1].Work:F1} s: engine share {(shares[^1].Wall - shares[^1].Work) / shares[^1].Wall:P1}");
        // Against a plain encode of the same length, timed right after the job (back to back, so the ratio cancels the
        // machine's drift between rounds).
        Console.WriteLine($"    nodes: {await NodeSpansAsync(db, Results.LastJob!)}");
        var render = await RenderNodeAsync(db, Results.LastJob!);
        var plain = await PlainEncodeAsync(render.VideoSeconds);
        Results.DemoRounds.Add((wall.TotalSeconds, render.NodeSeconds, render.RendererSeconds, plain));
        Console.WriteLine($"    {render.VideoSeconds:F1} s video; plain encode of that length {plain:F1} s; render node {render.NodeSeconds:F1} s " +
                          $"(renderer {render.RendererSeconds:F1} s): job {wall.TotalSeconds / plain:F2}x, render node {render.NodeSeconds / plain:F2}x, " +
                          $"renderer {render.RendererSeconds / plain:F2}x the plain encode");
    }
    Results.DemoShare = shares.MinBy(s => (s.Wall - s.Work) / s.Wall);
    await renderer.StopAsync();
    await media.StopAsync();
}

var (baseStep, baseFan) = Results.Baseline;
var (ourStep, ourFan) = Results.Ours;
var (demoWall, demoWork) = Results.DemoShare;
Console.WriteLine();
if (!demoOnly)
{
    Console.WriteLine($"{"scenario",-34} {"ours",12} {"bare DT",12} {"ratio",8}");
    Console.WriteLine($"{$"chain of {ChainLength}, ms per step",-34} {ourStep,12:F1} {baseStep,12:F1} {ourStep / baseStep,7:F2}x");
    Console.WriteLine($"{$"fan-out of {FanOutWidth:N0}, activities/s",-34} {ourFan,12:F1} {baseFan,12:F1} {ourFan / baseFan,7:F2}x");
}
Console.WriteLine($"Daily News Shorts: {demoWall:F1} s wall, {demoWork:F1} s of node work on the critical path; engine share {(demoWall - demoWork) / demoWall:P1}");
// Each round's own ratios (its job and the plain encode after it); the median is the steadier figure on a drifting VM.
static double Median(IEnumerable<double> values) => values.Order().ElementAt(values.Count() / 2);
var demo = Results.DemoRounds;
Console.WriteLine("Against a plain encode of the same length (1080x1920 testsrc2, x264 veryfast CRF 23, AAC 128k, faststart), per round:");
Console.WriteLine($"  demo job / plain encode          median {Median(demo.Select(r => r.Wall / r.Plain)),5:F2}x   best {demo.Min(r => r.Wall / r.Plain),5:F2}x");
Console.WriteLine($"  render node / plain encode       median {Median(demo.Select(r => r.Node / r.Plain)),5:F2}x   best {demo.Min(r => r.Node / r.Plain),5:F2}x");
Console.WriteLine($"  renderer (ffmpeg) / plain encode median {Median(demo.Select(r => r.Renderer / r.Plain)),5:F2}x   best {demo.Min(r => r.Renderer / r.Plain),5:F2}x");
return;

async Task<List<double>> Repeat(Func<Task<double>> run)
{
    var list = new List<double>();
    for (var i = 0; i < rounds; i++) list.Add(await run());
    return list;
}

static double Best(List<double> values) => values.Max();

/// <summary>A bare orchestration's rate: steps per second for the chain, activities per second for the fan-out.</summary>
static async Task<double> Bare(DurableTaskClient client, string name, int n)
{
    var watch = Stopwatch.StartNew();
    var id = await client.ScheduleNewOrchestrationInstanceAsync(name, n);
    await client.WaitForInstanceCompletionAsync(id);
    var perSecond = n / watch.Elapsed.TotalSeconds;
    Console.WriteLine($"  bare {name}({n}): {watch.Elapsed.TotalSeconds:F2} s = {perSecond:F1}/s");
    return perSecond;
}

static async Task<TimeSpan> RunAsync(NpgsqlDataSource db, IServiceProvider services, WorkflowGraph graph, string name)
{
    var watch = Stopwatch.StartNew();
    var (jobId, _) = await services.GetRequiredService<JobStarter>().StartAsync(services.GetRequiredService<DurableTaskClient>(), new JobRequest("org_bench", null, new JobConfig(graph, JsonDocument.Parse("{}").RootElement)));
    while (true)
    {
        await using var cmd = db.CreateCommand("SELECT status FROM jobs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = jobId });
        var status = (string)(await cmd.ExecuteScalarAsync())!;
        if (status is "failed" or "cancelled") throw new InvalidOperationException($"{name}: the job {status}");
        if (status == "completed") break;
        await Task.Delay(20);
    }
    Results.LastJob = jobId;
    Console.WriteLine($"  {name}: {watch.Elapsed.TotalSeconds:F2} s");
    return watch.Elapsed;
}

/// <summary>
/// The longest chain of node work through the graph, as PostgreSQL recorded it: a node's work runs from its first
/// item's start to its last item's end, not the fan-out row around them (a render's includes its wait in the render queue, which is the engine's).
/// </summary>
static async Task<TimeSpan> CriticalPathWorkAsync(NpgsqlDataSource db, string jobId, WorkflowGraph graph)
{
    await using var cmd = db.CreateCommand("""
        SELECT node_id, extract(epoch FROM max(completed_at) - min(started_at))
        FROM node_runs WHERE job_id = $1 AND item_index >= 0 GROUP BY node_id
        """);
    cmd.Parameters.Add(new() { Value = jobId });
    var seconds = new Dictionary<string, double>();
    await using (var reader = await cmd.ExecuteReaderAsync())
        while (await reader.ReadAsync()) seconds[reader.GetString(0)] = reader.IsDBNull(1) ? 0 : (double)reader.GetDecimal(1);
    var plan = CompiledGraph.Compile(graph);
    var finish = new Dictionary<string, double>();
    foreach (var id in plan.Order)
        finish[id] = plan.Nodes[id].Predecessors.Select(p => finish[p]).DefaultIfEmpty(0).Max() + seconds.GetValueOrDefault(id);
    return TimeSpan.FromSeconds(finish.Values.Max());
}

/// <summary>
/// The render node of the last job: its item's span in node_runs (from the request being queued to the outcome being
/// recorded), the video's length, and the renderer's own time (probes, ffmpeg, SRT) as its output reports it.
/// </summary>
static async Task<(double NodeSeconds, double VideoSeconds, double RendererSeconds)> RenderNodeAsync(NpgsqlDataSource db, string jobId)
{
    await using var cmd = db.CreateCommand("""
        SELECT extract(epoch FROM completed_at - started_at), (output->>'duration_seconds')::float8, (output->>'render_seconds')::float8
        FROM node_runs WHERE job_id = $1 AND node_type = 'Output.Render' AND item_index >= 0
        """);
    cmd.Parameters.Add(new() { Value = jobId });
    await using var reader = await cmd.ExecuteReaderAsync();
    if (!await reader.ReadAsync()) throw new InvalidOperationException($"Job {jobId} has no render node");
    return ((double)reader.GetDecimal(0), reader.GetDouble(1), reader.GetDouble(2));
}

/// <summary>Each node's span (first item's start to last item's end) and its start after the job's, in start order.</summary>
static async Task<string> NodeSpansAsync(NpgsqlDataSource db, string jobId)
{
    await using var cmd = db.CreateCommand("""
        SELECT r.node_type, extract(epoch FROM min(r.started_at) - j.started_at), extract(epoch FROM max(r.completed_at) - min(r.started_at))
        FROM node_runs r JOIN jobs j ON j.id = r.job_id WHERE r.job_id = $1 AND r.item_index >= 0
        GROUP BY r.node_id, r.node_type, j.started_at ORDER BY 2
        """);
    cmd.Parameters.Add(new() { Value = jobId });
    var spans = new List<string>();
    await using var reader = await cmd.ExecuteReaderAsync();
    while (await reader.ReadAsync()) spans.Add($"{reader.GetString(0)} +{reader.GetDecimal(1):F1} s {reader.GetDecimal(2):F1} s");
    return string.Join(", ", spans);
}

/// <summary>bench/render's plain encode (a 1080x1920 test pattern and a tone, x264 veryfast CRF 23, AAC 128k, faststart), of the given length.</summary>
static async Task<double> PlainEncodeAsync(double seconds)
{
    var output = Path.Combine(Path.GetTempPath(), $"fenta-bench-plain-{Guid.NewGuid():N}.mp4");
    try
    {
        var watch = Stopwatch.StartNew();
        var length = seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var result = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", length, "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
            "-movflags", "+faststart", output], CancellationToken.None);
        if (result.ExitCode != 0) throw new InvalidOperationException($"ffmpeg failed: {result.ErrorTail()}");
        return watch.Elapsed.TotalSeconds;
    }
    finally
    {
        File.Delete(output);
    }
}

static WorkflowGraph ChainGraph(int length)
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

static WorkflowGraph FanOutGraph(int width) => Parse($$$"""
    {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes={{{width}}} noop"}},
               {"id": "img", "type": "Input.KAI.GenerateImage", "params": {"prompt": "noop"}},
               {"id": "t", "type": "Edit.Timeline", "params": {"template_id": "noop"}}],
     "edges": [{"from": "s", "to": "img"}, {"from": "img", "to": "t"}]}
    """);

static WorkflowGraph Parse(string json) => JsonSerializer.Deserialize<WorkflowGraph>(json, FentaJson.Options)!;

static async Task Exec(NpgsqlDataSource db, string sql)
{
    await using var conn = await db.OpenConnectionAsync();
    await using var cmd = new NpgsqlCommand(sql, conn);
    await cmd.ExecuteNonQueryAsync();
}

internal static class Results
{
    public static (double MsPerStep, double PerSecond) Baseline;
    public static (double MsPerStep, double PerSecond) Ours;
    public static (double Wall, double Work) DemoShare;
    public static string? LastJob;
    public static readonly List<(double Wall, double Node, double Renderer, double Plain)> DemoRounds = [];
}

/// <summary>Baseline: a chain of no-op activities.</summary>
internal sealed class Chain : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int steps)
    {
        var total = 0;
        for (var i = 0; i < steps; i++) total += await context.CallActivityAsync<int>(nameof(Echo), i);
        return total;
    }
}

/// <summary>Baseline: a fan-out of no-op activities, fanned back in.</summary>
internal sealed class FanOut : TaskOrchestrator<int, int>
{
    public override async Task<int> RunAsync(TaskOrchestrationContext context, int width) =>
        (await Task.WhenAll(Enumerable.Range(0, width).Select(i => context.CallActivityAsync<int>(nameof(Echo), i)))).Sum();
}

internal sealed class Echo : TaskActivity<int, int>
{
    public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input);
}
