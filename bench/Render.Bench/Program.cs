using System.Diagnostics;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Rendering;
using FentaWeb.Domain.Scripts;
using FentaWeb.Render;

// Our render of a full 30 s 1080x1920 short (5 scenes with crossfades, voice, ducked music, burned-in subtitles,
// a text overlay) against a plain ffmpeg encode of a 30 s 1080x1920 test pattern with the same codec settings,
// timed in the same run. Target: at most 1.5x the plain encode. Each round also renders the same short at the preview
// quality (540x960, fastest preset, no thumbnail), reported as a ratio to the full render of the same round.
var rounds = args.Length > 0 ? int.Parse(args[0]) : 2;
var dir = Path.Combine(Path.GetTempPath(), $"fenta-bench-render-{Guid.NewGuid():N}");
Directory.CreateDirectory(dir);
try
{
    Console.WriteLine("preparing inputs: 5 stock clips, a 28 s espeak narration, 30 s of music");
    var clips = await new LocalStockLibrary(Path.Combine(dir, "stock"), clipCount: 5).EnsureAsync(CancellationToken.None);
    var script = await new TemplateScriptWriter().WriteAsync(new ScriptRequest("electric ferries crossing the harbour", "news", "en", 26, 5), CancellationToken.None);
    var espeak = new EspeakSynthesizer();
    var parts = new List<PcmAudio>();
    var sentences = new List<SpokenSentence>();
    var at = 0.0;
    foreach (var scene in script.Scenes)
    foreach (var text in Sentences.Split(scene.Narration))
    {
        var clip = await espeak.SpeakAsync(text, new SpeechVoice("en-us", "en", 1.0), CancellationToken.None);
        if (parts.Count > 0) { parts.Add(clip.Silence(0.25)); at += 0.25; }
        parts.Add(clip);
        sentences.Add(new SpokenSentence(scene.Index, text, at, at + clip.DurationSeconds, Sentences.TimeWords(text, at, at + clip.DurationSeconds)));
        at += clip.DurationSeconds;
        if (at > 28) break;
    }
    var voice = Path.Combine(dir, "voice.wav");
    await Wav.WriteAsync(voice, PcmAudio.Concat(parts), CancellationToken.None);
    var music = Path.Combine(dir, "music.wav");
    await Run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=220:duration=30", "-f", "lavfi", "-i", "sine=frequency=277:duration=30",
        "-filter_complex", "amix=inputs=2,volume=0.5", "-ar", "48000", music);

    const double total = 30;
    var spec = new RenderSpec(1080, 1920, 30, total,
        [.. clips.Select((c, i) => new RenderScene(Path.Combine(dir, "stock", c.File), "video", i * 6, 6))],
        "crossfade", 0.4,
        [new RenderOverlay("BREAKING STORY", 0, 3, "top", "slide-down", 72, "#FFFFFF")],
        new RenderSubtitles("clean_box", new AssStyle(Size: 64, Margin: 160), SubtitleWriter.BuildCues(sentences, new CueRules())),
        [new RenderAudio(voice, 0), new RenderAudio(music, 0, 0.2)]);

    var plain = new List<double>();
    var ours = new List<double>();
    var previews = new List<double>();
    for (var round = 1; round <= rounds; round++)
    {
        var watch = Stopwatch.StartNew();
        await Run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1080x1920:rate=30", "-f", "lavfi", "-i", "sine=frequency=440",
            "-t", "30", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k",
            "-movflags", "+faststart", Path.Combine(dir, "plain.mp4"));
        plain.Add(watch.Elapsed.TotalSeconds);

        watch.Restart();
        await FfmpegRenderer.RenderAsync(spec, Path.Combine(dir, "ours.mp4"), RenderQuality.For("standard"), null, CancellationToken.None);
        ours.Add(watch.Elapsed.TotalSeconds);

        watch.Restart();
        var preview = RenderQualities.Canvas(OutputProfiles.Find("9x16_1080p")!, RenderQualities.Preview);
        await FfmpegRenderer.RenderAsync(OutputRenderActivity.Resize(spec, preview.Width, preview.Height), Path.Combine(dir, "preview.mp4"),
            RenderQuality.For(RenderQualities.Preview), null, CancellationToken.None);
        previews.Add(watch.Elapsed.TotalSeconds);
        Console.WriteLine($"  round {round}: plain encode {plain[^1]:F2} s, our render {ours[^1]:F2} s, ratio {ours[^1] / plain[^1]:F2}x; " +
                          $"preview {previews[^1]:F2} s, {previews[^1] / ours[^1]:F2}x the render");
    }
    var info = await FfProbe.ProbeAsync(Path.Combine(dir, "ours.mp4"), CancellationToken.None);
    Console.WriteLine($"our output: {info.Width}x{info.Height}, {info.DurationSeconds:F2} s, {info.VideoCodec}+{info.AudioCodec}");
    var previewInfo = await FfProbe.ProbeAsync(Path.Combine(dir, "preview.mp4"), CancellationToken.None);
    Console.WriteLine($"preview output: {previewInfo.Width}x{previewInfo.Height}, {previewInfo.DurationSeconds:F2} s, {previewInfo.VideoCodec}+{previewInfo.AudioCodec}");
    Console.WriteLine();
    Console.WriteLine($"plain 30 s 1080x1920 encode (best)   {plain.Min(),6:F2} s");
    Console.WriteLine($"our 30 s short render (best)         {ours.Min(),6:F2} s");
    Console.WriteLine($"ratio of the bests                   {ours.Min() / plain.Min(),6:F2}x   (target <= 1.5x)");
    // Each round times the two back to back, so its ratio cancels the machine's drift between rounds.
    var paired = plain.Zip(ours, (p, o) => o / p).Order().ToList();
    Console.WriteLine($"median of the rounds' ratios         {paired[paired.Count / 2],6:F2}x");
    Console.WriteLine($"our 30 s preview render (best)       {previews.Min(),6:F2} s");
    var previewPaired = ours.Zip(previews, (o, p) => p / o).Order().ToList();
    Console.WriteLine($"preview / render, median of rounds   {previewPaired[previewPaired.Count / 2],6:F2}x");
}
finally
{
    Directory.Delete(dir, recursive: true);
}

static async Task Run(string file, params string[] args)
{
    var result = await ProcessRunner.RunAsync(file, args, CancellationToken.None);
    if (result.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {result.ErrorTail()}");
}
