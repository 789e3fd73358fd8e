using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Npgsql;

namespace FentaWeb.Bench;

/// <summary>What both parts of the API benchmark share: starting a build, waiting for its first answer, a user to call
/// with, the closed-loop load and its statistics.</summary>
internal static class BenchKit
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// Polls <paramref name="path"/> every 10 ms until it answers 200 and returns <paramref name="since"/>'s elapsed
    /// milliseconds then. <paramref name="failed"/> says why the server can no longer answer (it exited), or null.
    /// </summary>
    public static async Task<double> FirstOkAsync(HttpClient http, string path, Stopwatch since, Func<string?> failed, TimeSpan timeout)
    {
        while (true)
        {
            if (failed() is { } why) throw new InvalidOperationException(why);
            if (since.Elapsed > timeout) throw new TimeoutException($"no 200 from {path} within {timeout}");
            try
            {
                using var probe = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                using var response = await http.GetAsync(path, probe.Token);
                if (response.StatusCode == HttpStatusCode.OK) return since.Elapsed.TotalMilliseconds;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(10);
        }
    }

    /// <summary>A new user whose org is on the enterprise plan (no quota stops it); <paramref name="http"/> calls as them from now on.</summary>
    public static async Task SignUpAsync(HttpClient http, string database)
    {
        var email = $"{Guid.NewGuid():N}@bench.test";
        var session = await Json(await http.PostAsJsonAsync("/v1/auth/register", new { email, password = "a long enough password", name = "Bench" }));
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", session.GetProperty("access_token").GetString());
        await using var db = NpgsqlDataSource.Create(database);
        await using var plan = db.CreateCommand("UPDATE orgs SET plan = 'enterprise'");
        await plan.ExecuteNonQueryAsync();
    }

    public static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>
    /// A warm-up of a tenth, then <paramref name="requests"/> calls with <paramref name="concurrency"/> in flight; every
    /// answer must be a success (<paramref name="expected"/>, when given, exactly that status).
    /// </summary>
    public static async Task<Stats> LoadAsync(int requests, int concurrency, Func<Task<HttpResponseMessage>> call, HttpStatusCode? expected = null)
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
                    if (expected is { } status ? response.StatusCode != status : !response.IsSuccessStatusCode)
                        throw new InvalidOperationException($"{(int)response.StatusCode} {response.RequestMessage?.RequestUri}: {await response.Content.ReadAsStringAsync()}");
                    lock (times) times.Add(elapsed);
                }
            }));
            return times;
        }
        await Run(requests / 10);
        var sorted = (await Run(requests)).Order().ToList();
        return new Stats(sorted[sorted.Count / 2], sorted[(int)Math.Ceiling(sorted.Count * 0.99) - 1]);
    }

    /// <summary>An API build as its own process on the local Kestrel adapter (<c>dotnet &lt;dll&gt;</c>), on <paramref name="port"/>.</summary>
    public static Process Start(string dll, IReadOnlyDictionary<string, string?> env, int port)
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

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

internal sealed record Stats(double P50, double P99);
