using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Rendering;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Render;

public sealed record OutputRenderArgs(string Profile, string Quality, int Fps);

/// <summary>What Output.Render hands on: the MP4, its thumbnail and SRT, as assets.</summary>
public sealed record RenderedVideo(
    string VideoAssetId, string? ThumbnailAssetId, string SrtAssetId, string Profile, int Width, int Height, double DurationSeconds, long SizeBytes,
    double RenderSeconds);

/// <summary>Output.Render, run by the render container on the render queue: the timeline's spec at the chosen profile.</summary>
public sealed partial class OutputRenderActivity(AssetStore assets, NpgsqlDataSource db, ILogger<OutputRenderActivity> logger) : NodeActivity<OutputRenderArgs>
{
    public override string NodeType => "Output.Render";

    /// <summary>Plans meter seconds of video rendered (a preview's at a discount): the timeline's length, reserved against the run's budget before rendering.</summary>
    protected override Spend Expected(ActivityContext context, OutputRenderArgs args) =>
        new(0, 0, RenderQualities.MeteredSeconds(args.Quality, context.Inputs["timeline"].Deserialize<RenderSpec>(FentaJson.Options)!.DurationSeconds));

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, OutputRenderArgs args, CancellationToken ct)
    {
        var profile = RenderQualities.Canvas(OutputProfiles.Find(args.Profile)!, args.Quality);
        var spec = Resize(context.Inputs["timeline"].Deserialize<RenderSpec>(FentaJson.Options)!, profile.Width, profile.Height) with { Fps = args.Fps };
        var watch = System.Diagnostics.Stopwatch.StartNew();
        // The inputs' local copies stay in the cache (not evicted) until the render is done with them.
        using var paths = await assets.LocalFilesAsync(context.OrgId, spec.Scenes.Select(s => s.Source).Concat(spec.Audio.Select(a => a.Source)), ct);
        var missing = spec.Scenes.Select(s => s.Source).Concat(spec.Audio.Select(a => a.Source)).Where(id => !paths.ContainsKey(id)).Distinct().ToList();
        if (missing.Count > 0) return new ActivityResult.Failed("ASSET_NOT_FOUND", $"Assets {string.Join(", ", missing)} are gone.", Permanent: true);
        spec = spec with
        {
            Scenes = spec.Scenes.Select(s => s with { Source = paths[s.Source] }).ToList(),
            Audio = spec.Audio.Select(a => a with { Source = paths[a.Source] }).ToList(),
        };

        var inputsRead = watch.Elapsed;
        if (logger.IsEnabled(LogLevel.Debug)) LogSpec(logger, context.JobId, JsonSerializer.Serialize(spec, FentaJson.Options));
        var work = Path.Combine(Path.GetTempPath(), $"fenta-output-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        try
        {
            // ffmpeg reports several times a second; the job hears of every 5 %, the log of every 25 %.
            var reported = 0;
            var result = await FfmpegRenderer.RenderAsync(spec, Path.Combine(work, "render.mp4"), RenderQuality.For(args.Quality), fraction =>
            {
                var step = (int)(fraction * 20);
                if (step <= reported || step >= 20) return;
                reported = step;
                _ = context.ReportProgressAsync(step / 20.0, CancellationToken.None);
                if (step % 5 == 0) _ = context.LogAsync("info", $"Rendering {step * 5}%", new { progress = step * 5 }, CancellationToken.None);
            }, ct);
            var rendered = watch.Elapsed;
            Telemetry.RenderSeconds.Add(result.RenderSeconds, new KeyValuePair<string, object?>("fenta.profile", profile.Id));
            // The three are stored side by side: each is a probe and an upload, mostly waiting on ffprobe and Blob.
            var storingVideo = assets.AddFileAsync(Asset(context, "video/mp4", "render.mp4", profile.Id, args.Quality), result.VideoPath, ct);
            var storingSrt = assets.AddFileAsync(Asset(context, "application/x-subrip", "subtitles.srt", profile.Id, args.Quality), result.SrtPath, ct);
            var storingThumbnail = StoreThumbnailAsync();
            await Task.WhenAll(storingVideo, storingSrt, (Task)storingThumbnail);
            var (video, thumbnail, srt) = (storingVideo.Result, storingThumbnail.Result, storingSrt.Result);
            async Task<Asset?> StoreThumbnailAsync() => result.ThumbnailPath is { } thumbnailPath
                ? await assets.AddFileAsync(Asset(context, "image/jpeg", "thumbnail.jpg", profile.Id, args.Quality), thumbnailPath, ct) : null;
            var stored = watch.Elapsed;
            await context.LogAsync("info", $"Rendered {profile.Id} in {result.RenderSeconds:0.0} s", ct: ct);
            // Plans meter seconds of video rendered, not of rendering.
            await Metering.RecordRenderAsync(db, context.JobId, context.NodeId, context.ItemIndex,
                RenderQualities.MeteredSeconds(args.Quality, (double)(video.DurationSeconds ?? 0)), $"{profile.Id} {args.Quality}", ct);
            LogPhases(logger, context.JobId, inputsRead.TotalMilliseconds, (rendered - inputsRead).TotalMilliseconds, result.RenderSeconds * 1000,
                (stored - rendered).TotalMilliseconds, (watch.Elapsed - stored).TotalMilliseconds);
            return ActivityResult.Done(new RenderedVideo(video.Id, thumbnail?.Id, srt.Id, profile.Id, profile.Width, profile.Height,
                (double)(video.DurationSeconds ?? 0), video.SizeBytes, Math.Round(result.RenderSeconds, 2)));
        }
        catch (MediaException e)
        {
            return new ActivityResult.Failed("RENDER_FAILED", e.Message);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The spec at another canvas size: text and subtitle sizes scale with the height.</summary>
    public static RenderSpec Resize(RenderSpec spec, int width, int height)
    {
        if (spec.Width == width && spec.Height == height) return spec;
        var scale = (double)height / spec.Height;
        int Scaled(int value) => Math.Max(8, (int)Math.Round(value * scale));
        return spec with
        {
            Width = width,
            Height = height,
            Overlays = spec.Overlays.Select(o => o with { Size = Scaled(o.Size) }).ToList(),
            Subtitles = spec.Subtitles is { } s ? s with { Style = s.Style with { Size = Scaled(s.Style.Size), Margin = Scaled(s.Style.Margin) } } : null,
        };
    }

    // Where a render's time goes between the request being taken and its outcome, for bench/engine and diagnosis.
    [LoggerMessage(EventId = 410, Level = LogLevel.Debug,
        Message = "Render of {JobId}: inputs {InputsMs:0} ms, render {RenderMs:0} ms (renderer {RendererMs:0} ms), outputs stored {StoreMs:0} ms, log+meter {MeterMs:0} ms")]
    private static partial void LogPhases(ILogger logger, string jobId, double inputsMs, double renderMs, double rendererMs, double storeMs, double meterMs);

    // The spec with local paths: `Render.Container render --spec` replays the render outside the run.
    [LoggerMessage(EventId = 411, Level = LogLevel.Debug, Message = "Render of {JobId}: spec {Spec}")]
    private static partial void LogSpec(ILogger logger, string jobId, string spec);

    private static NewAsset Asset(ActivityContext context, string contentType, string filename, string profile, string quality) =>
        new(context.OrgId, "render", contentType, filename, context.JobId, context.NodeId, Metadata: new { profile, quality });
}
