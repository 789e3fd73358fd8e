using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using FentaWeb.Testing;
using Npgsql;

// The v1 API served two ways, measured in the same run on the same PostgreSQL and Azurite: a baseline build (the
// minimal API before the move to HTTP-trigger functions) and this build (the functions on the local Kestrel adapter),
// each as its own process. Cold start is process start to the first 200 from /readyz on a migrated database; latency
// is GET /v1/jobs/{id} and POST /v1/workflows/{id}/run under a bounded closed-loop load. Rounds alternate the builds.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Api.Bench <baseline api dll> <current api dll> [requests per round] [concurrency] [rounds]");
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

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

async Task<(double Cold, Stats Get, Stats Run)> MeasureAsync(string name, string dll, Dictionary<string, string?> env)
{
    var port = FreePort();
    var watch = Stopwatch.StartNew();
    using var api = Start(dll, env, port);
    using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    while (true)
    {
        if (api.HasExited) throw new InvalidOperationException($"{dll} exited with {api.ExitCode}");
        try
        {
            if ((await http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK) break;
        }
        catch (HttpRequestException) { }
        await Task.Delay(10);
    }
    var cold = watch.Elapsed.TotalMilliseconds;
    try
    {
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
    var email = $"{Guid.NewGuid():N}@bench.test";
    var session = await Json(await http.PostAsJsonAsync("/v1/auth/register", new { email, password = "a long enough password", name = "Bench" }));
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.GetProperty("access_token").GetString());
    await using (var db = NpgsqlDataSource.Create(database))
    await using (var plan = db.CreateCommand("UPDATE orgs SET plan = 'enterprise'"))
        await plan.ExecuteNonQueryAsync();
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

static async Task<JsonElement> Json(HttpResponseMessage response)
{
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {text}");
    return JsonDocument.Parse(text).RootElement.Clone();
}

/// <summary>A warm-up of a tenth, then <c>requests</c> calls with <c>concurrency</c> in flight; every answer must be a success.</summary>
async Task<Stats> LoadAsync(Func<Task<HttpResponseMessage>> call)
{
    async Task<List<double>> Run(int count)
    {
        var times = new List<double>(count);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                var watch = Stopwatch.StartNew();
                using var response = await call();
                var elapsed = watch.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                lock (times) times.Add(elapsed);
            }
        }));
        return times;
    }
    await Run(requests / 10);
    var sorted = (await Run(requests)).Order().ToList();
    return new Stats(sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1]);
}

static Process Start(string dll, Dictionary<string, string?> env, int port)
{
    var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(dll)! };
    start.ArgumentList.Add(dll);
    foreach (var (key, value) in env) start.Environment[key] = value;
    start.Environment["FENTA_HTTP_PORT"] = port.ToString();
    var process = Process.Start(start)!;
    process.OutputDataReceived += (_, _) => { };
    process.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Console.Error.WriteLine(e.Data); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

record Stats(double P50, double P99);
