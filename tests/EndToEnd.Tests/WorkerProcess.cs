using System.Diagnostics;

namespace FentaWeb.EndToEnd.Tests;

/// <summary>The test worker as a separate OS process, so SIGKILL is a real crash.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    /// <summary>An orchestration worker with the test activities.</summary>
    public static WorkerProcess Start(IReadOnlyDictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? extra = null) =>
        Start(settings, extra, []);

    /// <summary>A render container whose Output.Render is the test double.</summary>
    public static WorkerProcess StartRenderer(IReadOnlyDictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? extra = null) =>
        Start(settings, extra, ["render"]);

    private static WorkerProcess Start(IReadOnlyDictionary<string, string?> settings, IReadOnlyDictionary<string, string?>? extra, string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "FentaWeb.TestWorker.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in settings)
            start.Environment[key.Replace(":", "__")] = value;
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
            start.Environment[key] = value;
        var process = Process.Start(start)!;
        var log = Path.Combine(Path.GetTempPath(), $"fenta-worker-{process.Id}.log");
        process.OutputDataReceived += (_, e) => { lock (process) File.AppendAllText(log, e.Data + "\n"); };
        process.ErrorDataReceived += (_, e) => { lock (process) File.AppendAllText(log, e.Data + "\n"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new WorkerProcess(process);
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease hand-back; the process just stops.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
