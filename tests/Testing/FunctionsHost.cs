using System.Diagnostics;
using System.Text.Json;

namespace FentaWeb.Testing;

/// <summary>
/// One Function app under a real Azure Functions host, as a process of its own on a loopback port: the host named by
/// FENTA_FUNCTIONS_HOST (a folder holding <c>Microsoft.Azure.WebJobs.Script.WebHost.dll</c>; ./test.sh unpacks the one
/// in ../shared/tools/funchost there), else Core Tools' <c>func</c> on the PATH. The app is the published folder
/// (<see cref="PublishAsync"/>); its settings are given as environment variables, as App Service gives app settings.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    public const string HostVariable = "FENTA_FUNCTIONS_HOST";
    private const string WebHostDll = "Microsoft.Azure.WebJobs.Script.WebHost.dll";

    private readonly Process _process;
    private readonly List<string> _log = [];

    private FunctionsHost(Process process, int port, string name)
    {
        _process = process;
        Name = name;
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        process.OutputDataReceived += (_, line) => Record(line.Data);
        process.ErrorDataReceived += (_, line) => Record(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Name { get; }
    public Uri BaseAddress { get; }

    /// <summary>Everything the host and the app's worker printed so far.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_log) return [.. _log];
        }
    }

    public bool HasExited => _process.HasExited;

    private void Record(string? line)
    {
        if (line is null) return;
        lock (_log) _log.Add(line);
    }

    /// <summary>How this machine runs a Functions host, or why it cannot (the one reason a host test may not run).</summary>
    public static (string? Folder, string? Func, string? Missing) Find()
    {
        if (Environment.GetEnvironmentVariable(HostVariable) is { Length: > 0 } folder)
            return File.Exists(Path.Combine(folder, WebHostDll)) ? (folder, null, null) : (null, null, $"{HostVariable}={folder} holds no {WebHostDll}");
        var func = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "func")).FirstOrDefault(File.Exists);
        return func is not null ? (null, func, null)
            : (null, null, $"no Azure Functions host: set {HostVariable} to a folder holding {WebHostDll} (./test.sh does, from ../shared/tools/funchost), or install Core Tools (func)");
    }

    /// <summary>
    /// <c>dotnet publish --no-build</c> of a Function app project into <paramref name="output"/>: what Azure runs, from the
    /// build the tests run on.
    /// </summary>
    public static async Task PublishAsync(string project, string configuration, string output)
    {
        var (exit, text) = await LocalTools.RunAsync("dotnet", ["publish", project, "-c", configuration, "--no-build", "-o", output, "-nologo", "-v", "quiet"],
            timeout: TimeSpan.FromMinutes(5));
        if (exit != 0) throw new InvalidOperationException($"dotnet publish {project} failed ({exit}):\n{text}");
        // The worker SDK leaves System.Memory.Data out of .azurefunctions because a host provides it, but the host built
        // here ships 6.0 while the apps' extensions need the version their deps name: put that one back, from the NuGet cache.
        var deps = Path.Combine(output, ".azurefunctions", "function.deps.json");
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(deps));
        var version = document.RootElement.GetProperty("libraries").EnumerateObject()
            .Select(l => l.Name).FirstOrDefault(n => n.StartsWith("System.Memory.Data/", StringComparison.Ordinal))?.Split('/')[1];
        var target = Path.Combine(output, ".azurefunctions", "System.Memory.Data.dll");
        if (version is null || File.Exists(target)) return;
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } root ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        File.Copy(Path.Combine(packages, "system.memory.data", version, "lib", "net8.0", "System.Memory.Data.dll"), target);
    }

    /// <summary>Starts the published app in <paramref name="app"/> under the host on <paramref name="port"/>.</summary>
    public static FunctionsHost Start(string name, string app, int port, IReadOnlyDictionary<string, string?> settings)
    {
        var (folder, func, missing) = Find();
        if (missing is not null) throw new InvalidOperationException(missing);
        // The host looks for language workers in its own folder.
        if (folder is not null) Directory.CreateDirectory(Path.Combine(folder, "workers"));
        var start = folder is not null
            ? new ProcessStartInfo("dotnet", [WebHostDll]) { WorkingDirectory = folder }
            : new ProcessStartInfo(func!, ["host", "start", "--port", port.ToString()]) { WorkingDirectory = app };
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        // With CONTAINER_NAME set the host believes it runs on Linux Consumption and waits for an assignment.
        start.Environment.Remove("CONTAINER_NAME");
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        start.Environment["AzureWebJobsScriptRoot"] = app;
        start.Environment["languageWorkers__dotnet-isolated__workerDirectory"] = app;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        // Set by Azure and by func; the Durable extension needs it to bind [DurableClient].
        start.Environment["WEBSITE_HOSTNAME"] = $"127.0.0.1:{port}";
        // Hosts sharing a storage account need ids of their own.
        start.Environment["AzureFunctionsWebHost__hostid"] = $"{name}-{Guid.NewGuid():N}"[..32];
        start.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Development";
        start.Environment["AzureWebJobsSecretStorageType"] = "files";
        start.Environment["FUNCHOST_CONSOLE"] = "1";
        start.Environment["AzureFunctionsJobHost__Logging__Console__IsEnabled"] = "true";
        return new FunctionsHost(Process.Start(start)!, port, name);
    }

    /// <summary>Waits until <paramref name="path"/> answers 200; returns how long that took from now.</summary>
    public async Task<TimeSpan> AnsweringAsync(string path, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the {Name} host exited ({_process.ExitCode}):\n{Tail()}");
            if (watch.Elapsed > timeout) throw new TimeoutException($"the {Name} host did not answer {path} in {timeout}:\n{Tail()}");
            try
            {
                using var response = await http.GetAsync(path);
                if (response.IsSuccessStatusCode) return watch.Elapsed;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The last lines of the log, for failure messages.</summary>
    public string Tail(int lines = 60) => string.Join('\n', Log.TakeLast(lines));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}
