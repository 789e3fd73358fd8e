using System.Diagnostics;
using System.Text;

namespace FentaWeb.Domain.Media;

public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>The last lines of stderr, which is where ffmpeg says what went wrong.</summary>
    public string ErrorTail(int lines = 12) => string.Join('\n', StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
}

/// <summary>
/// Runs a tool to completion; cancelling kills it, so a cancelled job stops its ffmpeg. For the short ffmpeg runs that
/// read or write one file with a plain filter (loudness, mixes, test media, stock clips) and espeak-ng; ffprobe and the
/// renderer's ffmpeg go through FFMpegCore.
/// </summary>
public static class ProcessRunner
{
    /// <summary>Runs the tool; a non-zero exit becomes a <see cref="MediaException"/>: "<paramref name="failure"/>: the stderr tail".</summary>
    public static async Task<ProcessResult> RunCheckedAsync(string file, IEnumerable<string> args, string failure, CancellationToken ct)
    {
        var result = await RunAsync(file, args, ct);
        return result.ExitCode == 0 ? result : throw new MediaException($"{failure}: {result.ErrorTail(4)}");
    }

    public static async Task<ProcessResult> RunAsync(string file, IEnumerable<string> args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {file}");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        process.WaitForExit(); // flush the redirected streams
        return new ProcessResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
