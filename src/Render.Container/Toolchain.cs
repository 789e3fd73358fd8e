using System.Diagnostics;

namespace FentaWeb.Render;

/// <summary>One capability the renderer relies on, and whether this machine's ffmpeg has it.</summary>
public sealed record Capability(string Name, string Why, bool Present);

/// <summary>
/// Checks that ffmpeg/ffprobe and the fonts the renderer needs are installed, with the encoders and filters it uses.
/// The render worker runs this before claiming work, so a bad image fails at start, not in the middle of a job.
/// </summary>
public static class Toolchain
{
    private static readonly (string Name, string Why)[] Encoders =
    [
        ("libx264", "H.264 video, the output codec"),
        ("aac", "AAC audio, the output codec"),
    ];

    private static readonly (string Name, string Why)[] Filters =
    [
        ("subtitles", "burned-in ASS subtitles (libass)"),
        ("drawtext", "text overlays (freetype)"),
        ("xfade", "crossfades between scenes"),
        ("zoompan", "Ken-Burns motion on stills"),
        ("loudnorm", "loudness normalization to -14 LUFS"),
        ("sidechaincompress", "music ducking under speech"),
    ];

    /// <param name="ffmpegPath">Where ffmpeg is (ffprobe is looked for beside it); by default, on the PATH.</param>
    public static async Task<IReadOnlyList<Capability>> CheckAsync(string ffmpegPath = "ffmpeg", CancellationToken ct = default)
    {
        var ffprobePath = Path.Combine(Path.GetDirectoryName(ffmpegPath) ?? "", "ffprobe");
        var ffmpeg = await RunAsync(ffmpegPath, ["-hide_banner", "-version"], ct);
        var ffprobe = await RunAsync(ffprobePath, ["-hide_banner", "-version"], ct);
        var capabilities = new List<Capability>
        {
            new("ffmpeg", "renders video", ffmpeg is not null),
            new("ffprobe", "reads media metadata", ffprobe is not null),
            new("font", $"overlay text font ({FfmpegRenderer.Font})", File.Exists(FfmpegRenderer.Font)),
        };
        var encoders = ffmpeg is null ? "" : await RunAsync(ffmpegPath, ["-hide_banner", "-encoders"], ct) ?? "";
        var filters = ffmpeg is null ? "" : await RunAsync(ffmpegPath, ["-hide_banner", "-filters"], ct) ?? "";
        capabilities.AddRange(Encoders.Select(e => new Capability($"encoder {e.Name}", e.Why, Listed(encoders, e.Name))));
        capabilities.AddRange(Filters.Select(f => new Capability($"filter {f.Name}", f.Why, Listed(filters, f.Name))));
        return capabilities;
    }

    // Listings are "<flags> <name> <description>"; match the name as a whole word in the second column.
    private static bool Listed(string listing, string name) =>
        listing.Split('\n').Any(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var n, ..] && n == name);

    private static async Task<string?> RunAsync(string file, string[] args, CancellationToken ct)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }
}
