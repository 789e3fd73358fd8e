using FentaWeb.Domain.Media;
using FentaWeb.Domain.Rendering;

namespace FentaWeb.Render.Tests;

/// <summary>Real ffmpeg renders at a small size, checked with ffprobe.</summary>
public class RendererTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"fenta-render-test-{Guid.NewGuid():N}");
    private IReadOnlyList<StockClip> _clips = [];
    private string _voice = null!;
    private IReadOnlyList<SpokenSentence> _sentences = [];
    private double _voiceSeconds;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dir);
        _clips = await new LocalStockLibrary(Path.Combine(_dir, "stock"), clipCount: 3).EnsureAsync(CancellationToken.None);
        var espeak = new EspeakSynthesizer();
        var first = await espeak.SpeakAsync("Welcome to the render test.", new SpeechVoice("en-us", "en", 1.2), CancellationToken.None);
        var second = await espeak.SpeakAsync("Subtitles follow the voice.", new SpeechVoice("en-us", "en", 1.2), CancellationToken.None);
        var all = PcmAudio.Concat([first, first.Silence(0.25), second]);
        _voice = Path.Combine(_dir, "voice.wav");
        await Wav.WriteAsync(_voice, all, CancellationToken.None);
        _voiceSeconds = all.DurationSeconds;
        var secondStart = first.DurationSeconds + 0.25;
        _sentences =
        [
            new SpokenSentence(0, "Welcome to the render test.", 0, first.DurationSeconds, Sentences.TimeWords("Welcome to the render test.", 0, first.DurationSeconds)),
            new SpokenSentence(1, "Subtitles follow the voice.", secondStart, _voiceSeconds, Sentences.TimeWords("Subtitles follow the voice.", secondStart, _voiceSeconds)),
        ];
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private RenderSpec Spec(int width, int height, bool subtitles = true)
    {
        var total = Math.Round(_voiceSeconds + 0.5, 3);
        var each = total / 3;
        return new RenderSpec(width, height, 25, total,
            [.. _clips.Select((c, i) => new RenderScene(Path.Combine(_dir, "stock", c.File), "video", i * each, each))],
            "crossfade", 0.3,
            [new RenderOverlay("BREAKING: RENDER TEST", 0, 1.5, "top", "slide-down", height / 24, "#FFFFFF")],
            subtitles ? new RenderSubtitles("clean_box", new AssStyle(Size: height / 22, Margin: height / 12), SubtitleWriter.BuildCues(_sentences, new CueRules())) : null,
            [new RenderAudio(_voice, 0)]);
    }

    [Theory]
    [InlineData(360, 640)]
    [InlineData(640, 360)]
    [InlineData(480, 480)]
    [InlineData(432, 540)]
    public async Task RendersTheProfileSizeWithVoiceLengthAudioThumbnailAndSrt(int width, int height)
    {
        var spec = Spec(width, height);
        var output = Path.Combine(_dir, $"out-{width}x{height}.mp4");
        var progress = new List<double>();
        var result = await FfmpegRenderer.RenderAsync(spec, output, RenderQuality.For("draft"), progress.Add, CancellationToken.None);

        var info = await FfProbe.ProbeAsync(output, CancellationToken.None);
        Assert.Equal((width, height, "h264", "aac"), (info.Width, info.Height, info.VideoCodec, info.AudioCodec));
        Assert.Equal(1, info.AudioChannels); // the espeak voice is mono, so the mix stays mono
        Assert.InRange(info.DurationSeconds!.Value, spec.DurationSeconds - 0.1, spec.DurationSeconds + 0.1);
        Assert.True(File.Exists(result.ThumbnailPath) && new FileInfo(result.ThumbnailPath).Length > 0);
        Assert.Equal(width, (await FfProbe.ProbeAsync(result.ThumbnailPath, CancellationToken.None)).Width);
        Assert.StartsWith("1\n00:00:00,000 --> ", await File.ReadAllTextAsync(result.SrtPath));
        Assert.All(progress, p => Assert.InRange(p, 0, 1));
        Assert.Equal(1, progress[^1]);
    }

    [Fact]
    public async Task ProgressMovesWhileFfmpegRuns()
    {
        // Big enough, and slow enough a preset, that ffmpeg reports several times before it is done.
        var spec = Spec(720, 1280) with { DurationSeconds = 8 };
        var progress = new List<double>();
        await FfmpegRenderer.RenderAsync(spec, Path.Combine(_dir, "progress.mp4"), RenderQuality.For("high"), progress.Add, CancellationToken.None);

        Assert.Contains(progress, p => p is > 0 and < 1);
        Assert.Equal(progress.Order(), progress); // never backwards
        Assert.Equal(1, progress[^1]);
    }

    [Fact]
    public async Task AStereoTrackMakesTheMixStereo()
    {
        var music = Path.Combine(_dir, "stereo-music.wav");
        var made = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=4", "-ac", "2", music], CancellationToken.None);
        Assert.True(made.ExitCode == 0, made.StandardError);
        var spec = Spec(360, 640, subtitles: false);
        spec = spec with { Audio = [.. spec.Audio, new RenderAudio(music, 0, 0.2)] };

        await FfmpegRenderer.RenderAsync(spec, Path.Combine(_dir, "stereo.mp4"), RenderQuality.For("draft"), null, CancellationToken.None);

        Assert.Equal(2, (await FfProbe.ProbeAsync(Path.Combine(_dir, "stereo.mp4"), CancellationToken.None)).AudioChannels);
    }

    [Theory]
    [InlineData("yuv420p", 60, "libx264")] // a faster source loses frames before it is scaled
    [InlineData("rgb24", 25, "png")] // zimg is handed 4:2:0 even when the source is RGB
    public async Task AWideSceneIsCroppedToThePortraitCanvasCentreAtTheOutputRate(string pixelFormat, int rate, string codec)
    {
        // Red edges around a green band a little wider than the part a 9:16 canvas keeps of a 16:9 frame.
        var source = Path.Combine(_dir, $"wide-{pixelFormat}.mov");
        var made = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", $"color=red:s=640x360:r={rate}:d=2",
            "-vf", "drawbox=x=200:y=0:w=240:h=360:color=green:t=fill", "-pix_fmt", pixelFormat, "-c:v", codec, source], CancellationToken.None);
        Assert.True(made.ExitCode == 0, made.StandardError);
        var spec = new RenderSpec(360, 640, 25, 2, [new RenderScene(source, "video", 0, 2)], "cut", 0, [], null, []);
        var output = Path.Combine(_dir, $"wide-{pixelFormat}.mp4");

        await FfmpegRenderer.RenderAsync(spec, output, RenderQuality.For("draft"), null, CancellationToken.None);

        var info = await FfProbe.ProbeAsync(output, CancellationToken.None);
        Assert.Equal((360, 640, 25.0), (info.Width, info.Height, info.Fps));
        Assert.InRange(info.DurationSeconds!.Value, 1.9, 2.1);
        var rgb = await AverageColourAsync(output, 1);
        Assert.True(rgb[0] < 40 && rgb[1] > 90, $"the frame averages to rgb({rgb[0]},{rgb[1]},{rgb[2]}), not the source's green centre");
    }

    [Fact]
    public async Task ACrossfadeBlendsTheScenesColoursAcrossTheTransition()
    {
        async Task<string> SolidAsync(string colour)
        {
            var path = Path.Combine(_dir, $"solid-{colour}.mp4");
            var made = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", $"color={colour}:s=320x240:r=25:d=3",
                "-pix_fmt", "yuv420p", "-c:v", "libx264", path], CancellationToken.None);
            Assert.True(made.ExitCode == 0, made.StandardError);
            return path;
        }
        var spec = new RenderSpec(360, 640, 25, 4, [new RenderScene(await SolidAsync("red"), "video", 0, 2), new RenderScene(await SolidAsync("blue"), "video", 2, 2)],
            "crossfade", 1, [], null, []);
        var output = Path.Combine(_dir, "crossfade.mp4");

        await FfmpegRenderer.RenderAsync(spec, output, RenderQuality.For("draft"), null, CancellationToken.None);

        var (before, middle, after) = (await AverageColourAsync(output, 1), await AverageColourAsync(output, 2.5), await AverageColourAsync(output, 3.6));
        Assert.True(before[0] > 200 && before[2] < 40, $"before the fade: rgb({before[0]},{before[1]},{before[2]}), not red");
        Assert.True(middle[0] is > 80 and < 180 && middle[2] is > 80 and < 180 && middle[1] < 50,
            $"half-way through the fade: rgb({middle[0]},{middle[1]},{middle[2]}), not red and blue mixed");
        Assert.True(after[2] > 200 && after[0] < 40, $"after the fade: rgb({after[0]},{after[1]},{after[2]}), not blue");
    }

    /// <summary>The frame at <paramref name="seconds"/> averaged down to one RGB pixel.</summary>
    private async Task<byte[]> AverageColourAsync(string video, double seconds)
    {
        var pixel = Path.Combine(_dir, $"pixel-{Guid.NewGuid():N}.rgb");
        var averaged = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-ss", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-i", video, "-frames:v", "1", "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", pixel], CancellationToken.None);
        Assert.True(averaged.ExitCode == 0, averaged.StandardError);
        return await File.ReadAllBytesAsync(pixel);
    }

    [Fact]
    public async Task SubtitlesAreBurnedIn()
    {
        var cue = SubtitleWriter.BuildCues(_sentences, new CueRules())[0];
        var at = (cue.Start + cue.End) / 2;
        async Task<byte[]> FrameAsync(bool subtitles)
        {
            var video = Path.Combine(_dir, $"subs-{subtitles}.mp4");
            await FfmpegRenderer.RenderAsync(Spec(360, 640, subtitles), video, RenderQuality.For("draft"), null, CancellationToken.None);
            var frame = Path.Combine(_dir, $"frame-{subtitles}.png");
            var result = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-ss", at.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture),
                "-i", video, "-frames:v", "1", "-vf", "crop=iw:ih/4:0:ih*3/4", frame], CancellationToken.None);
            Assert.True(result.ExitCode == 0, result.StandardError);
            return await File.ReadAllBytesAsync(frame);
        }
        Assert.NotEqual(await FrameAsync(subtitles: false), await FrameAsync(subtitles: true));
    }

    [Fact]
    public async Task CancellingStopsFfmpeg()
    {
        var spec = Spec(1080, 1920) with { DurationSeconds = 60 };
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            FfmpegRenderer.RenderAsync(spec, Path.Combine(_dir, "cancelled.mp4"), RenderQuality.For("high"), null, cancel.Token));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        await Task.Delay(200);
        var stillRunning = await ProcessRunner.RunAsync("pgrep", ["-f", "cancelled.mp4"], CancellationToken.None);
        Assert.Equal("", stillRunning.StandardOutput.Trim());
    }

    [Fact]
    public async Task FfmpegFailureIsAClearErrorWithItsStderr()
    {
        var spec = Spec(360, 640) with { Scenes = [new RenderScene(Path.Combine(_dir, "missing.mp4"), "video", 0, 2)] };
        var error = await Assert.ThrowsAsync<MediaException>(() =>
            FfmpegRenderer.RenderAsync(spec, Path.Combine(_dir, "bad.mp4"), RenderQuality.For("draft"), null, CancellationToken.None));
        Assert.Contains("missing.mp4", error.Message);
    }

    [Fact]
    public async Task AnFfmpegRunThatFailsSaysWhyInItsOwnWords()
    {
        // Stills are not probed first, so here ffmpeg itself is the one to find the file missing.
        var spec = Spec(360, 640, subtitles: false) with { Scenes = [new RenderScene(Path.Combine(_dir, "missing.png"), "image", 0, 2)] };
        var error = await Assert.ThrowsAsync<MediaException>(() =>
            FfmpegRenderer.RenderAsync(spec, Path.Combine(_dir, "bad-still.mp4"), RenderQuality.For("draft"), null, CancellationToken.None));
        Assert.StartsWith("ffmpeg failed (exit 1)", error.Message);
        Assert.Contains("missing.png: No such file or directory", error.Message);
    }
}
