using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Jobs;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Publishing;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Runs;
using FentaWeb.Runs.Publishing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using StartOrchestrationOptions = Microsoft.DurableTask.StartOrchestrationOptions;
using Microsoft.DurableTask.Client;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Api.Publishing;

/// <summary>One account to post to; what it leaves out comes from the request's defaults.</summary>
public sealed record PublishTargetRequest(string? IntegrationId, string? Title, string? Description, IReadOnlyList<string>? Hashtags, string? Privacy,
    string? PublishAt, bool? AiGenerated, bool? MadeForKids, string? Mode);

/// <summary>Targets, and defaults for what they leave out (title, description, hashtags, privacy, AI disclosure).</summary>
public sealed record PublishRequestBody(IReadOnlyList<PublishTargetRequest>? Targets, string? Title, string? Description, IReadOnlyList<string>? Hashtags,
    string? Privacy, bool? AiGenerated);

public sealed record PublicationErrorDto(string Code, string Message);

public sealed record PublicationTargetDto(string Id, string IntegrationId, string Platform, string? AccountName, string Status, string? Phase,
    PublishRequest Post, string? PlatformVideoId, string? Url, PublicationErrorDto? Error, int Attempts, DateTimeOffset? NextAttemptAt,
    DateTimeOffset? PublishedAt)
{
    public static PublicationTargetDto From(PublicationTarget t) => new(t.Id, t.IntegrationId, t.Platform, t.Integration?.AccountName, t.Status, t.Phase,
        t.Request.Deserialize<PublishRequest>(FentaJson.Options)!, t.PlatformVideoId, t.Url,
        t.Error is { ValueKind: JsonValueKind.Object } e ? new PublicationErrorDto(e.GetProperty("code").GetString()!, e.GetProperty("message").GetString()!) : null,
        t.Attempts, t.Status == "retry_later" ? t.NextAttemptAt : null, t.PublishedAt);
}

public sealed record PublicationDto(string Id, string? JobId, string? NodeId, string AssetId, string Status, IReadOnlyList<PublicationTargetDto> Targets,
    DateTimeOffset CreatedAt, DateTimeOffset? FinishedAt)
{
    public static PublicationDto From(Publication p) => new(p.Id, p.JobId, p.NodeId, p.AssetId, p.Status,
        [.. p.Targets.OrderBy(t => t.Id).Select(PublicationTargetDto.From)], p.CreatedAt, p.FinishedAt);
}

/// <summary>
/// Publications: a finished job's video posted to connected accounts, each account's upload durable and resumable
/// (the PublishRun orchestration), and posted to an account once. Publishing takes an editor and jobs:execute.
/// </summary>
[Tags("Publications")]
public sealed partial class PublicationFunctions(FentaDb db, NpgsqlDataSource dataSource, IntegrationStore integrations, PublishingPlatforms platforms,
    AuditTrail audit, TimeProvider clock)
{
    private const int MaxTargets = 10;

    [Function(nameof(PublishJob)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Publish a completed job's video to connected accounts (GET /v1/integrations). Each target is checked first (the platform's video rules, the account's privacy options); a video is posted to an account once (409 ALREADY_PUBLISHED). Answers 202 with the publication to follow.")]
    public async Task<Accepted<PublicationDto>> PublishJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/jobs/{jobId}/publish")] HttpRequest request,
        string jobId, [FromBody] PublishRequestBody body, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs,
        CancellationToken ct)
    {
        var job = await JobQueries.FindAsync(db, caller, jobId, ct);
        if (job.Status != JobStatus.Completed)
            throw new ConflictException("JOB_NOT_FINISHED", $"Only a completed job's video can be published; this job is {job.Status.ToWire()}.");
        var video = await VideoAsync(caller.OrgId, jobId, ct)
            ?? throw new ConflictException("NO_VIDEO", "This job rendered no video (it has no succeeded Output.Render node), or the video was deleted.");
        var targets = await TargetsAsync(body, video, caller, ct);
        var publicationId = await PublicationStore.FileAsync(dataSource, caller.OrgId, caller.UserId, jobId, null, video.Id, targets, ct);
        await runs.ScheduleNewOrchestrationInstanceAsync(RunNames.PublishRun, publicationId, new StartOrchestrationOptions(InstanceId: publicationId), ct);
        audit.Record(caller, "publish", "publication", publicationId, new { job_id = jobId, targets = targets.Select(t => t.IntegrationId) });
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/publications/{publicationId}", PublicationDto.From(await FindAsync(caller, publicationId, ct)));
    }

    [Function(nameof(ListPublications)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Publications, newest first; filter by job and status.")]
    public async Task<Ok<Page<PublicationDto>>> ListPublications([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/publications")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, [FromQuery(Name = "job_id")] string? jobId, string? status, CancellationToken ct)
    {
        var query = db.Publications.AsNoTracking().Include(p => p.Targets).ThenInclude(t => t.Integration).Where(p => p.OrgId == caller.OrgId);
        if (jobId is not null) query = query.Where(p => p.JobId == jobId);
        if (status is not null) query = query.Where(p => p.Status == status);
        return TypedResults.Ok(await query.ToPageAsync(page, PublicationDto.From, ct));
    }

    [Function(nameof(GetPublication)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("One publication: per account its status (queued, uploading, processing, retry_later, published, failed, cancelled), the platform's video id and URL, or the error.")]
    public async Task<Ok<PublicationDto>> GetPublication([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/publications/{publicationId}")] HttpRequest request,
        string publicationId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(PublicationDto.From(await FindAsync(caller, publicationId, ct)));

    [Function(nameof(CancelPublication)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Stop a publication: accounts not yet posted to are cancelled (an upload in progress stops at its next step); posts the platform already has stay. Idempotent; a publication that already ended otherwise is a 409.")]
    public async Task<Accepted<PublicationDto>> CancelPublication(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/publications/{publicationId}/cancel")] HttpRequest request, string publicationId,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        var status = await PublicationStore.CancelAsync(dataSource, caller.OrgId, publicationId, ct) ?? throw new NotFoundException("publication", publicationId);
        if (status != "cancelled") throw new ConflictException("PUBLICATION_FINISHED", $"The publication already ended ({status}); there is nothing to cancel.");
        if (await runs.GetInstanceAsync(publicationId, getInputsAndOutputs: false, ct) is { IsRunning: true })
            await runs.RaiseEventAsync(publicationId, RunNames.CancelEvent, "cancelled by the API", ct);
        audit.Record(caller, "cancel", "publication", publicationId);
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/publications/{publicationId}", PublicationDto.From(await FindAsync(caller, publicationId, ct)));
    }

    private async Task<Publication> FindAsync(Caller caller, string publicationId, CancellationToken ct) =>
        await db.Publications.AsNoTracking().Include(p => p.Targets).ThenInclude(t => t.Integration)
            .SingleOrDefaultAsync(p => p.Id == publicationId && p.OrgId == caller.OrgId, ct)
        ?? throw new NotFoundException("publication", publicationId);

    private sealed record Video(string Id, long Bytes, double Seconds, int Width, int Height, double Fps, string? Codec);

    /// <summary>The job's rendered video, as its asset row describes it.</summary>
    private async Task<Video?> VideoAsync(string orgId, string jobId, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            SELECT a.id, a.size_bytes, coalesce(a.duration_seconds, 0), coalesce(a.width, 0), coalesce(a.height, 0), coalesce(a.fps, 0), a.codec
            FROM node_runs r JOIN assets a ON a.id = r.output->>'video_asset_id' AND a.org_id = $2 AND a.deleted_at IS NULL AND a.status = 'ready'
            WHERE r.job_id = $1 AND r.node_type = 'Output.Render' AND r.status = 'succeeded' AND r.item_index >= 0
            ORDER BY r.node_id, r.item_index LIMIT 1
            """);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new Video(reader.GetString(0), reader.GetInt64(1), (double)reader.GetDecimal(2), reader.GetInt32(3), reader.GetInt32(4), (double)reader.GetDecimal(5),
                reader.IsDBNull(6) ? null : reader.GetString(6))
            : null;
    }

    /// <summary>Every target checked (its account, the platform's rules for the post and the video, the account's options), all problems at once.</summary>
    private async Task<List<TargetRequest>> TargetsAsync(PublishRequestBody body, Video video, Caller caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (body.Targets is not { Count: > 0 } requested)
            throw new ValidationFailedException("targets", "is required: the accounts to publish to, as [{\"integration_id\": \"int_…\"}] (GET /v1/integrations)");
        if (requested.Count > MaxTargets) throw new ValidationFailedException("targets", $"at most {MaxTargets} accounts per publication");
        if (requested.Select(t => t.IntegrationId).Distinct().Count() < requested.Count) throw new ValidationFailedException("targets", "names an account twice");
        var ids = requested.Select(t => t.IntegrationId).OfType<string>().ToList();
        var accounts = await db.Integrations.AsNoTracking().Where(i => i.OrgId == caller.OrgId && ids.Contains(i.Id) && i.Status != "revoked").ToDictionaryAsync(i => i.Id, ct);
        var targets = new List<TargetRequest>();
        for (var i = 0; i < requested.Count; i++)
        {
            var t = requested[i];
            var field = $"targets[{i}]";
            if (t.IntegrationId is null) { errors.Add($"{field}.integration_id", "is required"); continue; }
            if (!accounts.TryGetValue(t.IntegrationId, out var account)) { errors.Add($"{field}.integration_id", $"no connected account '{t.IntegrationId}' exists in this organization"); continue; }
            if (account.Status == "reconnect_required") { errors.Add($"{field}.integration_id", $"the {account.Platform} account {account.AccountName} must be connected again: {account.StatusReason}"); continue; }
            var platform = platforms.Configured(account.Platform);
            var post = Post(t, body, account.Platform, field, errors);
            VideoFit.Check(platform, video.Bytes, video.Seconds, video.Width, video.Height, video.Fps, video.Codec, null, field, errors);
            if (errors.Any) continue;
            // The account's own options (TikTok's creator_info): only what they allow is posted.
            var options = await integrations.CreatorOptionsAsync(account.Id, ct);
            if (!options.PrivacyOptions.Contains(post.Privacy))
                errors.Add($"{field}.privacy", $"this {account.Platform} account may post as {string.Join(", ", options.PrivacyOptions)}{(options.Notice is null ? "" : $" ({options.Notice})")}");
            if (post.Mode is { } mode && !options.Modes.Contains(mode)) errors.Add($"{field}.mode", $"this account takes {string.Join(" or ", options.Modes)}");
            if (video.Seconds > options.MaxDuration.TotalSeconds)
                errors.Add(field, $"this {account.Platform} account may post videos up to {options.MaxDuration.TotalSeconds:0} s; this one is {video.Seconds:0.#} s");
            targets.Add(new TargetRequest(account.Id, post));
        }
        errors.ThrowIfAny();
        return targets;
    }

    /// <summary>One target's post: its own values or the request's defaults, within the platform's limits.</summary>
    private PublishRequest Post(PublishTargetRequest t, PublishRequestBody body, string platform, string field, FieldErrors errors)
    {
        var title = (t.Title ?? body.Title ?? "").Trim();
        var description = (t.Description ?? body.Description ?? "").Trim();
        var hashtags = (t.Hashtags ?? body.Hashtags ?? []).Select(h => h.TrimStart('#')).ToList();
        if (title.Length == 0) errors.Add($"{field}.title", "is required (here or as the request's title)");
        for (var h = 0; h < hashtags.Count; h++)
            if (!Hashtag().IsMatch(hashtags[h])) errors.Add($"{field}.hashtags[{h}]", "must be letters, digits or underscores, 1-100 of them");
        var caption = string.Join(" ", new[] { title, description, string.Join(" ", hashtags.Select(h => "#" + h)) }.Where(s => s.Length > 0));
        switch (platform)
        {
            case Platforms.YouTube:
                if (title.Length > EnrichmentRules.YouTubeTitleChars) errors.Add($"{field}.title", $"YouTube titles are at most {EnrichmentRules.YouTubeTitleChars} characters");
                if (title.IndexOfAny(['<', '>']) >= 0) errors.Add($"{field}.title", "YouTube titles cannot contain < or >");
                if (System.Text.Encoding.UTF8.GetByteCount(description) > EnrichmentRules.YouTubeDescriptionBytes)
                    errors.Add($"{field}.description", $"YouTube descriptions are at most {EnrichmentRules.YouTubeDescriptionBytes:N0} bytes");
                break;
            default:
                var maxCaption = platform == Platforms.TikTok ? EnrichmentRules.TikTokCaptionChars : EnrichmentRules.InstagramCaptionChars;
                if (caption.Length > maxCaption) errors.Add($"{field}.description", $"{platform} captions (title, description and hashtags) are at most {maxCaption:N0} characters; this one is {caption.Length}");
                if (platform == Platforms.Instagram && hashtags.Count > EnrichmentRules.InstagramMaxHashtags)
                    errors.Add($"{field}.hashtags", $"Instagram takes at most {EnrichmentRules.InstagramMaxHashtags} hashtags");
                break;
        }
        DateTimeOffset? publishAt = null;
        if (t.PublishAt is { } text)
        {
            if (platform != Platforms.YouTube) errors.Add($"{field}.publish_at", "only YouTube schedules a publication; post to the others when it is time");
            else if (InputText.Instant(text, $"{field}.publish_at", errors) is not { } at) { }
            else if (at <= clock.GetUtcNow().AddMinutes(1)) errors.Add($"{field}.publish_at", "must be in the future");
            else publishAt = at;
        }
        var mode = t.Mode;
        if (mode is not null && mode is not ("direct" or "draft")) errors.Add($"{field}.mode", "must be direct or draft");
        if (mode == "draft" && platform != Platforms.TikTok) errors.Add($"{field}.mode", "only TikTok takes drafts (its inbox)");
        // A scheduled YouTube video is uploaded private and goes public at publish_at, as YouTube requires.
        var privacy = publishAt is not null ? "private" : Privacy.Native(platform, t.Privacy ?? body.Privacy ?? "public", $"{field}.privacy", errors);
        return new PublishRequest(title, description, hashtags, privacy, publishAt, t.AiGenerated ?? body.AiGenerated ?? true, t.MadeForKids ?? false, mode);
    }

    [GeneratedRegex("^[A-Za-z0-9_]{1,100}$")]
    private static partial Regex Hashtag();
}
