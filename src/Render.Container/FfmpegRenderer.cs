using System.Globalization;
using System.Text;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Rendering;
using FFMpegCore;
using FFMpegCore.Enums;
using FFMpegCore.Exceptions;

namespace FentaWeb.Render;

/// <param name="Thumbnail">Whether the render also writes a JPEG thumbnail (a preview does not).</param>
public sealed record RenderQuality(EncoderPreset Preset, int Crf, bool Thumbnail = true)
{
    public static RenderQuality For(string quality) => quality switch
    {
        RenderQualities.Preview => new(EncoderPreset.UltraFast, 30, Thumbnail: false),
        "draft" => new(EncoderPreset.UltraFast, 30),
        "high" => new(EncoderPreset.Medium, 20),
        _ => new(EncoderPreset.VeryFast, 23),
    };
}

public sealed record RenderResult(string VideoPath, string? ThumbnailPath, string SrtPath, double RenderSeconds);

/// <summary>
/// Renders a <see cref="RenderSpec"/> with one ffmpeg run and one filter graph: every scene scaled and cropped to
/// the canvas, joined with crossfades (or cuts), text overlays, burned-in ASS subtitles, the narration padded to
/// the full length; H.264 yuv420p + AAC with faststart. Then a JPEG thumbnail and the SRT. ffmpeg runs through
/// FFMpegCore (inputs, codecs, outputs, progress, cancellation); the filter graph is built here, FFMpegCore having
/// no API for a complex graph.
/// </summary>
public static class FfmpegRenderer
{
    public const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

    public static async Task<RenderResult> RenderAsync(RenderSpec spec, string outputPath, RenderQuality quality, Action<double>? progress,
        CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var work = Path.Combine(Path.GetTempPath(), $"fenta-render-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            // Each file is probed once, however many scenes show it (a timeline reuses its clips).
            var probes = spec.Audio.Select(a => a.Source).Concat(spec.Scenes.Where(s => s.Kind == "video").Select(s => s.Source)).Distinct(StringComparer.Ordinal)
                .ToDictionary(source => source, source => FfProbe.ProbeAsync(source, ct), StringComparer.Ordinal);
            await Task.WhenAll(probes.Values);
            // Mono sources stay mono: upmixing them only doubles the AAC encoder's work for the same sound.
            var audio = spec.Audio.Select(track => probes[track.Source].Result).ToList();
            var sceneFps = spec.Scenes.Select(scene => scene.Kind == "video" ? probes[scene.Source].Result.Fps : null).ToList();
            var ffmpeg = BuildCommand(spec, outputPath, quality, work, stereo: audio.Any(p => p.AudioChannels is null or > 1), sceneFps);
            if (progress is not null && spec.DurationSeconds > 0)
                ffmpeg.NotifyOnPercentageProgress(percent => progress(Math.Clamp(percent / 100, 0, 1)), TimeSpan.FromSeconds(spec.DurationSeconds));
            try
            {
                // Cancelling kills ffmpeg at once, without the grace FFMpegCore gives it to finish the file: a cancelled
                // render's output is thrown away.
                await ffmpeg.CancellableThrough(ct, TimeSpan.Zero).ProcessAsynchronously();
            }
            catch (FFMpegProcessException e)
            {
                throw new MediaException($"ffmpeg failed (exit {e.Result.ExitCode}): {ErrorTail(e.Result.StandardError)}");
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                ct.ThrowIfCancellationRequested(); // the token that cancelled, not FFMpegCore's own exception
                throw;
            }

            var srt = Path.ChangeExtension(outputPath, ".srt");
            await File.WriteAllTextAsync(srt, SubtitleWriter.ToSrt(spec.Subtitles?.Cues ?? []), ct);
            return new RenderResult(outputPath, quality.Thumbnail ? ThumbnailPath(outputPath) : null, srt, (DateTime.UtcNow - started).TotalSeconds);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The ffmpeg run: FFMpegCore's arguments for inputs and outputs, with the filter graph built here.</summary>
    /// <param name="sceneFps">Each scene's source frame rate where known: faster sources drop frames before scaling.</param>
    public static FFMpegArgumentProcessor BuildCommand(RenderSpec spec, string outputPath, RenderQuality quality, string work, bool stereo = true,
        IReadOnlyList<double?>? sceneFps = null)
    {
        var (w, h, fps, total) = (spec.Width, spec.Height, spec.Fps, spec.DurationSeconds);
        var crossfade = spec.Transition != "cut" && spec.Scenes.Count > 1 ? Math.Max(0.1, spec.TransitionSeconds) : 0;
        // Each input with its own options, in the order the graph numbers them; ffmpeg reports a missing file itself.
        var inputs = new List<(string Source, Action<FFMpegInputOptions>? Options)>();
        var graph = new StringBuilder();
        var input = 0;

        for (var i = 0; i < spec.Scenes.Count; i++)
        {
            var scene = spec.Scenes[i];
            var length = scene.Duration + (i < spec.Scenes.Count - 1 ? crossfade : 0);
            if (scene.Kind == "image")
            {
                inputs.Add((scene.Source, null));
                var frames = (int)Math.Ceiling(length * fps);
                graph.Append(CultureInfo.InvariantCulture,
                    $"[{input}:v]scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},setsar=1," +
                    $"zoompan=z='min(zoom+0.0010,1.15)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={w}x{h}:fps={fps}," +
                    $"trim=duration={Seconds(length)},setpts=PTS-STARTPTS,format=yuv420p[v{i}];");
            }
            else
            {
                inputs.Add((scene.Source, options => options.WithStreamLoop(-1).WithStartTime(TimeSpan.FromSeconds(scene.TrimStart))
                    .WithDuration(TimeSpan.FromSeconds(length))));
                // Frames are resampled to the output rate on whichever side of the scaler has fewer of them. The
                // source is cropped to the canvas's aspect before scaling, so no pixel is scaled only to be cut
                // away (a landscape clip in a portrait short used to be scaled to 3413x1920 first). zimg's
                // bilinear resize is cheaper than swscale's; its input is made 8-bit 4:2:0 first because zimg
                // refuses to guess a matrix for RGB or untagged sources.
                var dropFirst = sceneFps?[i] > fps + 0.01;
                graph.Append(CultureInfo.InvariantCulture,
                    $"[{input}:v]{(dropFirst ? $"fps={fps}," : "")}crop=w='trunc(min(iw,ih*{w}/{h})/2)*2':h='trunc(min(ih,iw*{h}/{w})/2)*2'," +
                    $"format=yuv420p,zscale=w={w}:h={h}:filter=bilinear,format=yuv420p,setsar=1,{(dropFirst ? "" : $"fps={fps},")}" +
                    $"trim=duration={Seconds(length)},setpts=PTS-STARTPTS[v{i}];");
            }
            input++;
        }

        // Join. A crossfade blends the outgoing scene's extra tail with the incoming scene's first moments, starting
        // where the incoming scene starts, so the whole lasts the sum of scene durations. Only those short windows
        // go through xfade; the bodies are cut and concatenated, which is far cheaper than fading whole streams.
        var last = "v0";
        if (spec.Scenes.Count > 1)
        {
            var pieces = new List<string>();
            var n = spec.Scenes.Count;
            for (var i = 0; i < n; i++)
            {
                var d = spec.Scenes[i].Duration;
                var head = i > 0 && crossfade > 0 ? crossfade : 0;
                var hasTail = i < n - 1 && crossfade > 0;
                var outputs = 1 + (head > 0 ? 1 : 0) + (hasTail ? 1 : 0);
                var source = $"v{i}";
                if (outputs > 1)
                {
                    graph.Append(CultureInfo.InvariantCulture, $"[v{i}]split={outputs}[s{i}b]{(head > 0 ? $"[s{i}h]" : "")}{(hasTail ? $"[s{i}t]" : "")};");
                    source = $"s{i}b";
                }
                graph.Append(CultureInfo.InvariantCulture, $"[{source}]trim=start={Seconds(head)}:end={Seconds(d)},setpts=PTS-STARTPTS[body{i}];");
                if (head > 0) graph.Append(CultureInfo.InvariantCulture, $"[s{i}h]trim=end={Seconds(crossfade)},setpts=PTS-STARTPTS[head{i}];");
                if (hasTail) graph.Append(CultureInfo.InvariantCulture, $"[s{i}t]trim=start={Seconds(d)},setpts=PTS-STARTPTS[tail{i}];");
            }
            for (var i = 0; i < n; i++)
            {
                pieces.Add($"[body{i}]");
                if (i < n - 1 && crossfade > 0)
                {
                    CrossFade(graph, $"tail{i}", $"head{i + 1}", crossfade, $"fade{i}");
                    pieces.Add($"[fade{i}]");
                }
            }
            graph.Append(string.Concat(pieces)).Append(CultureInfo.InvariantCulture, $"concat=n={pieces.Count}:v=1:a=0[joined];");
            last = "joined";
        }

        var video = new List<string>();
        for (var i = 0; i < spec.Overlays.Count; i++) video.Add(DrawText(spec.Overlays[i], Path.Combine(work, $"overlay-{i}.txt"), h));
        if (spec.Subtitles is { Cues.Count: > 0 } subtitles)
        {
            var ass = Path.Combine(work, "subtitles.ass");
            File.WriteAllText(ass, SubtitleWriter.ToAss(subtitles.Cues, subtitles.Preset, subtitles.Style, w, h));
            video.Add($"subtitles=filename={ass}:fontsdir=/usr/share/fonts/truetype/dejavu");
        }
        video.Add($"trim=duration={Seconds(total)},setpts=PTS-STARTPTS{(quality.Thumbnail ? ",split=2[vout][vall]" : "[vout]")}");
        graph.Append(CultureInfo.InvariantCulture, $"[{last}]{string.Join(",", video)};");
        // The thumbnail is one finished frame (at 3 s, or mid-way in a shorter video) taken from the same run, not a second decode.
        if (quality.Thumbnail) graph.Append(CultureInfo.InvariantCulture, $"[vall]select='eq(n,{(int)(Math.Min(total / 2, 3) * fps)})'[thumb];");

        // Audio: the tracks mixed at their start times, padded or cut to exactly the video's length.
        var layout = stereo ? "stereo" : "mono";
        if (spec.Audio.Count == 0)
        {
            inputs.Add(($"anullsrc=r=48000:cl={layout}", options => options.ForceFormat("lavfi").WithDuration(TimeSpan.FromSeconds(total))));
            graph.Append(CultureInfo.InvariantCulture, $"[{input}:a]atrim=duration={Seconds(total)}[aout]");
        }
        else
        {
            var labels = new List<string>();
            foreach (var track in spec.Audio)
            {
                inputs.Add((track.Source, null));
                var delay = (int)Math.Round(track.Start * 1000);
                graph.Append(CultureInfo.InvariantCulture,
                    $"[{input}:a]aresample=48000,aformat=channel_layouts={layout},volume={Seconds(track.Volume)},adelay={delay}|{delay}[a{input}];");
                labels.Add($"[a{input}]");
                input++;
            }
            var mixed = labels.Count == 1 ? labels[0] : $"{string.Concat(labels)}amix=inputs={labels.Count}:normalize=0";
            graph.Append(labels.Count == 1 ? labels[0] : mixed)
                .Append(CultureInfo.InvariantCulture, $"{(labels.Count == 1 ? "" : ",")}apad=whole_dur={Seconds(total)},atrim=duration={Seconds(total)}[aout]");
        }

        var arguments = FFMpegArguments.FromFileInput(inputs[0].Source, verifyExists: false, inputs[0].Options);
        foreach (var (source, options) in inputs.Skip(1)) arguments.AddFileInput(source, verifyExists: false, options);
        return arguments
            .OutputToMany(outputs =>
            {
                outputs.OutputToFile(outputPath, overwrite: true, options => options
                    // Global options, which ffmpeg takes anywhere on the line. -stats keeps the progress lines that
                    // FFMpegCore reads coming at the error log level.
                    .WithCustomArgument($"-stats -filter_complex_threads {Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)} " +
                                        $"-filter_complex {Quote(graph.ToString())}")
                    .WithMap("vout").WithMap("aout")
                    .WithVideoCodec(VideoCodec.LibX264).WithSpeedPreset(quality.Preset).WithConstantRateFactor(quality.Crf).WithPixelFormat("yuv420p")
                    .WithFrameRate(fps).WithAudioCodec(AudioCodec.Aac).WithAudioBitrate(128).WithAudioSamplingRate(48000).WithFastStart()
                    .WithDuration(TimeSpan.FromSeconds(total)));
                if (quality.Thumbnail)
                    outputs.OutputToFile(ThumbnailPath(outputPath), overwrite: true, options => options
                        .WithMap("thumb").WithFrameCount(1).WithVideoQualityScale(3).WithCustomArgument("-update 1"));
            })
            .WithLogLevel(FFMpegLogLevel.Error);
    }

    /// <summary>
    /// One argument for the command line FFMpegCore hands to ProcessStartInfo, which splits it by the Windows rules on
    /// every platform: inside double quotes only a quote, and the backslashes before one, need escaping.
    /// </summary>
    private static string Quote(string argument)
    {
        var quoted = new StringBuilder("\"");
        var backslashes = 0;
        foreach (var c in argument)
        {
            if (c == '\\')
            {
                backslashes++;
                continue;
            }
            quoted.Append('\\', c == '"' ? backslashes * 2 + 1 : backslashes).Append(c);
            backslashes = 0;
        }
        return quoted.Append('\\', backslashes * 2).Append('"').ToString();
    }

    /// <summary>The end of ffmpeg's stderr without its progress lines: what it said went wrong.</summary>
    private static string ErrorTail(IEnumerable<string> stderr) => string.Join('\n', stderr
        .Where(line => !line.StartsWith("frame=", StringComparison.Ordinal) && !line.StartsWith("size=", StringComparison.Ordinal)).TakeLast(12));

    /// <summary>
    /// xfade only takes 4:4:4 or RGB, so on 4:2:0 frames ffmpeg would convert both sides up and the result back
    /// down, about 13 ms a 1080x1920 frame. Fading each plane on its own keeps 4:2:0 throughout: the same luma, a
    /// closer chroma, a quarter of the work.
    /// </summary>
    private static void CrossFade(StringBuilder graph, string from, string to, double seconds, string output)
    {
        graph.Append(CultureInfo.InvariantCulture, $"[{from}]extractplanes=y+u+v[{from}y][{from}u][{from}v];[{to}]extractplanes=y+u+v[{to}y][{to}u][{to}v];");
        foreach (var plane in "yuv")
            graph.Append(CultureInfo.InvariantCulture, $"[{from}{plane}][{to}{plane}]xfade=transition=fade:duration={Seconds(seconds)}:offset=0[{output}{plane}];");
        graph.Append(CultureInfo.InvariantCulture, $"[{output}y][{output}u][{output}v]mergeplanes=0x001020:yuv420p[{output}];");
    }

    private static string ThumbnailPath(string videoPath) => Path.ChangeExtension(videoPath, ".jpg");

    /// <summary>A text overlay; the text goes through a file so no character needs escaping in the filter graph.</summary>
    private static string DrawText(RenderOverlay o, string textFile, int height)
    {
        File.WriteAllText(textFile, o.Text);
        var margin = height / 16;
        var (x, y) = o.Position switch
        {
            "top" => ("(w-text_w)/2", $"{margin}"),
            "center" => ("(w-text_w)/2", "(h-text_h)/2"),
            "bottom" => ("(w-text_w)/2", $"h-text_h-{margin * 3}"),
            "top_left" => ($"{margin}", $"{margin}"),
            "top_right" => ($"w-text_w-{margin}", $"{margin}"),
            "bottom_left" => ($"{margin}", $"h-text_h-{margin * 3}"),
            _ => ($"w-text_w-{margin}", $"h-text_h-{margin * 3}"),
        };
        var (from, to) = (Seconds(o.From), Seconds(o.To));
        var ease = $"min(1,(t-{from})/0.4)";
        y = o.Animation switch
        {
            "slide-down" => $"-text_h+({y}+text_h)*{ease}",
            "slide-up" => $"h-({ease})*(h-({y}))",
            _ => y,
        };
        var alpha = o.Animation is "fade" or "pop" ? $":alpha='min(1,(t-{from})/0.3)*min(1,({to}-t)/0.3)'" : "";
        var size = o.Animation == "pop" ? $"{o.Size}*(0.8+0.2*min(1,(t-{from})/0.25))" : o.Size.ToString(CultureInfo.InvariantCulture);
        return $"drawtext=fontfile={Font}:textfile={textFile}:fontsize='{size}':fontcolor={o.Color.TrimStart('#')}:box=1:boxcolor=black@0.45:boxborderw={o.Size / 4}" +
               $":x='{x}':y='{y}'{alpha}:enable='between(t,{from},{to})'";
    }

    private static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
