using System.Globalization;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Runs.Assets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Runs.Publishing;

/// <summary>What one step of a target came to: finished (with its status), or to be stepped again after a wait.</summary>
public sealed record TargetProgress(bool Finished, string Status, double WaitSeconds = 0);

/// <summary>
/// One step of one publication target (the <c>PublishTarget</c> activity): claims the target, takes a fresh access token,
/// has the platform's adapter carry the post as far as it goes now from the saved checkpoint, and records the result.
/// Transient failures are retried by the orchestration with backoff (five tries); a quota or rate limit waits without
/// using a try; a refused grant fails the target as <c>RECONNECT_REQUIRED</c> and marks the account.
/// </summary>
public sealed partial class TargetPublisher(NpgsqlDataSource db, IntegrationStore integrations, PublishingPlatforms platforms, AssetStore assets,
    IConfiguration config, TimeProvider clock, ILogger<TargetPublisher> logger)
{
    public const int MaxAttempts = 5;
    private static readonly TimeSpan ReadLinkLifetime = TimeSpan.FromHours(1);

    // How long a step's claim on its target outlives its last renewal, as for node items (FENTA_NODE_CLAIM_SECONDS, 30 s):
    // a dead worker's target waits this long for the redelivered step.
    private TimeSpan ClaimLease => TimeSpan.FromSeconds(
        double.TryParse(config["FENTA_NODE_CLAIM_SECONDS"], CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30);

    /// <summary>The longest a target waits before being stepped again (FENTA_PUBLISH_MAX_WAIT_SECONDS; none by default): a quota that resets at midnight is waited for in full.</summary>
    private double? MaxWait => double.TryParse(config["FENTA_PUBLISH_MAX_WAIT_SECONDS"], CultureInfo.InvariantCulture, out var s) && s > 0 ? s : null;

    public async Task<TargetProgress> StepAsync(string targetId, CancellationToken ct)
    {
        var target = await PublicationStore.TargetAsync(db, targetId, ct)
            ?? throw new InvalidOperationException($"No publication target {targetId}.");
        if (PublicationStore.FinishedTargetStatuses.Contains(target.Status) || target.PublicationStatus == "cancelled")
            return new TargetProgress(true, target.PublicationStatus == "cancelled" && target.Status != "published" ? "cancelled" : target.Status);

        var claim = Guid.NewGuid();
        // Another execution of this step holds it (a duplicate delivery): look again shortly.
        if (!await PublicationStore.ClaimAsync(db, targetId, claim, ClaimLease, ct)) return new TargetProgress(false, target.Status, Math.Max(1, ClaimLease.TotalSeconds / 3));
        using var renewing = new CancellationTokenSource();
        var renewal = RenewAsync(targetId, claim, renewing.Token);
        try
        {
            return await PublishAsync(target, ct);
        }
        finally
        {
            await renewing.CancelAsync();
            await renewal;
            await PublicationStore.ReleaseAsync(db, targetId, claim, CancellationToken.None);
        }
    }

    private async Task<TargetProgress> PublishAsync(TargetRow target, CancellationToken ct)
    {
        var platform = platforms.Get(target.Platform);
        try
        {
            var account = await integrations.AccessAsync(target.IntegrationId, ct);
            using var files = await assets.LocalFilesAsync(target.OrgId, [target.AssetId], ct);
            if (!files.TryGetValue(target.AssetId, out var path))
                return await FailAsync(target, "VIDEO_NOT_FOUND", $"The video {target.AssetId} is gone.", ct);
            var info = await FfProbe.ProbeAsync(path, ct);
            var video = new VideoFile(path, new FileInfo(path).Length, TimeSpan.FromSeconds(info.DurationSeconds ?? 0), info.Width ?? 0, info.Height ?? 0,
                info.Fps ?? 0, info.VideoCodec ?? "", info.AudioCodec, async token => (await ReadLinkAsync(target, token)));
            var misfit = new FieldErrors();
            VideoFit.Check(platform, video.Length, video.Duration.TotalSeconds, video.Width, video.Height, video.FrameRate, video.VideoCodec, video.AudioCodec, "video", misfit);
            if (misfit.Any) return await FailAsync(target, "VIDEO_DOES_NOT_FIT", string.Join("; ", misfit.All.Select(e => e.Message)), ct);

            var checkpoint = new UploadCheckpoint(target.Checkpoint, (data, token) => PublicationStore.SaveCheckpointAsync(db, target.Id, data, token));
            var step = await platform.PublishAsync(new PublishContext(account.AccessToken, account.Account, target.Post, video, checkpoint), ct);
            switch (step)
            {
                case PublishStep.Published published:
                    await PublicationStore.UpdateAsync(db, target.Id, "published", null, null, null, target.Attempts, published.VideoId, published.Url, ct);
                    LogPublished(logger, target.Id, target.Platform, published.VideoId);
                    return new TargetProgress(true, "published");
                case PublishStep.Processing processing:
                    await PublicationStore.UpdateAsync(db, target.Id, "processing", processing.Phase, null, null, target.Attempts, null, null, ct);
                    return new TargetProgress(false, "processing", Capped(processing.After.TotalSeconds));
                case PublishStep.RetryLater later:
                    await PublicationStore.UpdateAsync(db, target.Id, "retry_later", later.Code, new { code = later.Code, message = later.Message },
                        later.At, target.Attempts, null, null, ct);
                    return new TargetProgress(false, "retry_later", Capped(Math.Max(1, (later.At - clock.GetUtcNow()).TotalSeconds)));
                default:
                    throw new InvalidOperationException($"Unknown publish step {step}");
            }
        }
        catch (PublishingException e) when (e.Failure == PublishFailure.ReconnectRequired)
        {
            await integrations.MarkReconnectRequiredAsync(target.IntegrationId, e.Message, CancellationToken.None);
            return await FailAsync(target, "RECONNECT_REQUIRED", e.Message, ct);
        }
        catch (PublishingException e) when (e.Failure == PublishFailure.Permanent)
        {
            return await FailAsync(target, e.Code, e.Message, ct);
        }
        // Anything else (a platform's transient failure, or a fault of ours) is tried again a few times, then fails the target
        // with its message, so no target waits for ever.
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            var code = e switch { PublishingException p => p.Code, ProviderException p => p.Code, _ => "PUBLISH_ERROR" };
            var attempts = target.Attempts + 1;
            LogStepFailed(logger, target.Id, target.Platform, attempts, e);
            if (attempts >= MaxAttempts) return await FailAsync(target with { Attempts = attempts }, code, $"{e.Message} (after {attempts} attempts)", ct);
            // 15 s, 30 s, 60 s, 120 s: the upload carries on from its checkpoint then.
            var wait = 15 * Math.Pow(2, attempts - 1);
            await PublicationStore.UpdateAsync(db, target.Id, "retry_later", "retrying", new { code, message = e.Message }, clock.GetUtcNow().AddSeconds(wait), attempts, null, null, ct);
            return new TargetProgress(false, "retry_later", Capped(wait));
        }
    }

    private async Task<Uri> ReadLinkAsync(TargetRow target, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT storage_key FROM assets WHERE id = $1 AND org_id = $2");
        cmd.Parameters.Add(new() { Value = target.AssetId });
        cmd.Parameters.Add(new() { Value = target.OrgId });
        var key = (string)(await cmd.ExecuteScalarAsync(ct))!;
        return (await assets.Blobs.ReadLinkAsync(key, ReadLinkLifetime, "video/mp4", null, ct)).Url;
    }

    private async Task<TargetProgress> FailAsync(TargetRow target, string code, string message, CancellationToken ct)
    {
        await PublicationStore.UpdateAsync(db, target.Id, "failed", null, new { code, message }, null, target.Attempts, null, null, ct);
        LogFailed(logger, target.Id, target.Platform, code);
        return new TargetProgress(true, "failed");
    }

    private double Capped(double seconds) => MaxWait is { } max ? Math.Min(seconds, max) : seconds;

    private async Task RenewAsync(string targetId, Guid claim, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ClaimLease / 3, done);
                await PublicationStore.ClaimAsync(db, targetId, claim, ClaimLease, done);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (NpgsqlException e)
        {
            LogStepFailed(logger, targetId, "claim", 0, e);
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Publication target {TargetId} published on {Platform} as {VideoId}")]
    private static partial void LogPublished(ILogger logger, string targetId, string platform, string videoId);

    [LoggerMessage(EventId = 701, Level = LogLevel.Warning, Message = "Publication target {TargetId} on {Platform} failed: {Code}")]
    private static partial void LogFailed(ILogger logger, string targetId, string platform, string code);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "A step of publication target {TargetId} on {Platform} failed (attempt {Attempt})")]
    private static partial void LogStepFailed(ILogger logger, string targetId, string platform, int attempt, Exception exception);
}

/// <summary>Whether a video fits a platform's constraints; each misfit is a field error naming what does not fit.</summary>
public static class VideoFit
{
    public static void Check(IPublishingPlatform platform, long bytes, double seconds, int width, int height, double fps, string? videoCodec, string? audioCodec,
        string field, FieldErrors errors)
    {
        var c = platform.Constraints;
        var name = platform.Name;
        if (seconds < c.MinDuration.TotalSeconds || seconds > c.MaxDuration.TotalSeconds)
            errors.Add(field, $"{name} takes videos of {c.MinDuration.TotalSeconds:0.#} to {c.MaxDuration.TotalSeconds:0.#} s; this one is {seconds:0.#} s");
        if (bytes > c.MaxBytes) errors.Add(field, $"{name} takes videos up to {c.MaxBytes / 1_000_000.0:0.#} MB; this one is {bytes / 1_000_000.0:0.#} MB");
        if (width > 0 && height > 0)
        {
            var aspect = (double)width / height;
            if (aspect < c.MinAspect - 0.001 || aspect > c.MaxAspect + 0.001)
                errors.Add(field, $"{name} takes aspect ratios (width/height) from {c.MinAspect:0.###} to {c.MaxAspect:0.###}; this one is {width}x{height}");
            if (c.MaxWidth > 0 && width > c.MaxWidth)
                errors.Add(field, $"{name} takes videos up to {c.MaxWidth} px wide; this one is {width} px");
        }
        if (fps > 0 && c.MaxFrameRate > 0 && fps > c.MaxFrameRate + 0.01) errors.Add(field, $"{name} takes up to {c.MaxFrameRate} fps; this one is {fps:0.##}");
        if (videoCodec is { Length: > 0 } v && c.VideoCodecs.Count > 0 && !c.VideoCodecs.Contains(v, StringComparer.OrdinalIgnoreCase))
            errors.Add(field, $"{name} takes {string.Join(" or ", c.VideoCodecs)} video; this one is {v}");
        if (audioCodec is { Length: > 0 } a && c.AudioCodecs.Count > 0 && !c.AudioCodecs.Contains(a, StringComparer.OrdinalIgnoreCase))
            errors.Add(field, $"{name} takes {string.Join(" or ", c.AudioCodecs)} audio; this one is {a}");
    }
}
