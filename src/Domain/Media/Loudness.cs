using System.Globalization;
using System.Text.RegularExpressions;

namespace FentaWeb.Domain.Media;

/// <summary>
/// Loudness normalization (EBU R128, measured by ffmpeg). Short-form platforms play audio at about -14 LUFS, so a
/// narration left at a synthesizer's own level (espeak-ng sits near -21) sounds quiet next to everything else.
/// </summary>
public static partial class Loudness
{
    private const double PeakLimitDb = -1.5;
    private const double MaxGainDb = 20;

    /// <summary>ffmpeg's one-pass loudnorm to <paramref name="targetLufs"/> (true peak at most -1.5 dBTP) at <paramref name="sampleRate"/>, for the end of a longer graph.</summary>
    public static string Filter(double targetLufs, int sampleRate) =>
        string.Create(CultureInfo.InvariantCulture, $"loudnorm=I={targetLufs:0.###}:TP={PeakLimitDb}:LRA=11,aresample={sampleRate}");

    /// <summary>
    /// Writes <paramref name="input"/> to <paramref name="output"/> (16-bit WAV) at the target integrated loudness:
    /// a plain gain with a delay-compensated peak limiter, so every sample stays where it was and timings hold.
    /// One-pass loudnorm is not used here: on clips of a few seconds its estimate is far off. Speech has high
    /// peaks, and limiting them takes loudness away, so the gain is corrected from a fresh measurement (twice at most).
    /// Near-silence is left alone rather than amplified into noise.
    /// </summary>
    public static async Task NormalizeAsync(string input, string output, double targetLufs, int channels, CancellationToken ct)
    {
        var measured = await IntegratedLufsAsync(input, ct);
        var gain = measured < -60 ? 0 : Math.Min(MaxGainDb, targetLufs - measured);
        for (var pass = 0; ; pass++)
        {
            var limiter = string.Create(CultureInfo.InvariantCulture,
                $"volume={gain:0.##}dB,alimiter=limit={Math.Pow(10, PeakLimitDb / 20):0.####}:level=false:latency=true");
            if (gain == 0 || pass == 2)
            {
                await ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "error", "-i", input, "-af", limiter, "-ac", channels.ToString(CultureInfo.InvariantCulture),
                    "-c:a", "pcm_s16le", output], "could not normalize the loudness", ct);
                return;
            }
            // Written and measured in one run (one process fewer per pass): the meter reads the 16-bit samples the file gets.
            var run = await ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "info", "-nostats", "-i", input,
                "-filter_complex", $"[0:a]{limiter},aformat=sample_fmts=s16,asplit=2[file][meter];[meter]ebur128[metered]",
                "-map", "[file]", "-ac", channels.ToString(CultureInfo.InvariantCulture), "-c:a", "pcm_s16le", output,
                "-map", "[metered]", "-f", "null", "-"], "could not normalize the loudness", ct);
            var shortfall = targetLufs - Integrated(run.StandardError);
            if (Math.Abs(shortfall) < 0.5) return;
            gain = Math.Min(MaxGainDb, gain + shortfall);
        }
    }

    /// <summary>Integrated loudness as ffmpeg's ebur128 meter reads it (about -70 for silence).</summary>
    public static async Task<double> IntegratedLufsAsync(string path, CancellationToken ct)
    {
        var meter = await ProcessRunner.RunCheckedAsync("ffmpeg", ["-v", "info", "-nostats", "-i", path, "-af", "ebur128", "-f", "null", "-"],
            "could not measure the loudness", ct);
        return Integrated(meter.StandardError);
    }

    private static double Integrated(string log) => IntegratedLine().Matches(log) is { Count: > 0 } found
        ? double.Parse(found[^1].Groups[1].Value, CultureInfo.InvariantCulture)
        : throw new MediaException("ffmpeg's loudness meter printed no integrated loudness.");

    [GeneratedRegex(@"I:\s+(-?[\d.]+) LUFS")]
    private static partial Regex IntegratedLine();
}
