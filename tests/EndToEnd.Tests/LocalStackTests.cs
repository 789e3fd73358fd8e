using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Testing;
using Xunit.Abstractions;

namespace FentaWeb.EndToEnd.Tests;

/// <summary>
/// ./run.sh as a developer runs it, in its own folder and on its own ports beside everything else: a crashed API,
/// orchestration worker or render worker is started again with backoff and the console says so, the API keeps
/// answering while a worker is down, the restarted workers run a job to its MP4, and only a signal stops the stack:
/// TERM to run.sh alone, or (started again in the same folder) to its whole process group as Ctrl-C sends it, stops
/// the API and the workers first, then MailDev, Azurite and PostgreSQL, within seconds, leaving nothing running.
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

    private readonly ITestOutputHelper _output;

    public LocalStackTests(ITestOutputHelper output)
    {
        _output = output;
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
        StartRunSh();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Starts ./run.sh (again: the same folder and ports) as the leader of a session and process group of its own
    /// (<c>setsid</c>), as a shell runs a foreground job: a signal to that group reaches run.sh and whatever stayed in its
    /// group, and never this test process.
    /// </summary>
    private void StartRunSh()
    {
        // setsid(1) calls setsid() and execs in place when it is not a group leader, as a child of this process is not,
        // so the process started here is run.sh's bash itself.
        var start = new ProcessStartInfo("setsid") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Metadata("Root") };
        start.ArgumentList.Add("bash");
        start.ArgumentList.Add(Path.Combine(Metadata("Root"), "run.sh"));
        // Nothing of the developer's or the test run's own stack leaks in: run.sh sets up its own from these alone.
        foreach (var key in start.Environment.Keys.Where(key => key.StartsWith("FENTA_", StringComparison.Ordinal) || key.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        foreach (var (key, port) in _ports) start.Environment[key] = port.ToString();
        start.Environment["FENTA_LOCAL_DIR"] = _folder;
        start.Environment["FENTA_CONFIGURATION"] = Metadata("Configuration");
        start.Environment["FENTA_DEMO_API_KEY"] = _apiKey;
        start.Environment["FENTA_STOCK_CLIPS"] = "6";
        lock (_console) _console.Clear();
        _runSh?.Dispose();
        _runSh = Process.Start(start)!;
        _runSh.OutputDataReceived += (_, line) => Record(line.Data);
        _runSh.ErrorDataReceived += (_, line) => Record(line.Data);
        _runSh.BeginOutputReadLine();
        _runSh.BeginErrorReadLine();
        // The child runs setsid(1) first: until it has called setsid() the process is still in this test's group.
        var group = -1;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10); DateTime.UtcNow < deadline && !_runSh.HasExited; Thread.Sleep(20))
            if ((group = Stat(_runSh.Id) is { } stat ? stat.ProcessGroup : -1) == _runSh.Id) break;
        Assert.True(group == _runSh.Id || _runSh.HasExited, $"run.sh (pid {_runSh.Id}) is not the leader of its own process group ({group})");
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

    /// <summary>/proc/&lt;pid&gt;/stat: "pid (comm) state ppid pgrp session …"; comm may hold spaces, so read after the last ')'. Null once it is gone.</summary>
    private static (char State, int Parent, int ProcessGroup, int Session)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], int.Parse(fields[1]), int.Parse(fields[2]), int.Parse(fields[3]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // it ended while we looked
        }
    }

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Running processes (zombies are not running), with their stat.</summary>
    private static IEnumerable<(int Pid, (char State, int Parent, int ProcessGroup, int Session) Stat)> Processes()
    {
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(folder), out var pid) && Stat(pid) is { State: not 'Z' } stat)
                yield return (pid, stat);
    }

    private static bool Running(int pid) => Stat(pid) is { State: not 'Z' };

    /// <summary>The running child of run.sh whose command line names <paramref name="program"/>.</summary>
    private int? Child(string program)
    {
        foreach (var (pid, stat) in Processes())
            if (stat.Parent == _runSh!.Id && CommandLine(pid).Contains(program, StringComparison.Ordinal)) return pid;
        return null;
    }

    /// <summary>
    /// What this run.sh started and is still running, by name: its children (the API, the workers, Azurite, MailDev), the
    /// PostgreSQL server on its port (pg_ctl daemonizes it), and anything else left in its process group or session.
    /// </summary>
    private Dictionary<int, string> Started()
    {
        var started = new Dictionary<int, string>();
        var postgres = $" -p {_ports["FENTA_PG_PORT"]}";
        foreach (var (pid, stat) in Processes())
        {
            var command = CommandLine(pid);
            if (stat.Parent == _runSh!.Id || stat.ProcessGroup == _runSh.Id || stat.Session == _runSh.Id || (command.Contains("postgres", StringComparison.Ordinal) && command.TrimEnd().EndsWith(postgres, StringComparison.Ordinal)))
                started[pid] = command;
        }
        started.Remove(_runSh!.Id);
        // The .NET build servers its dotnet build started (MSBuild's reusable nodes, the compiler server) are no part of
        // the stack: any later build on the machine reuses them, and they end on their own when idle.
        foreach (var (pid, command) in started.ToList())
            if (command.Contains("/nodemode:", StringComparison.Ordinal) || command.Contains("VBCSCompiler", StringComparison.Ordinal) || command.Contains("rzc.dll", StringComparison.Ordinal))
                started.Remove(pid);
        return started;
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

        // TERM to run.sh alone (kill PID) stops it and everything it started, in dependency order.
        await AssertStopsEverythingAsync(signalGroup: false);

        // Started again in the same folder and on the same ports (the cluster, its database and the stock library exist
        // now), with a job in flight; then TERM to run.sh's whole process group, as Ctrl-C sends it to a foreground job:
        // the API and the workers get it at the same moment as run.sh, the storage they use does not, and run.sh still
        // stops them first and PostgreSQL last.
        StartRunSh();
        await ConsoleLineAsync(ServingLine(), StartTimeout);
        using (var started = await http.PostAsJsonAsync("v1/jobs", RenderJob)) Assert.Equal(202, (int)started.StatusCode);
        await AssertStopsEverythingAsync(signalGroup: true);
    }

    /// <summary>
    /// Sends TERM to run.sh (or to its process group) and checks that it exits promptly with 128 + 15, that nothing it
    /// started outlives it, that its ports are free, and that the console shows the stops in dependency order.
    /// </summary>
    private async Task AssertStopsEverythingAsync(bool signalGroup)
    {
        var started = Started();
        foreach (var program in new[] { "FentaWeb.Functions.Api.dll", "FentaWeb.Functions.Orchestrations.dll", "FentaWeb.Render.dll", "azurite", "maildev", "postgres" })
            Assert.True(started.Values.Any(command => command.Contains(program, StringComparison.Ordinal)), $"no running {program} among what run.sh started:\n{string.Join('\n', started.Values)}");
        var how = signalGroup ? "TERM to run.sh's process group" : "TERM to run.sh";
        var stopping = Stopwatch.StartNew();
        Signal(signalGroup ? -_runSh!.Id : _runSh!.Id, "TERM");
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            try
            {
                await _runSh.WaitForExitAsync(exit.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"run.sh was still running 30 s after {how}:\n{Console()}");
            }
        }
        _output.WriteLine($"{how}: run.sh exited {_runSh.ExitCode} after {stopping.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(143, _runSh.ExitCode);
        // Orphans are reaped by init a moment after run.sh exits; a stopped process is gone within that moment.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (started.Keys.Any(Running) && DateTime.UtcNow < deadline) await Task.Delay(100);
        var survivors = started.Where(p => Running(p.Key)).Select(p => $"{p.Key}: {p.Value}").ToList();
        Assert.True(survivors.Count == 0, $"outlived run.sh after {how}:\n{string.Join('\n', survivors)}\n{Console()}");
        foreach (var (name, port) in _ports)
            Assert.False(await LocalTools.AcceptsAsync(port), $"{name} {port} still accepts connections after run.sh stopped ({how})");
        var console = Console();
        var order = new[] { "stopping the API and the workers", "stopping MailDev", "stopping Azurite", "stopping PostgreSQL" }
            .Select(line => console.IndexOf(line, StringComparison.Ordinal)).ToList();
        Assert.True(order.All(i => i >= 0) && order.SequenceEqual(order.Order()), $"the stops are not all there in dependency order after {how}:\n{console}");
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

    /// <summary>A direct render job: two stock clips under an espeak narration, a draft 9:16 render.</summary>
    private static readonly object RenderJob = new
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

    private async Task AssertARenderJobCompletesAsync(HttpClient http)
    {
        using var started = await http.PostAsJsonAsync("v1/jobs", RenderJob);
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

    /// <summary>kill -SIGNAL PID; a negative <paramref name="pid"/> names a process group.</summary>
    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", "--", pid.ToString()]);
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
