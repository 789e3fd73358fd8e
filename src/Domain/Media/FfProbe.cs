using System.Globalization;
using System.Text.Json;

namespace FentaWeb.Domain.Media;

public sealed record MediaInfo(
    double? DurationSeconds,
    int? Width,
    int? Height,
    double? Fps,
    string? VideoCodec,
    string? AudioCodec,
    string? FormatName,
    int? AudioChannels = null)
{
    public bool HasVideo => VideoCodec is not null;
    public bool HasAudio => AudioCodec is not null;
}

/// <summary>Reads duration, size, frame rate and codecs with <c>ffprobe -print_format json</c>.</summary>
public static class FfProbe
{
    public static async Task<MediaInfo> ProbeAsync(string path, CancellationToken ct)
    {
        var result = await ProcessRunner.RunAsync("ffprobe",
            ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", path], ct);
        if (result.ExitCode != 0) throw new MediaException($"ffprobe could not read {Path.GetFileName(path)}: {result.ErrorTail(3)}");
        return Parse(result.StandardOutput);
    }

    public static MediaInfo Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var streams = root.TryGetProperty("streams", out var s) ? s.EnumerateArray().ToList() : [];
        var video = streams.FirstOrDefault(x => Text(x, "codec_type") == "video");
        var audio = streams.FirstOrDefault(x => Text(x, "codec_type") == "audio");
        var format = root.TryGetProperty("format", out var f) ? f : default;
        var duration = Number(format, "duration") ?? Number(video, "duration") ?? Number(audio, "duration");
        return new MediaInfo(
            duration,
            video.ValueKind == JsonValueKind.Object && video.TryGetProperty("width", out var w) ? w.GetInt32() : null,
            video.ValueKind == JsonValueKind.Object && video.TryGetProperty("height", out var h) ? h.GetInt32() : null,
            // A still has no duration; its nominal r_frame_rate (often 25) would be misleading.
            Rate(Text(video, "avg_frame_rate")) ?? (duration is null ? null : Rate(Text(video, "r_frame_rate"))),
            Text(video, "codec_name"),
            Text(audio, "codec_name"),
            Text(format, "format_name"),
            audio.ValueKind == JsonValueKind.Object && audio.TryGetProperty("channels", out var c) ? c.GetInt32() : null);
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement e, string name) =>
        Text(e, name) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;

    // "30000/1001" → 29.97; "0/0" (stills) → null.
    private static double? Rate(string? fraction)
    {
        if (fraction?.Split('/') is not [var num, var den]) return null;
        return double.TryParse(num, CultureInfo.InvariantCulture, out var n) && double.TryParse(den, CultureInfo.InvariantCulture, out var d) && d > 0 && n > 0
            ? Math.Round(n / d, 3)
            : null;
    }
}

public sealed class MediaException(string message) : Exception(message);
