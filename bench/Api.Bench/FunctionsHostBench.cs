using System.Diagnostics;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using FentaWeb.Domain.Jobs;
using FentaWeb.Testing;
using static FentaWeb.Bench.BenchKit;

namespace FentaWeb.Bench;

/// <summary>
/// The second part of the API benchmark (<c>bench/api --functions-host</c>): this build's Function apps, published, each
/// under a real Azure Functions host (<see cref="FunctionsHost"/>), against the same API build on the local Kestrel
/// adapter, in the same run on the same PostgreSQL and Azurite.
/// <list type="bullet">
/// <item>Start: host process start to its first answer. The API app: the first 200 from <c>/readyz</c> (a function, so the
/// worker is up), on both sides. The orchestrations app (host only, it serves no API): the first 200 from the host's
/// anonymous <c>/admin/host/ping</c>, and the first "Job host started" line in its log (its triggers listening).</item>
/// <item>Latency: <c>POST /v1/jobs</c> (an inline two-node graph, 202; each writes the job and schedules an
/// orchestration), client-side p50/p99 under the same closed-loop load as the first part; before it, the same load of
/// <c>GET /healthz</c> (no I/O), which shows what the host's hop alone costs.</item>
/// </list>
/// Each served variant (API under the host, API on the local adapter, the orchestrations host) has a database and a
/// task hub of its own. The orchestrations host runs only for its start and is stopped before any latency is measured,
/// so no worker takes the scheduled jobs on either side. Rounds alternate the two API variants; figures are medians.
/// </summary>
internal static class FunctionsHostBench
{
    private const string JobHostStarted = "Job host started";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3);

    /// <summary>An inline graph without a render: Script.Generate → Voice.TTS.</summary>
    private static readonly JsonElement Job = JsonDocument.Parse("""
        {"graph":{"nodes":[{"id":"s","type":"Script.Generate","params":{"prompt":"Two short sentences about the sea","genre":"news","lang":"en"}},
                           {"id":"v","type":"Voice.TTS","params":{"voice":"alloy_en"}}],
                  "edges":[{"id":"e1","from":"s","to":"v"}]}}
        """).RootElement.Clone();

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Api.Bench --functions-host <repository root> [requests per round] [concurrency] [rounds]");
            return 2;
        }
        var root = Path.GetFullPath(args[0]);
        var requests = args.Length > 1 ? int.Parse(args[1]) : 2000;
        var concurrency = args.Length > 2 ? int.Parse(args[2]) : 8;
        var rounds = args.Length > 3 ? int.Parse(args[3]) : 3;

        var (hostFolder, func, missing) = FunctionsHost.Find();
        if (missing is not null)
        {
            Console.Error.WriteLine(missing);
            return 2;
        }
        var localDll = Path.Combine(root, "src", "Functions.Api", "bin", "Release", "net10.0", "FentaWeb.Functions.Api.dll");
        if (!File.Exists(localDll))
        {
            Console.Error.WriteLine($"no {localDll}: build src/Functions.Api in Release first (bench/api does)");
            return 2;
        }

        // What Azure runs: the Release build, published (bench/api builds it first).
        var published = Path.Combine(root, ".local", "bench-api-functions");
        var apiApp = Path.Combine(published, "api");
        var orchestrationsApp = Path.Combine(published, "orchestrations");
        if (Directory.Exists(published)) Directory.Delete(published, recursive: true);
        Console.WriteLine($"publishing both Function apps (Release) into {published}");
        await FunctionsHost.PublishAsync(Path.Combine(root, "src", "Functions.Api"), "Release", apiApp);
        await FunctionsHost.PublishAsync(Path.Combine(root, "src", "Functions.Orchestrations"), "Release", orchestrationsApp);

        await using var server = await PostgresServer.StartDedicatedAsync(durable: true);
        var host = await SettingsAsync(server, "host");
        var local = await SettingsAsync(server, "local");
        var orchestrations = await SettingsAsync(server, "orch");
        // Under a host the app's storage account is also the host's (locks, the Durable extension's task hub).
        host["AzureWebJobsStorage"] = host["FENTA_STORAGE"];
        // Function executions logged at Warning, like the app on both sides (the host's own system trace of each request,
        // two entries, still reaches its console: this host build's console switch).
        host["AzureFunctionsJobHost__logging__logLevel__default"] = "Warning";
        orchestrations["AzureWebJobsStorage"] = orchestrations["FENTA_STORAGE"];
        // host.json names the production hub ("fentaweb"); this variant's is its own.
        orchestrations["AzureFunctionsJobHost__extensions__durableTask__hubName"] = orchestrations["FENTA_TASK_HUB"];

        Console.WriteLine($"{Environment.ProcessorCount} cores; host {hostFolder ?? func}; " +
                          $"{requests} requests per round and variant, {concurrency} at a time, {rounds} rounds");
        var api = new Dictionary<string, List<Served>> { ["host"] = [], ["local"] = [] };
        var orchestrationsStart = new List<(double Ping, double Started)>();
        for (var round = 0; round < rounds; round++)
        {
            Console.WriteLine($"round {round + 1}");
            orchestrationsStart.Add(await OrchestrationsStartAsync(orchestrationsApp, orchestrations));
            foreach (var variant in round % 2 == 0 ? ["host", "local"] : new[] { "local", "host" })
                api[variant].Add(variant == "host"
                    ? await ApiUnderHostAsync(apiApp, host, requests, concurrency)
                    : await ApiLocalAsync(localDll, local, requests, concurrency));
        }

        Console.WriteLine();
        Console.WriteLine($"{"",-50}{"host",10}{"local",10}{"ratio",9}");
        void Report(string what, Func<Served, double> pick)
        {
            var underHost = Median(api["host"].Select(pick));
            var onLocal = Median(api["local"].Select(pick));
            Console.WriteLine($"{what,-50}{underHost,10:F1}{onLocal,10:F1}{underHost / onLocal,8:F2}x");
        }
        Report("API start to first 200 /readyz, ms", r => r.Start);
        Console.WriteLine($"{"orchestrations start to 200 /admin/host/ping, ms",-50}{Median(orchestrationsStart.Select(o => o.Ping)),10:F1}{"-",10}");
        Console.WriteLine($"{"orchestrations start to \"" + JobHostStarted + "\", ms",-50}{Median(orchestrationsStart.Select(o => o.Started)),10:F1}{"-",10}");
        Report("GET /healthz p50, ms", r => r.Health.P50);
        Report("GET /healthz p99, ms", r => r.Health.P99);
        Report("POST /v1/jobs p50, ms", r => r.Post.P50);
        Report("POST /v1/jobs p99, ms", r => r.Post.P99);
        Console.WriteLine("(each figure: the median of the rounds; ratio = host / local, over 1 is slower under the host;");
        Console.WriteLine(" start = process start to the first answer; the orchestrations host ran only for its start, so no worker took the jobs)");
        return 0;
    }

    private static async Task<Dictionary<string, string?>> SettingsAsync(PostgresServer server, string variant) =>
        new(await TaskHubs.SettingsAsync("apibenchfh" + variant))
        {
            ["FENTA_DB"] = await server.CreateDatabaseAsync("benchfh" + variant),
            ["FENTA_JWT_SIGNING_KEY"] = new string('k', 48),
            ["FENTA_RATE_LIMIT_PER_MINUTE"] = "100000000",
            ["FENTA_ORG_RATE_LIMIT_PER_MINUTE"] = "100000000",
            // The orchestrations app's queue trigger listens on a fixed queue name, so no per-run prefix.
            ["FENTA_RENDER_QUEUE_PREFIX"] = "",
            ["Logging__LogLevel__Default"] = "Warning",
        };

    /// <summary>The orchestrations app under the host, from process start to its first ping answer and its "Job host started" line; then stopped.</summary>
    private static async Task<(double Ping, double Started)> OrchestrationsStartAsync(string app, IReadOnlyDictionary<string, string?> settings)
    {
        var watch = Stopwatch.StartNew();
        await using var host = FunctionsHost.Start("orchestrations", app, FreePort(), settings);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        var started = Task.Run(async () =>
        {
            var seen = 0;
            while (true)
            {
                var log = host.Log;
                if (log.Skip(seen).Any(l => l.Contains(JobHostStarted, StringComparison.Ordinal))) return watch.Elapsed.TotalMilliseconds;
                seen = log.Count;
                if (host.HasExited) throw new InvalidOperationException($"the orchestrations host exited:\n{host.Tail()}");
                if (watch.Elapsed > StartTimeout) throw new TimeoutException($"no \"{JobHostStarted}\" from the orchestrations host in {StartTimeout}:\n{host.Tail()}");
                await Task.Delay(10);
            }
        });
        var ping = await FirstOkAsync(http, "/admin/host/ping", watch, () => host.HasExited ? $"the orchestrations host exited:\n{host.Tail()}" : null, StartTimeout);
        var jobHost = await started;
        Console.WriteLine($"  orchestrations host   ping {ping,6:F0} ms   \"{JobHostStarted}\" {jobHost,6:F0} ms");
        return (ping, jobHost);
    }

    private static async Task<Served> ApiUnderHostAsync(string app, IReadOnlyDictionary<string, string?> settings, int requests, int concurrency)
    {
        var watch = Stopwatch.StartNew();
        await using var host = FunctionsHost.Start("api", app, FreePort(), settings);
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        try
        {
            var start = await FirstOkAsync(http, "/readyz", watch, () => host.HasExited ? $"the API host exited:\n{host.Tail()}" : null, StartTimeout);
            return Report("host", start, await LoadAsync(http, settings, requests, concurrency));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine($"the API host's log, last lines:\n{host.Tail()}");
            throw;
        }
    }

    private static async Task<Served> ApiLocalAsync(string dll, IReadOnlyDictionary<string, string?> settings, int requests, int concurrency)
    {
        var port = FreePort();
        var watch = Stopwatch.StartNew();
        using var api = Start(dll, settings, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            var start = await FirstOkAsync(http, "/readyz", watch, () => api.HasExited ? $"{dll} exited with {api.ExitCode}" : null, StartTimeout);
            return Report("local", start, await LoadAsync(http, settings, requests, concurrency));
        }
        finally
        {
            api.Kill(entireProcessTree: true);
            await api.WaitForExitAsync();
        }
    }

    /// <summary>The load of <c>GET /healthz</c> (each a 200), then a new enterprise user and the load of <c>POST /v1/jobs</c> (each a 202).</summary>
    private static async Task<(Stats Health, Stats Post)> LoadAsync(HttpClient http, IReadOnlyDictionary<string, string?> settings, int requests, int concurrency)
    {
        var health = await BenchKit.LoadAsync(requests, concurrency, () => http.GetAsync("/healthz"), HttpStatusCode.OK);
        await SignUpAsync(http, settings["FENTA_DB"]!);
        return (health, await BenchKit.LoadAsync(requests, concurrency, () => http.PostAsJsonAsync("/v1/jobs", Job), HttpStatusCode.Accepted));
    }

    private static Served Report(string variant, double start, (Stats Health, Stats Post) load)
    {
        Console.WriteLine($"  API {variant,-6}            start {start,6:F0} ms   GET /healthz p50 {load.Health.P50,5:F1} p99 {load.Health.P99,6:F1} ms" +
                          $"   POST /v1/jobs p50 {load.Post.P50,5:F1} p99 {load.Post.P99,6:F1} ms");
        return new Served(start, load.Health, load.Post);
    }

    private sealed record Served(double Start, Stats Health, Stats Post);
}
