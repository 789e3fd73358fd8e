using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Sharing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Sharing;

/// <summary>What to share (a job's video or an asset) and how: title, expiry (a lifetime or an instant), password, download.</summary>
public sealed record CreateShareLinkRequest(string? JobId, string? AssetId, string? Title, long? ExpiresInSeconds, string? ExpiresAt, string? Password,
    bool? AllowDownload);

/// <summary>A share link; <c>url</c> is the public page to hand out, shown whenever the owner reads the link.</summary>
public sealed record ShareLinkDto(string Id, string Token, string Url, string? JobId, string AssetId, string Title, string Status, DateTimeOffset? ExpiresAt,
    bool HasPassword, bool AllowDownload, long ViewCount, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>
/// Share links (seed 004's shared_content): a public page <c>/s/{token}</c> playing one video or image to anyone with the
/// link (<see cref="SharePageFunctions"/>), until it expires or is revoked. Viewers read links; editors with
/// assets:upload create and revoke them.
/// </summary>
[Tags("Share links")]
public sealed partial class ShareLinkFunctions(NpgsqlDataSource dataSource, FentaDb db, ShareSecrets secrets, AssetStore assets, AuditTrail audit,
    TimeProvider clock, ILogger<ShareLinkFunctions> logger)
{
    private const int MaxTitle = 200;
    private const int MinPassword = 4, MaxPassword = 200;
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(365);

    [Function(nameof(CreateShareLink)), Access(OrgRole.Editor, Scopes.AssetsUpload),
     EndpointSummary("Share a completed job's video (job_id) or a video or image asset (asset_id) on a public page: answers the link with its url (/s/{token}). Optional: title (else the workflow's name or the file's), expires_in_seconds or expires_at (else it never expires), password, allow_download.")]
    public async Task<Created<ShareLinkDto>> CreateShareLink([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/share-links")] HttpRequest request,
        [FromBody] CreateShareLinkRequest body, Caller caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var errors = new FieldErrors();
        var title = body.Title?.Trim();
        if (title is not null && (title.Length is 0 or > MaxTitle || title.Any(char.IsControl)))
            errors.Add("title", $"must be 1 to {MaxTitle} characters without control characters");
        DateTimeOffset? expiresAt = null;
        if (body.ExpiresInSeconds is not null && body.ExpiresAt is not null) errors.Add("expires_at", "give expires_in_seconds or expires_at, not both");
        else if (body.ExpiresInSeconds is { } seconds)
        {
            if (seconds < 60 || seconds > MaxLifetime.TotalSeconds) errors.Add("expires_in_seconds", $"must be 60 to {MaxLifetime.TotalSeconds:0} seconds (365 days)");
            else expiresAt = now.AddSeconds(seconds);
        }
        else if (InputText.Instant(body.ExpiresAt, "expires_at", errors) is { } instant)
        {
            if (instant <= now || instant > now + MaxLifetime) errors.Add("expires_at", "must be in the future, within 365 days");
            else expiresAt = instant;
        }
        if (body.Password is { } password && (password.Length is < MinPassword or > MaxPassword))
            errors.Add("password", $"must be {MinPassword} to {MaxPassword} characters (leave it out for no password)");
        var (jobId, assetId, posterId, defaultTitle, isVideo) = await TargetAsync(body, caller.OrgId, errors, ct);
        errors.ThrowIfAny();
        // A video without a thumbnail (an upload, a generation) gets a frame of its own, so the page and its unfurl have a picture.
        if (isVideo && posterId is null) posterId = await PosterFrameAsync(caller, jobId, assetId!, ct);

        var token = ShareSecrets.NewToken();
        var link = await ShareLinkStore.CreateAsync(dataSource, new NewShareLink(caller.OrgId, jobId, assetId!, posterId, ShareSecrets.Hash(token),
            secrets.Protect(token), title ?? defaultTitle, body.Password is { } p ? PasswordHasher.Hash(p) : null, body.AllowDownload ?? false, expiresAt,
            caller.UserId), ct);
        audit.Record(caller, "create", "share_link", link.Id, new { job_id = jobId, asset_id = assetId, link.Title, link.ExpiresAt, has_password = link.PasswordHash is not null, link.AllowDownload });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/share-links/{link.Id}", Dto(link, token, now));
    }

    [Function(nameof(ListShareLinks)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("The org's share links, newest first, each with its url and view count; filter by job_id or asset_id.")]
    public async Task<Ok<Page<ShareLinkDto>>> ListShareLinks([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/share-links")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, [FromQuery(Name = "job_id")] string? jobId, [FromQuery(Name = "asset_id")] string? assetId,
        CancellationToken ct)
    {
        var (limit, after) = page.Parse();
        var links = await ShareLinkStore.ListAsync(dataSource, caller.OrgId, jobId, assetId, after, limit + 1, ct);
        var hasMore = links.Count > limit;
        if (hasMore) links.RemoveAt(limit);
        var now = clock.GetUtcNow();
        return TypedResults.Ok(new Page<ShareLinkDto>([.. links.Select(l => Dto(l, secrets.Unprotect(l.TokenProtected), now))],
            hasMore ? PageQuery.Encode(links[^1].Id) : null, hasMore));
    }

    [Function(nameof(GetShareLink)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One share link with its url, status and view count.")]
    public async Task<Ok<ShareLinkDto>> GetShareLink([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/share-links/{linkId}")] HttpRequest request,
        string linkId, Caller caller, CancellationToken ct)
    {
        var link = await ShareLinkStore.FindAsync(dataSource, caller.OrgId, linkId, ct) ?? throw new NotFoundException("share link", linkId);
        return TypedResults.Ok(Dto(link, secrets.Unprotect(link.TokenProtected), clock.GetUtcNow()));
    }

    [Function(nameof(RevokeShareLink)), Access(OrgRole.Editor, Scopes.AssetsUpload),
     EndpointSummary("Revoke a share link: its page answers 410 Gone from now on, and its video and poster links stop being issued. Idempotent; answers the link.")]
    public async Task<Ok<ShareLinkDto>> RevokeShareLink([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/share-links/{linkId}")] HttpRequest request,
        string linkId, Caller caller, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (link, revoked) = await ShareLinkStore.RevokeAsync(dataSource, caller.OrgId, linkId, now, ct) ?? throw new NotFoundException("share link", linkId);
        if (revoked)
        {
            audit.Record(caller, "revoke", "share_link", link.Id);
            await db.SaveChangesAsync(ct);
        }
        return TypedResults.Ok(Dto(link, secrets.Unprotect(link.TokenProtected), now));
    }

    /// <summary>
    /// The asset the link plays, its poster and a default title. References name their field (400) when the org has no such
    /// job or asset, as other references in bodies do; another org's is simply not there.
    /// </summary>
    private async Task<(string? JobId, string? AssetId, string? PosterId, string Title, bool IsVideo)> TargetAsync(CreateShareLinkRequest body, string orgId, FieldErrors errors,
        CancellationToken ct)
    {
        switch (body)
        {
            case { JobId: null, AssetId: null }:
                errors.Add("job_id", "give job_id (a completed job's video) or asset_id (a video or image asset)");
                return default;
            case { JobId: not null, AssetId: not null }:
                errors.Add("asset_id", "give job_id or asset_id, not both");
                return default;
            case { JobId: { } jobId }:
                var job = await ShareLinkStore.JobVideoAsync(dataSource, orgId, jobId, ct);
                if (job is null) errors.Add("job_id", $"no job '{jobId}' exists in this organization");
                else if (job.Status != "completed") errors.Add("job_id", $"the job is {job.Status}: only a completed job's video can be shared");
                else if (job.VideoAssetId is null) errors.Add("job_id", "the job rendered no video (it has no succeeded Output.Render node), or its video was deleted");
                else return (jobId, job.VideoAssetId, job.ThumbnailAssetId, Shortened(job.WorkflowName ?? "Video"), true);
                return default;
            default:
                var assetId = body.AssetId!;
                var asset = await ShareLinkStore.AssetAsync(dataSource, orgId, assetId, ct);
                if (asset is null) errors.Add("asset_id", $"no asset '{assetId}' exists in this organization");
                else if (asset.Type is not ("video" or "image")) errors.Add("asset_id", $"is a {asset.Type} asset: only a video or an image can be shared");
                else if (asset.Status != "ready") errors.Add("asset_id", $"is {asset.Status}: only a ready asset can be shared");
                else return (asset.JobId, assetId, asset.PosterAssetId, DefaultTitle(asset), asset.Type == "video");
                return default;
        }
    }

    /// <summary>
    /// A JPEG of the video's frame at 1 s (its first, if shorter), stored as a generated image of the org; null, and a
    /// warning, when ffmpeg cannot take one: the link then works without a picture.
    /// </summary>
    private async Task<string?> PosterFrameAsync(Caller caller, string? jobId, string videoId, CancellationToken ct)
    {
        var poster = Path.Combine(Path.GetTempPath(), $"fenta-poster-{Guid.NewGuid():N}.jpg");
        try
        {
            using (var files = await assets.LocalFilesAsync(caller.OrgId, [videoId], ct))
            {
                if (!files.TryGetValue(videoId, out var video)) return null;
                // A video shorter than the seek gives no frame there (ffmpeg may still exit 0): its first frame then.
                ProcessResult? taken = null;
                foreach (var seek in new[] { "1", "0" })
                {
                    taken = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-ss", seek, "-i", video, "-frames:v", "1", "-q:v", "3", poster], ct);
                    if (taken.ExitCode == 0 && new FileInfo(poster) is { Exists: true, Length: > 0 }) break;
                }
                if (new FileInfo(poster) is not { Exists: true, Length: > 0 }) throw new MediaException($"ffmpeg took no frame: {taken?.ErrorTail(4)}");
            }
            var stored = await assets.AddFileAsync(new NewAsset(caller.OrgId, "generated", "image/jpeg", "poster.jpg", JobId: jobId, CreatedBy: caller.UserId,
                Metadata: new { poster_of = videoId }), poster, ct);
            return stored.Id;
        }
        catch (MediaException e)
        {
            LogNoPoster(logger, videoId, e.Message);
            return null;
        }
        finally
        {
            File.Delete(poster);
        }
    }

    [LoggerMessage(EventId = 2901, Level = LogLevel.Warning, Message = "No poster frame for share link of {AssetId}: {Reason}")]
    private static partial void LogNoPoster(ILogger logger, string assetId, string reason);

    private static string DefaultTitle(ShareLinkStore.SharedAsset asset) =>
        Shortened(Path.GetFileNameWithoutExtension(asset.Filename) is { Length: > 0 } name ? name : asset.Type == "image" ? "Image" : "Video");

    private static string Shortened(string title) => title.Length <= MaxTitle ? title : title[..MaxTitle];

    private ShareLinkDto Dto(ShareLink link, string token, DateTimeOffset now) => new(link.Id, token, secrets.PageUrl(token).ToString(), link.JobId, link.AssetId,
        link.Title, link.RevokedAt is not null ? "revoked" : link.IsOpenAt(now) ? "active" : "expired", link.ExpiresAt, link.PasswordHash is not null,
        link.AllowDownload, link.ViewCount, link.CreatedAt, link.RevokedAt);
}
