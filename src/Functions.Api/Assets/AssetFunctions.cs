using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Integrations.Blob;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using Npgsql;

namespace FentaWeb.Api.Assets;

public sealed record AssetDto(
    string Id, string Type, string Source, string Status, string? Filename, string? ContentType, long SizeBytes, decimal? DurationSeconds,
    int? Width, int? Height, decimal? Fps, string? Codec, JsonElement Metadata, string? JobId, string? NodeId, DateTimeOffset CreatedAt,
    string? DownloadUrl, DateTimeOffset? DownloadExpiresAt)
{
    public static AssetDto From(Asset a, string? url = null, DateTimeOffset? expires = null) => new(
        a.Id, a.Type, a.Source, a.Status, a.Filename, a.ContentType, a.SizeBytes, a.DurationSeconds, a.Width, a.Height, a.Fps, a.Codec, a.Metadata,
        a.JobId, a.NodeId, a.CreatedAt, url, expires);
}

public sealed record InitUploadRequest(string? Filename, string? ContentType, long? SizeBytes);

/// <summary>
/// Where and how to send the file of an upload begun with <c>POST /v1/assets/init</c>: one <c>PUT</c> of the whole file
/// to <see cref="UploadUrl"/> (straight to Blob Storage, with <see cref="UploadHeaders"/>) before <see cref="UploadExpiresAt"/>.
/// </summary>
public sealed record UploadTicketDto(AssetDto Asset, string UploadUrl, string UploadMethod, IReadOnlyDictionary<string, string> UploadHeaders,
    DateTimeOffset UploadExpiresAt, long MaxBytes);

public sealed record CompleteUploadRequest(string? AssetId);

public sealed record StockResultsDto(string Provider, IReadOnlyList<StockHit> Data);

/// <summary>Assets of the org (uploads and everything jobs produce) and their time-limited download links.</summary>
[Tags("Assets")]
public sealed class AssetFunctions(FentaDb db, AssetUploads uploads, AssetBlobs blobs, StockSearch stock, FentaOptions options,
    NpgsqlDataSource data, AuditTrail audit, TimeProvider clock)
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>Blob's Put Blob takes a whole file in one request only when told which kind of blob to make.</summary>
    private static readonly IReadOnlyDictionary<string, string> PutBlobHeaders = new Dictionary<string, string> { ["x-ms-blob-type"] = "BlockBlob" };

    // A direct upload in three steps: init reserves the asset and signs a create-only link to one staging blob, the
    // client PUTs the file there (straight to Blob Storage: no bytes pass through the API), complete checks it and
    // makes it ready for jobs.
    [Function(nameof(InitAssetUpload)), Access(OrgRole.Editor, Scopes.AssetsUpload),
     EndpointSummary("Begin a direct upload of an image, video or audio file of size_bytes: a processing asset and an upload_url (PUT the file there with upload_headers before upload_expires_at), then POST /v1/assets/complete.")]
    public async Task<Created<UploadTicketDto>> InitAssetUpload(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/assets/init")] HttpRequest request, [FromBody] InitUploadRequest body, Caller caller,
        CancellationToken ct)
    {
        await Metering.EnsureWithinQuotaAsync(data, caller.OrgId, clock.GetUtcNow(), ct, only: UsageResources.StorageBytes);
        var errors = new FieldErrors();
        var filename = Path.GetFileName(body.Filename ?? "");
        if (filename.Length is 0 or > 255) errors.Add("filename", "is required: the file's name, at most 255 characters");
        var contentType = body.ContentType ?? (ContentTypes.TryGetContentType(filename, out var guessed) ? guessed : null);
        if (body.ContentType is { } given && !MediaTypeHeaderValue.TryParse(given, out _)) errors.Add("content_type", "must be a media type such as video/mp4");
        else if (filename.Length > 0 && AssetTypes.FromContentType(contentType) is not ("image" or "video" or "audio"))
            errors.Add("content_type", "must be an image, video or audio type such as video/mp4 (give it when the file name does not tell)");
        if (body.SizeBytes is not { } size || size <= 0 || size > options.MaxUploadBytes)
            errors.Add("size_bytes", $"is required: the file's exact size, 1 to {options.MaxUploadBytes} bytes");
        errors.ThrowIfAny();

        var (asset, upload) = await uploads.ReserveUploadAsync(new NewAsset(caller.OrgId, "upload", contentType!, filename, CreatedBy: caller.UserId), body.SizeBytes!.Value, ct);
        return TypedResults.Created($"/v1/assets/{asset.Id}",
            new UploadTicketDto(AssetDto.From(asset), upload.Url.ToString(), "PUT", PutBlobHeaders, upload.ExpiresAt, options.MaxUploadBytes));
    }

    [Function(nameof(CompleteAssetUpload)), Access(OrgRole.Editor, Scopes.AssetsUpload),
     EndpointSummary("Finish a direct upload: the file must have the declared size and be the declared kind of media; it is probed (media facts filled in), the asset becomes ready and its upload_url stops working. Safe to repeat; while another call is completing it, 409 UPLOAD_IN_PROGRESS.")]
    public async Task<Ok<AssetDto>> CompleteAssetUpload(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/assets/complete")] HttpRequest request, [FromBody] CompleteUploadRequest body,
        Caller caller, CancellationToken ct)
    {
        if (body.AssetId is not { Length: > 0 } id) throw new ValidationFailedException("asset_id", "is required: the id POST /v1/assets/init returned");
        var asset = await Live(db, caller.OrgId).AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, ct) ?? throw new NotFoundException("asset", id);
        if (asset.Status == "ready" && asset.Source == "upload") return TypedResults.Ok(AssetDto.From(asset));
        // The upload claims the row, so of concurrent calls one does the work; it saves the row itself. Each 200 then
        // answers the row as stored, the same body whichever call did the work.
        await uploads.CompleteUploadAsync(asset, clock.GetUtcNow(), ct);
        asset = await Live(db, caller.OrgId).AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, ct) ?? throw new NotFoundException("asset", id);
        return TypedResults.Ok(AssetDto.From(asset));
    }

    [Function(nameof(SearchStock)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Search the stock Input.Stock draws from: Pexels when configured, else the local library.")]
    public async Task<Ok<StockResultsDto>> SearchStock(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/assets/stock/search")] HttpRequest request, string? query, string? orientation,
        [FromQuery(Name = "min_duration")] string? minDuration, [FromQuery(Name = "per_page")] string? perPage, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(query) || query.Length > 200) errors.Add("query", "is required: search terms, at most 200 characters");
        orientation ??= "portrait";
        if (orientation is not ("portrait" or "landscape" or "square")) errors.Add("orientation", "must be one of: portrait, landscape, square");
        var seconds = 0.0;
        if (minDuration is not null && (!double.TryParse(minDuration, System.Globalization.CultureInfo.InvariantCulture, out seconds) || seconds is < 0 or > 60))
            errors.Add("min_duration", "must be 0 to 60 seconds");
        var count = 15;
        if (perPage is not null && (!int.TryParse(perPage, out count) || count is < 1 or > 40)) errors.Add("per_page", "must be 1 to 40");
        errors.ThrowIfAny();
        return TypedResults.Ok(new StockResultsDto(stock.Provider, await stock.SearchAsync(query!.Trim(), orientation, seconds, count, ct)));
    }

    [Function(nameof(ListAssets)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("The org's assets, newest first; filter by type.")]
    public async Task<Ok<Page<AssetDto>>> ListAssets([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/assets")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, string? type, CancellationToken ct)
    {
        if (type is not null && !AssetTypes.All.Contains(type)) throw new ValidationFailedException("type", $"must be one of: {string.Join(", ", AssetTypes.All)}");
        var query = Live(db, caller.OrgId);
        if (type is not null) query = query.Where(a => a.Type == type);
        return TypedResults.Ok(await query.ToPageAsync(page, a => AssetDto.From(a), ct));
    }

    [Function(nameof(GetAsset)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("One asset with a signed, expiring download URL straight to Blob Storage (HTTP Range works), valid for expires_in seconds.")]
    public async Task<Ok<AssetDto>> GetAsset([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/assets/{assetId}")] HttpRequest request,
        string assetId, [FromQuery(Name = "expires_in")] string? expiresIn, Caller caller, CancellationToken ct)
    {
        var lifetime = blobs.Options.DownloadLinkLifetime;
        if (expiresIn is not null)
        {
            if (!int.TryParse(expiresIn, out var seconds) || seconds is < 60 or > 7 * 24 * 3600)
                throw new ValidationFailedException("expires_in", "must be 60 to 604800 seconds");
            lifetime = TimeSpan.FromSeconds(seconds);
        }
        var asset = await Live(db, caller.OrgId).SingleOrDefaultAsync(a => a.Id == assetId, ct) ?? throw new NotFoundException("asset", assetId);
        if (asset.Status != "ready") return TypedResults.Ok(AssetDto.From(asset)); // nothing to download yet
        var link = await blobs.ReadLinkAsync(asset.StorageKey, lifetime, asset.ContentType, asset.Filename, ct);
        return TypedResults.Ok(AssetDto.From(asset, link.Url.ToString(), link.ExpiresAt));
    }

    /// <summary>The row stays (deleted) for the record; the file goes, so links already handed out stop working.</summary>
    [Function(nameof(DeleteAsset)), Access(OrgRole.Editor, Scopes.AssetsUpload), EndpointSummary("Delete an asset and its file; its links stop working.")]
    public async Task<NoContent> DeleteAsset([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/assets/{assetId}")] HttpRequest request,
        string assetId, Caller caller, CancellationToken ct)
    {
        var asset = await Live(db, caller.OrgId).SingleOrDefaultAsync(a => a.Id == assetId, ct) ?? throw new NotFoundException("asset", assetId);
        asset.Delete(clock.GetUtcNow());
        audit.Record(caller, "delete", "asset", asset.Id, new { asset.Filename });
        await db.SaveChangesAsync(ct);
        await blobs.DeleteAsync(asset.StorageKey, ct);
        // An upload's link may not have expired: sealing its staging name (not deleting it) keeps it from writing again.
        if (asset.Source == "upload") await uploads.SealStagedAsync(asset, ct);
        return TypedResults.NoContent();
    }

    private static IQueryable<Asset> Live(FentaDb db, string orgId) => db.Assets.Where(a => a.OrgId == orgId && a.DeletedAt == null);
}
