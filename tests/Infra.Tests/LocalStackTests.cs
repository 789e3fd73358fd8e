using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Testing;

namespace FentaWeb.Infra.Tests;

/// <summary>
/// ./run.sh as a developer runs it, in its own folder and on its own ports beside everything else: a crashed API,
/// orchestration worker or render worker is started again with backoff and the console says so, the API keeps
/// answering while a worker is down, the restarted workers run a job to its MP4, and only a signal stops the stack.
/// </summary>
public sealed partial class LocalStackTests : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(8);
    private static readonly TimeSpan RestartTimeout = TimeSpan.FromSeconds(60);

    private static string Metadata(string key) => typeof(LocalStackTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private readonly string _folder = Directory.CreateTempSubdirectory("fenta-run-sh-").FullName;
    private readonly string _apiKey = "fw_" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
    private readonly List<string> _console = [];
    private readonly Dictionary<string, int> _ports;
    private Process? _runSh;

    public LocalStackTests()
    {
        var ports = LocalTools.FreePorts(7);
        _ports = new()
        {
            ["FENTA_HTTP_PORT"] = ports[0],
            ["FENTA_PG_PORT"] = ports[1],
            ["FENTA_AZURITE_BLOB_PORT"] = ports[2],
            ["FENTA_AZURITE_QUEUE_PORT"] = ports[3],
            ["FENTA_AZURITE_TABLE_PORT"] = ports[4],
            ["FENTA_MAILDEV_SMTP_PORT"] = ports[5],
            ["FENTA_MAILDEV_WEB_PORT"] = ports[6],
        };
    }

    private Uri ApiUrl => new($"http://127.0.0.1:{_ports["FENTA_HTTP_PORT"]}/");

    public Task InitializeAsync()
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Metadata("Root") };
        start.ArgumentList.Add(Path.Combine(Metadata("Root"), "run.sh"));
        // Nothing of the developer's or the test run's own stack leaks in: run.sh sets up its own from these alone.
        foreach (var key in start.Environment.Keys.Where(key => key.StartsWith("FENTA_", StringComparison.Ordinal) || key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, port) in _ports) start.Environment[key] = port.ToString();
        start.Environment["FENTA_LOCAL_DIR"] = _folder;
        start.Environment["FENTA_CONFIGURATION"] = Metadata("Configuration");
        start.Environment["FENTA_DEMO_API_KEY"] = _apiKey;
        start.Environment["FENTA_STOCK_CLIPS"] = "6";
        _runSh = Process.Start(start)!;
        _runSh.OutputDataReceived += (_, line) => Record(line.Data);
        _runSh.ErrorDataReceived += (_, line) => Record(line.Data);
        _runSh.BeginOutputReadLine();
        _runSh.BeginErrorReadLine();
        return Task.CompletedTask;
    }

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_console) _console.Add(AnsiEscape().Replace(line, ""));
    }

    private string Console()
    {
        lock (_console) return string.Join('\n', _console);
    }

    private async Task ConsoleLineAsync(Regex pattern, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_console)
            {
                if (_console.Any(pattern.IsMatch)) return;
            }
            if (_runSh!.HasExited) Assert.Fail($"run.sh exited ({_runSh.ExitCode}) before printing /{pattern}/:\n{Console()}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"run.sh did not print /{pattern}/ in {timeout}:\n{Console()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The running child of run.sh whose command line names <paramref name="program"/>.</summary>
    private int? Child(string program)
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid)) continue;
            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] == "Z" || int.Parse(fields[1]) != _runSh!.Id) continue;
                if (File.ReadAllText(Path.Combine(folder, "cmdline")).Contains(program, StringComparison.Ordinal)) return pid;
            }
            catch (IOException)
            {
                // It ended while we looked.
            }
        }
        return null;
    }

    private async Task<int> RestartedAsync(string name, string program, int crashed, int delaySeconds)
    {
        await ConsoleLineAsync(new Regex($@"the {name} \(pid {crashed}\) exited with status 137; starting it again in {delaySeconds} s"), RestartTimeout);
        var deadline = DateTime.UtcNow + RestartTimeout;
        while (Child(program) is not { } pid || pid == crashed)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no new {name} after {RestartTimeout}:\n{Console()}");
            await Task.Delay(100);
        }
        return Child(program)!.Value;
    }

    private static void Crash(int pid) => Process.GetProcessById(pid).Kill(); // SIGKILL: no shutdown code runs

    [Fact]
    public async Task RunShRestartsEachCrashedProcessWithBackoffKeepsTheApiUpAndStopsOnlyOnASignal()
    {
        const string Api = "FentaWeb.Functions.Api.dll", Worker = "FentaWeb.Functions.Orchestrations.dll", Renderer = "FentaWeb.Render.dll";
        await ConsoleLineAsync(ServingLine(), StartTimeout);
        using var http = new HttpClient { BaseAddress = ApiUrl, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _apiKey);
        // run.sh seeded the demo account with the key it was given, its address counted as verified (it gets no mail).
        var me = await http.GetFromJsonAsync<JsonElement>("v1/auth/me");
        Assert.Equal(("demo@fentaweb.local", true), (me.GetProperty("user").GetProperty("email").GetString(), me.GetProperty("user").GetProperty("email_verified").GetBoolean()));

        // The worker dies twice in a row and the renderer once, while the API is asked for its health all along.
        using var probing = new CancellationTokenSource();
        var health = ProbeHealthAsync(http, probing.Token);
        var worker = Child(Worker)!.Value;
        Crash(worker);
        worker = await RestartedAsync("worker", Worker, worker, delaySeconds: 1);
        Crash(worker);
        worker = await RestartedAsync("worker", Worker, worker, delaySeconds: 2); // it kept crashing: the pause doubles
        var renderer = Child(Renderer)!.Value;
        Crash(renderer);
        await RestartedAsync("render", Renderer, renderer, delaySeconds: 1); // each process has its own backoff
        await probing.CancelAsync();
        var (answered, failures) = await health;
        Assert.True(failures.Count == 0 && answered > 10, $"{answered} health answers while workers crashed; failures: {string.Join(", ", failures)}");

        // The API dies and comes back on its port.
        var api = Child(Api)!.Value;
        Crash(api);
        await RestartedAsync("api", Api, api, delaySeconds: 1);
        await EventuallyHealthyAsync(http);

        // The restarted processes do the work: a direct render job goes through the worker and the renderer to an MP4.
        await AssertARenderJobCompletesAsync(http);
        Assert.Equal(worker, Child(Worker)); // and nothing crashed on the way

        // TERM (as Ctrl-C) stops run.sh and everything it started.
        var children = new[] { Child(Api), Child(Worker), Child(Renderer) };
        Signal(_runSh!.Id, "TERM");
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(90))) await _runSh.WaitForExitAsync(exit.Token);
        Assert.Equal(130, _runSh.ExitCode);
        Assert.All(children, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"pid {pid} outlived run.sh"));
        foreach (var (name, port) in _ports.Where(p => p.Key != "FENTA_MAILDEV_WEB_PORT"))
            Assert.False(await LocalTools.AcceptsAsync(port), $"{name} {port} still accepts connections after run.sh stopped");
        Assert.Contains("stopping PostgreSQL", Console());
    }

    private static async Task<(int Answered, List<string> Failures)> ProbeHealthAsync(HttpClient http, CancellationToken stop)
    {
        var (answered, failures) = (0, new List<string>());
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await http.GetAsync("healthz", CancellationToken.None);
                if (response.IsSuccessStatusCode) answered++;
                else failures.Add(((int)response.StatusCode).ToString());
            }
            catch (HttpRequestException e)
            {
                failures.Add(e.Message);
            }
            try
            {
                await Task.Delay(200, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        return (answered, failures);
    }

    private static async Task EventuallyHealthyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow + RestartTimeout;
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("readyz");
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline)
            {
                // Still starting.
            }
            Assert.True(DateTime.UtcNow < deadline, "the restarted API did not become ready");
            await Task.Delay(200);
        }
    }

    private async Task AssertARenderJobCompletesAsync(HttpClient http)
    {
        var body = new
        {
            template_id = "tmpl_shorts_v1",
            config = new
            {
                sources = new object[] { new { type = "stock", provider = "local", query = "city night", count = 2 } },
                script = new { prompt = "the night shift keeps the city running", genre = "news", duration_seconds = 6 },
                tts = new { provider = "espeak" },
                output = new { profile = "9x16_720p", quality = "draft" },
            },
        };
        using var started = await http.PostAsJsonAsync("v1/jobs", body);
        Assert.Equal(202, (int)started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        JsonElement job;
        do
        {
            await Task.Delay(500);
            job = await http.GetFromJsonAsync<JsonElement>($"v1/jobs/{id}");
        }
        while (job.GetProperty("status").GetString() is "queued" or "processing" && DateTime.UtcNow < deadline);
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());

        // The MP4 through its signed link, from the Azurite run.sh started (it serves HTTPS with the certificate it made).
        var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_folder, "azurite-tls", "cert.pem"));
        using var blobs = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, served, _, _) => served is not null && served.Thumbprint == certificate.Thumbprint });
        var video = await blobs.GetByteArrayAsync(job.GetProperty("result").GetProperty("video_url").GetString());
        Assert.Equal("ftyp"u8.ToArray(), video[4..8]);
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString()]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    public async Task DisposeAsync()
    {
        if (_runSh is { HasExited: false })
        {
            // A failed test still leaves nothing running: run.sh's own clean-up stops PostgreSQL (which it daemonized).
            Signal(_runSh.Id, "TERM");
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await _runSh.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                _runSh.Kill(entireProcessTree: true);
            }
        }
        _runSh?.Dispose();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    [GeneratedRegex(@"serving; Ctrl-C stops")]
    private static partial Regex ServingLine();

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex AnsiEscape();
}
