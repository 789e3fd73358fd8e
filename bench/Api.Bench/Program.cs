using System.Diagnostics;
using System.Net.Http.Json;
using FentaWeb.Bench;
using FentaWeb.Testing;
using static FentaWeb.Bench.BenchKit;

// The v1 API served two ways, measured in the same run on the same PostgreSQL and Azurite: a baseline build (the
// minimal API before the move to HTTP-trigger functions) and this build (the functions on the local Kestrel adapter),
// each as its own process. Cold start is process start to the first 200 from /readyz on a migrated database; latency
// is GET /v1/jobs/{id} and POST /v1/workflows/{id}/run under a bounded closed-loop load. Rounds alternate the builds.
// With --functions-host, the second part instead: this build under a real Azure Functions host against the same build
// on the local adapter (FunctionsHostBench.cs). With --concurrency-mix: many concurrent clients making mixed reads and
// job creations while an orchestration worker runs the jobs (ConcurrencyMixBench.cs).
if (args is ["--functions-host", ..])
    return await FunctionsHostBench.RunAsync(args[1..]);
if (args is ["--concurrency-mix", ..])
    return await ConcurrencyMixBench.RunAsync(args[1..]);
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Api.Bench <baseline api dll> <current api dll> [requests per round] [concurrency] [rounds]\n" +
                            "       Api.Bench --functions-host <repository root> [requests per round] [concurrency] [rounds]\n" +
                            "       Api.Bench --concurrency-mix <repository root> [clients] [seconds per round] [rounds]");
    return 2;
}
var builds = new[] { ("baseline", Path.GetFullPath(args[0])), ("functions", Path.GetFullPath(args[1])) };
var requests = args.Length > 2 ? int.Parse(args[2]) : 2000;
var concurrency = args.Length > 3 ? int.Parse(args[3]) : 8;
var rounds = args.Length > 4 ? int.Parse(args[4]) : 3;

await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
var settings = new Dictionary<string, Dictionary<string, string?>>();
foreach (var (name, _) in builds)
{
    var db = await server.CreateDatabaseAsync("bench" + name);
    settings[name] = new Dictionary<string, string?>(await TaskHubs.SettingsAsync("apibench" + name))
    {
        ["FENTA_DB"] = db,
        ["FENTA_JWT_SIGNING_KEY"] = new string('k', 48),
        ["FENTA_RATE_LIMIT_PER_MINUTE"] = "100000000",
        ["FENTA_ORG_RATE_LIMIT_PER_MINUTE"] = "100000000",
        ["Logging__LogLevel__Default"] = "Warning",
    };
    // The baseline's name for FENTA_STORAGE (renamed since).
    settings[name]["FENTA_STORAGE_CONNECTION"] = settings[name]["FENTA_STORAGE"];
}
Console.WriteLine($"{Environment.ProcessorCount} cores; {requests} requests per scenario and round, {concurrency} at a time, {rounds} rounds");

var results = builds.ToDictionary(b => b.Item1, _ => new List<(double Cold, Stats Get, Stats Run)>());
for (var round = 0; round < rounds; round++)
    foreach (var (name, dll) in round % 2 == 0 ? builds : builds.Reverse())
        results[name].Add(await MeasureAsync(name, dll, settings[name]));

Console.WriteLine();
Console.WriteLine($"{"",-34}{"baseline",12}{"functions",12}{"ratio",9}");
Report("cold start to /readyz, ms", r => r.Cold);
Report("GET /v1/jobs/{id} p50, ms", r => r.Get.P50);
Report("GET /v1/jobs/{id} p99, ms", r => r.Get.P99);
Report("POST /v1/workflows/{id}/run p50, ms", r => r.Run.P50);
Report("POST /v1/workflows/{id}/run p99, ms", r => r.Run.P99);
Console.WriteLine("(each figure: the median of the rounds; ratio = functions / baseline, under 1 is faster)");
return 0;

void Report(string what, Func<(double Cold, Stats Get, Stats Run), double> pick)
{
    var baseline = Median(results["baseline"].Select(pick));
    var current = Median(results["functions"].Select(pick));
    Console.WriteLine($"{what,-34}{baseline,12:F1}{current,12:F1}{current / baseline,8:F2}x");
}

async Task<(double Cold, Stats Get, Stats Run)> MeasureAsync(string name, string dll, Dictionary<string, string?> env)
{
    var port = FreePort();
    var watch = Stopwatch.StartNew();
    using var api = Start(dll, env, port);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    try
    {
        var cold = await FirstOkAsync(http, "/readyz", watch, () => api.HasExited ? $"{dll} exited with {api.ExitCode}" : null, TimeSpan.FromMinutes(3));
        var (jobId, workflowId) = await PrepareAsync(http, env["FENTA_DB"]!);
        var get = await LoadAsync(() => http.GetAsync($"/v1/jobs/{jobId}"));
        var run = await LoadAsync(() => http.PostAsJsonAsync($"/v1/workflows/{workflowId}/run", new { variables = new { topic = "bench" } }));
        Console.WriteLine($"  {name,-10} " +
            $"cold {cold,6:F0} ms   GET p50 {get.P50,5:F1} p99 {get.P99,6:F1} ms   run p50 {run.P50,5:F1} p99 {run.P99,6:F1} ms");
        return (cold, get, run);
    }
    finally
    {
        api.Kill(entireProcessTree: true);
        await api.WaitForExitAsync();
    }
}

/// <summary>A user on the enterprise plan (no run quota), one workflow and one job of it.</summary>
static async Task<(string JobId, string WorkflowId)> PrepareAsync(HttpClient http, string database)
{
    await SignUpAsync(http, database);
    var graph = new
    {
        nodes = new object[]
        {
            new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=3 about {{topic}}" } },
            new { id = "st", type = "Input.Stock", @params = new { query = "city" } },
            new { id = "v", type = "Voice.TTS" },
            new { id = "t", type = "Edit.Timeline" },
        },
        edges = new object[] { new { from = "s", to = "st" }, new { from = "s", to = "v" }, new { from = "st", to = "t" }, new { from = "v", to = "t" } },
    };
    var workflow = await Json(await http.PostAsJsonAsync("/v1/workflows", new { name = "Bench", graph, variables = new { topic = "x" } }));
    var workflowId = workflow.GetProperty("id").GetString()!;
    var job = await Json(await http.PostAsJsonAsync($"/v1/workflows/{workflowId}/run", new { }));
    return (job.GetProperty("id").GetString()!, workflowId);
}

Task<Stats> LoadAsync(Func<Task<HttpResponseMessage>> call) => BenchKit.LoadAsync(requests, concurrency, call);
