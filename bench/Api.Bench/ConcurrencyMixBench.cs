using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Testing;
using Npgsql;
using static FentaWeb.Bench.BenchKit;

namespace FentaWeb.Bench;

/// <summary>
/// The third part of the API benchmark (<c>bench/api --concurrency-mix</c>): many concurrent clients of one org making
/// mixed requests against the API on the local Kestrel adapter while an orchestration worker runs the jobs they create,
/// as on <c>./run.sh</c>'s stack. Each client is a closed loop over a fixed rotation of request kinds (its own starting
/// point): <c>GET /v1/jobs/{id}</c> twice, <c>GET /v1/jobs</c>, <c>GET /v1/workflows/{id}</c>, <c>POST /v1/jobs</c> and
/// <c>POST /v1/workflows/{id}/run</c> once each, so a third of the requests create a job (Script.Generate → Voice.TTS,
/// which the worker really runs: espeak-ng and a blob upload). Every answer is checked (200 or 202). Reported per kind:
/// client-side p50 and p99, and each against <c>GET /v1/jobs/{id}</c> at the same percentile in the same round (the
/// baseline: a read through the same gate, rate limit and PostgreSQL pool, without the task hub).
/// <para>
/// The processes are this Release build as run.sh starts them (<c>dotnet FentaWeb.Functions.Api.dll</c>, <c>dotnet
/// FentaWeb.Functions.Orchestrations.dll</c>), with run.sh's task hub timings and PostgreSQL pool (the product's
/// defaults, not the tests' short polls and pool of 30), on a PostgreSQL of their own (fsync on) and the Azurite the
/// tests use (in memory, HTTPS). Each round has a database, a task hub and processes of its own; figures are medians.
/// </para>
/// <para>
/// Given a baseline build (another checkout's Release output, e.g. the commit before a change), each round measures it
/// and this build one after the other, alternating which goes first, so both see the same machine; the table then
/// shows both side by side.
/// </para>
/// </summary>
internal static class ConcurrencyMixBench
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    private static readonly string[] Rotation =
        ["GET /v1/jobs/{id}", "POST /v1/jobs", "GET /v1/jobs", "POST /v1/workflows/{id}/run", "GET /v1/workflows/{id}", "GET /v1/jobs/{id}"];

    private const string Baseline = "GET /v1/jobs/{id}";

    /// <summary>An inline graph the worker runs for real without a render: Script.Generate → Voice.TTS (espeak-ng).</summary>
    private static readonly JsonElement Graph = JsonDocument.Parse("""
        {"nodes":[{"id":"s","type":"Script.Generate","params":{"prompt":"Two short sentences about {{topic}}","genre":"news","lang":"en"}},
                  {"id":"v","type":"Voice.TTS","params":{"voice":"alloy_en"}}],
         "edges":[{"id":"e1","from":"s","to":"v"}]}
        """).RootElement.Clone();

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Api.Bench --concurrency-mix <repository root> [clients] [seconds per round] [rounds] [baseline repository root]");
            return 2;
        }
        var clients = args.Length > 1 ? int.Parse(args[1]) : 50;
        var seconds = args.Length > 2 ? int.Parse(args[2]) : 30;
        var rounds = args.Length > 3 ? int.Parse(args[3]) : 3;
        var builds = new List<(string Name, string Api, string Worker)>();
        foreach (var (name, root) in args.Length > 4 ? new[] { ("baseline", args[4]), ("this build", args[0]) } : [("this build", args[0])])
        {
            var bin = Path.Combine(Path.GetFullPath(root), "src", "{0}", "bin", "Release", "net10.0", "{1}");
            var build = (name, string.Format(bin, "Functions.Api", "FentaWeb.Functions.Api.dll"), string.Format(bin, "Functions.Orchestrations", "FentaWeb.Functions.Orchestrations.dll"));
            foreach (var dll in new[] { build.Item2, build.Item3 })
                if (!File.Exists(dll))
                {
                    Console.Error.WriteLine($"no {dll}: build it in Release first (bench/api does)");
                    return 2;
                }
            builds.Add(build);
        }

        await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
        Console.WriteLine($"{Environment.ProcessorCount} cores; {clients} concurrent clients, {seconds} s per round after a {seconds / 6} s warm-up, {rounds} rounds; " +
                          "one org; a third of the requests create a job; an orchestration worker runs them");
        var results = builds.ToDictionary(b => b.Name, _ => new List<Dictionary<string, Stats>>());
        for (var round = 1; round <= rounds; round++)
            foreach (var (name, api, worker) in round % 2 == 1 ? builds : Enumerable.Reverse(builds))
            {
                Console.WriteLine($"round {round}, {name} (load average before: {LoadAverage()})");
                results[name].Add(await RoundAsync(server, $"{round}{name[0]}", api, worker, clients, seconds));
            }

        foreach (var (name, measured) in results)
        {
            Console.WriteLine();
            Console.WriteLine($"{name,-30}{"p50 ms",10}{"p99 ms",10}{"p50 ratio",11}{"p99 ratio",11}");
            foreach (var kind in Rotation.Distinct())
            {
                var p50 = Median(measured.Select(r => r[kind].P50));
                var p99 = Median(measured.Select(r => r[kind].P99));
                // Ratios per round against that round's read, then their median: a round disturbed as a whole cancels out.
                var r50 = Median(measured.Select(r => r[kind].P50 / r[Baseline].P50));
                var r99 = Median(measured.Select(r => r[kind].P99 / r[Baseline].P99));
                Console.WriteLine($"{kind,-30}{p50,10:F1}{p99,10:F1}{r50,10:F2}x{r99,10:F2}x");
            }
        }
        Console.WriteLine($"(each figure: the median of the rounds; ratio = the kind / {Baseline} of the same build in the same round)");
        return 0;
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static async Task<Dictionary<string, Stats>> RoundAsync(PostgresServer server, string round, string apiDll, string workerDll, int clients, int seconds)
    {
        var hub = await TaskHubs.SettingsAsync($"apibenchmix{round}");
        // run.sh's stack: the product's default pool (the tests' connection strings cap it at 30) and task hub timings
        // (the tests poll every 0.1 s and take leases for 6 s).
        var database = new NpgsqlConnectionStringBuilder(await server.CreateDatabaseAsync($"benchmix{round}"));
        database.Remove("Maximum Pool Size");
        var settings = new Dictionary<string, string?>
        {
            ["FENTA_DB"] = database.ConnectionString,
            ["FENTA_STORAGE"] = hub["FENTA_STORAGE"],
            ["FENTA_TASK_HUB"] = hub["FENTA_TASK_HUB"],
            ["FENTA_RENDER_QUEUE_PREFIX"] = hub["FENTA_RENDER_QUEUE_PREFIX"],
            ["FENTA_AZURE_BLOB_URL"] = hub["FENTA_AZURE_BLOB_URL"],
            ["FENTA_AZURE_BLOB_CREDENTIAL"] = hub["FENTA_AZURE_BLOB_CREDENTIAL"],
            ["FENTA_BLOB_CACHE_DIR"] = hub["FENTA_BLOB_CACHE_DIR"],
            ["FENTA_JWT_SIGNING_KEY"] = new string('k', 48),
            ["FENTA_RATE_LIMIT_PER_MINUTE"] = "100000000",
            ["FENTA_ORG_RATE_LIMIT_PER_MINUTE"] = "100000000",
            ["Logging__LogLevel__Default"] = "Warning",
        };
        var port = FreePort();
        using var api = Start(apiDll, settings, port);
        using var worker = Start(workerDll, settings, FreePort());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        try
        {
            string? Exited() => api.HasExited ? $"the API exited with {api.ExitCode}" : worker.HasExited ? $"the worker exited with {worker.ExitCode}" : null;
            await FirstOkAsync(http, "/readyz", Stopwatch.StartNew(), Exited, StartTimeout);
            await SignUpAsync(http, settings["FENTA_DB"]!);
            var workflow = await Json(await http.PostAsJsonAsync("/v1/workflows", new { name = "Bench", graph = Graph, variables = new { topic = "the sea" } }));
            var workflowId = workflow.GetProperty("id").GetString()!;
            var job = await Json(await http.PostAsJsonAsync("/v1/jobs", new { graph = Graph, variables = new { topic = "the sea" } }));
            var jobId = job.GetProperty("id").GetString()!;

            Task<HttpResponseMessage> Call(string kind) => kind switch
            {
                "GET /v1/jobs/{id}" => http.GetAsync($"/v1/jobs/{jobId}"),
                "GET /v1/jobs" => http.GetAsync("/v1/jobs?limit=20"),
                "GET /v1/workflows/{id}" => http.GetAsync($"/v1/workflows/{workflowId}"),
                "POST /v1/jobs" => http.PostAsJsonAsync("/v1/jobs", new { graph = Graph, variables = new { topic = "bench" } }),
                "POST /v1/workflows/{id}/run" => http.PostAsJsonAsync($"/v1/workflows/{workflowId}/run", new { variables = new { topic = "bench" } }),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind),
            };
            await MixAsync(clients, TimeSpan.FromSeconds(seconds / 6.0), Call);
            var times = await MixAsync(clients, TimeSpan.FromSeconds(seconds), Call);
            if (Exited() is { } why) throw new InvalidOperationException(why);

            var stats = times.ToDictionary(t => t.Key, t => Percentiles(t.Value));
            var jobs = await JobCountsAsync(settings["FENTA_DB"]!);
            foreach (var (kind, s) in stats.OrderBy(s => Array.IndexOf(Rotation, s.Key)))
                Console.WriteLine($"  {kind,-30} {times[kind].Count,6} calls   p50 {s.P50,7:F1} ms   p99 {s.P99,7:F1} ms");
            Console.WriteLine($"  {times.Values.Sum(t => t.Count) / (double)seconds,6:F1} requests/s; jobs by status at the end: {jobs}; load average after: {LoadAverage()}");
            return stats;
        }
        finally
        {
            foreach (var process in new[] { api, worker })
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
    }

    /// <summary>
    /// <paramref name="clients"/> closed loops for <paramref name="duration"/>, each over <see cref="Rotation"/> from its
    /// own starting point; the client-side milliseconds of every answer, by kind. Any answer other than 200/202 fails the run.
    /// </summary>
    private static async Task<Dictionary<string, List<double>>> MixAsync(int clients, TimeSpan duration, Func<string, Task<HttpResponseMessage>> call)
    {
        var times = Rotation.Distinct().ToDictionary(k => k, _ => new List<double>());
        var end = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async client =>
        {
            for (var i = client; end.Elapsed < duration; i++)
            {
                var kind = Rotation[i % Rotation.Length];
                var watch = Stopwatch.StartNew();
                using var response = await call(kind);
                var elapsed = watch.Elapsed.TotalMilliseconds;
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                    throw new InvalidOperationException($"{kind}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                lock (times) times[kind].Add(elapsed);
            }
        }));
        return times;
    }

    private static Stats Percentiles(List<double> times)
    {
        var sorted = times.Order().ToList();
        return new Stats(sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1]);
    }

    private static async Task<string> JobCountsAsync(string database)
    {
        await using var db = NpgsqlDataSource.Create(database);
        await using var cmd = db.CreateCommand("SELECT status, count(*) FROM jobs GROUP BY status ORDER BY status");
        await using var reader = await cmd.ExecuteReaderAsync();
        var counts = new List<string>();
        while (await reader.ReadAsync()) counts.Add($"{reader.GetString(0)} {reader.GetInt64(1)}");
        return string.Join(", ", counts);
    }
}
