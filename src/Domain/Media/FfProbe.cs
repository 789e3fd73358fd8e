using System.Globalization;
using System.Text.Json;
using FFMpegCore;
using FFMpegCore.Exceptions;

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

/// <summary>Reads duration, size, frame rate and codecs with ffprobe, through FFMpegCore's <c>FFProbe.AnalyseAsync</c>.</summary>
public static class FfProbe
{
    public static async Task<MediaInfo> ProbeAsync(string path, CancellationToken ct)
    {
        IMediaAnalysis analysis;
        try
        {
            analysis = await FFProbe.AnalyseAsync(path, cancellationToken: ct);
        }
        catch (FFProbeProcessException e)
        {
            throw new MediaException($"ffprobe could not read {Path.GetFileName(path)}: {string.Join('\n', e.StandardError.TakeLast(3))}");
        }
        catch (Exception e) when (e is FileNotFoundException or FFMpegException or JsonException or FormatException or OverflowException)
        {
            // A missing file, or an answer FFMpegCore could not read (no format section, a field it cannot parse).
            throw new MediaException($"ffprobe could not read {Path.GetFileName(path)}: {e.Message}");
        }
        return From(analysis);
    }

    private static MediaInfo From(IMediaAnalysis analysis)
    {
        var video = analysis.PrimaryVideoStream;
        var audio = analysis.PrimaryAudioStream;
        string? RawDuration(MediaStream? stream) => stream is null ? null : analysis.Raw.Streams.FirstOrDefault(s => s.Index == stream.Index)?.Duration;
        var duration = Seconds(analysis.Raw.Format.Duration) ?? Seconds(RawDuration(video)) ?? Seconds(RawDuration(audio));
        return new MediaInfo(
            duration,
            video?.Width,
            video?.Height,
            // A still has no duration, and its nominal frame rate (ffprobe reports 25 for a PNG) would be misleading.
            duration is null ? null : Rate(video?.AverageFrameRate) ?? Rate(video?.RealFrameRate),
            video?.CodecName,
            audio?.CodecName,
            analysis.Format.FormatName,
            audio?.Channels);
    }

    /// <summary>
    /// A duration as FFMpegCore has ffprobe print it (<c>H:MM:SS.micro</c>), to the microsecond: FFMpegCore's own
    /// TimeSpans keep milliseconds only, cut rather than rounded (2.249977 s would read 2.249). Absent or zero: null.
    /// </summary>
    private static double? Seconds(string? sexagesimal) =>
        sexagesimal?.Split(':') is [var h, var m, var s]
        && int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var hours)
        && int.TryParse(m, NumberStyles.None, CultureInfo.InvariantCulture, out var minutes)
        && double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
        && hours * 3600 + minutes * 60 + seconds is var total and > 0
            ? total
            : null;

    // 30000/1001 → 29.97.
    private static double? Rate(double? fps) => fps is { } rate && double.IsFinite(rate) && rate > 0 ? Math.Round(rate, 3) : null;
}

public sealed class MediaException(string message) : Exception(message);
