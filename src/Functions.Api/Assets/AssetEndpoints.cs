using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.StaticFiles;
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

/// <summary>Where and how to send the file of an upload begun with <c>POST /v1/assets/init</c>.</summary>
public sealed record UploadTicketDto(AssetDto Asset, string UploadUrl, string UploadMethod, DateTimeOffset UploadExpiresAt, long MaxBytes);

public sealed record CompleteUploadRequest(string? AssetId);

public sealed record UploadReceivedDto(string AssetId, long SizeBytes);

public sealed record StockResultsDto(string Provider, IReadOnlyList<StockHit> Data);

/// <summary>Assets of the org (uploads and everything jobs produce) and their time-limited download links.</summary>
public static class AssetEndpoints
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static void MapAssets(this IEndpointRouteBuilder routes, FentaOptions options)
    {
        var group = routes.MapGroup("/v1/assets").WithTags("Assets").RequireAuthorization();
        group.MapPost("/", Upload).RequireAccess(Scopes.AssetsUpload, OrgRole.Editor).Accepts<IFormFile>("multipart/form-data")
            .WithMetadata(new RequestSizeLimitAttribute(options.MaxUploadBytes))
            .WithSummary("Upload a file (multipart field 'file'); media files are probed with ffprobe.");
        group.MapGet("/", List).RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer).WithSummary("The org's assets, newest first; filter by type.");
        group.MapGet("/stock/search", SearchStock).RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer)
            .WithSummary("Search the stock Input.Stock draws from: Pexels when configured, else the local library.");
        group.MapGet("/{assetId}", Get).RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer)
            .WithSummary("One asset with a signed download URL valid for expires_in seconds (default 3600).");
        group.MapDelete("/{assetId}", Delete).RequireAccess(Scopes.AssetsUpload, OrgRole.Editor).WithSummary("Delete an asset; its links stop working.");

        // A direct upload in three steps, like a presigned PUT: init reserves the asset and signs an upload link,
        // the client PUTs the file there (no other credential), complete probes it and makes it ready for jobs.
        group.MapPost("/init", InitUpload).RequireAccess(Scopes.AssetsUpload, OrgRole.Editor)
            .WithSummary("Begin a direct upload: a processing asset and a signed upload_url (PUT the file there within an hour), then POST /v1/assets/complete.");
        group.MapPost("/complete", CompleteUpload).RequireAccess(Scopes.AssetsUpload, OrgRole.Editor)
            .WithSummary("Finish a direct upload: the file is probed (media facts filled in) and the asset becomes ready. Safe to repeat.");
        routes.MapPut("/v1/uploads/{**key}", ReceiveUpload).WithTags("Assets").WithMetadata(new RequestSizeLimitAttribute(options.MaxUploadBytes))
            .ProducesProblem(403).ProducesProblem(404).ProducesProblem(409)
            .WithSummary("The upload_url of POST /v1/assets/init: the request body is the file.");

        routes.MapGet("/v1/files/{**key}", Download).WithTags("Assets").ProducesProblem(403).ProducesProblem(404)
            .WithSummary("Download by signed link (from GET /v1/assets/{id}); supports HTTP Range.");
    }

    private static async Task<Created<AssetDto>> Upload(HttpRequest request, Caller caller, AssetStore assets, NpgsqlDataSource data, TimeProvider clock,
        CancellationToken ct)
    {
        await Metering.EnsureWithinQuotaAsync(data, caller.OrgId, clock.GetUtcNow(), ct, only: UsageResources.StorageBytes);
        IFormFile? file = null;
        if (request.HasFormContentType)
        {
            try
            {
                file = (await request.ReadFormAsync(ct)).Files.GetFile("file");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException { StatusCode: 400 })
            {
                // A malformed multipart body is the client's mistake; say which field we wanted.
            }
        }
        if (file is null || file.Length == 0) throw new ValidationFailedException("file", "a non-empty multipart/form-data field 'file' is required");
        var contentType = string.IsNullOrEmpty(file.ContentType) || file.ContentType == "application/octet-stream"
            ? ContentTypes.TryGetContentType(file.FileName, out var guessed) ? guessed : "application/octet-stream"
            : file.ContentType;
        await using var stream = file.OpenReadStream();
        var asset = await assets.AddAsync(new NewAsset(caller.OrgId, "upload", contentType, Path.GetFileName(file.FileName), CreatedBy: caller.UserId), stream, ct);
        return TypedResults.Created($"/v1/assets/{asset.Id}", AssetDto.From(asset));
    }

    private static async Task<Created<UploadTicketDto>> InitUpload(InitUploadRequest body, Caller caller, AssetStore assets, SignedUrls urls,
        FentaOptions options, HttpRequest request, NpgsqlDataSource data, TimeProvider clock, CancellationToken ct)
    {
        await Metering.EnsureWithinQuotaAsync(data, caller.OrgId, clock.GetUtcNow(), ct, only: UsageResources.StorageBytes);
        var errors = new FieldErrors();
        var filename = Path.GetFileName(body.Filename ?? "");
        if (filename.Length is 0 or > 255) errors.Add("filename", "is required: the file's name, at most 255 characters");
        if (body.ContentType is { } given && !MediaTypeHeaderValue.TryParse(given, out _)) errors.Add("content_type", "must be a media type such as video/mp4");
        if (body.SizeBytes is { } size && (size <= 0 || size > options.MaxUploadBytes))
            errors.Add("size_bytes", $"must be 1 to {options.MaxUploadBytes} bytes");
        errors.ThrowIfAny();
        var contentType = body.ContentType ?? (ContentTypes.TryGetContentType(filename, out var guessed) ? guessed : "application/octet-stream");

        var asset = await assets.ReserveUploadAsync(new NewAsset(caller.OrgId, "upload", contentType, filename, CreatedBy: caller.UserId), ct);
        var expires = DateTimeOffset.FromUnixTimeSeconds(clock.GetUtcNow().AddHours(1).ToUnixTimeSeconds());
        var url = $"{request.Scheme}://{request.Host}{urls.SignUpload(asset.StorageKey, expires)}";
        return TypedResults.Created($"/v1/assets/{asset.Id}", new UploadTicketDto(AssetDto.From(asset), url, "PUT", expires, options.MaxUploadBytes));
    }

    /// <summary>Anyone holding an unexpired upload link may put the file of that one pending asset — and only until it is completed.</summary>
    private static async Task<Ok<UploadReceivedDto>> ReceiveUpload(string key, long? expires, string? sig, HttpRequest request, FentaDb db,
        SignedUrls urls, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        if (expires is null || !urls.VerifyUpload(key, expires.Value, sig, clock.GetUtcNow()))
            throw new ForbiddenException("The upload link is invalid or expired; begin again with POST /v1/assets/init.");
        var asset = await db.Assets.AsNoTracking().SingleOrDefaultAsync(a => a.StorageKey == key && a.DeletedAt == null, ct)
                    ?? throw new NotFoundException("upload", key);
        if (!asset.IsPendingUpload) throw new ConflictException("ASSET_NOT_UPLOADING", $"Asset {asset.Id} is already complete; its file cannot be replaced.");
        var size = await blobs.PutAsync(key, request.Body, ct);
        return TypedResults.Ok(new UploadReceivedDto(asset.Id, size));
    }

    private static async Task<Ok<AssetDto>> CompleteUpload(CompleteUploadRequest body, Caller caller, FentaDb db, AssetStore assets, TimeProvider clock,
        CancellationToken ct)
    {
        if (body.AssetId is not { Length: > 0 } id) throw new ValidationFailedException("asset_id", "is required: the id POST /v1/assets/init returned");
        var asset = await Live(db, caller.OrgId).SingleOrDefaultAsync(a => a.Id == id, ct) ?? throw new NotFoundException("asset", id);
        await assets.CompleteUploadAsync(asset, clock.GetUtcNow(), ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(AssetDto.From(asset));
    }

    private static async Task<Ok<StockResultsDto>> SearchStock(string? query, string? orientation, [FromQuery(Name = "min_duration")] string? minDuration,
        [FromQuery(Name = "per_page")] string? perPage, StockSearch stock, CancellationToken ct)
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

    private static async Task<Ok<Page<AssetDto>>> List(Caller caller, [AsParameters] PageQuery page, string? type, FentaDb db, CancellationToken ct)
    {
        if (type is not null && !AssetTypes.All.Contains(type)) throw new ValidationFailedException("type", $"must be one of: {string.Join(", ", AssetTypes.All)}");
        var query = Live(db, caller.OrgId);
        if (type is not null) query = query.Where(a => a.Type == type);
        return TypedResults.Ok(await query.ToPageAsync(page, a => AssetDto.From(a), ct));
    }

    private static async Task<Ok<AssetDto>> Get(string assetId, [FromQuery(Name = "expires_in")] string? expiresIn, Caller caller, FentaDb db,
        SignedUrls urls, HttpRequest request, TimeProvider clock, CancellationToken ct)
    {
        var seconds = 3600;
        if (expiresIn is not null && (!int.TryParse(expiresIn, out seconds) || seconds is < 60 or > 7 * 24 * 3600))
            throw new ValidationFailedException("expires_in", "must be 60 to 604800 seconds");
        var asset = await Live(db, caller.OrgId).SingleOrDefaultAsync(a => a.Id == assetId, ct) ?? throw new NotFoundException("asset", assetId);
        if (asset.Status != "ready") return TypedResults.Ok(AssetDto.From(asset)); // nothing to download yet
        var expires = clock.GetUtcNow().AddSeconds(seconds);
        var url = $"{request.Scheme}://{request.Host}{urls.Sign(asset.StorageKey, expires)}";
        return TypedResults.Ok(AssetDto.From(asset, url, DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds())));
    }

    private static async Task<NoContent> Delete(string assetId, Caller caller, FentaDb db, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var asset = await Live(db, caller.OrgId).SingleOrDefaultAsync(a => a.Id == assetId, ct) ?? throw new NotFoundException("asset", assetId);
        asset.Delete(clock.GetUtcNow());
        audit.Record(caller, "delete", "asset", asset.Id, new { asset.Filename });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>Anyone holding an unexpired, untampered link may read the file — no other credential.</summary>
    private static async Task<FileStreamHttpResult> Download(string key, long? expires, string? sig, FentaDb db,
        SignedUrls urls, IBlobStore blobs, TimeProvider clock, CancellationToken ct)
    {
        if (expires is null || !urls.Verify(key, expires.Value, sig, clock.GetUtcNow()))
            throw new ForbiddenException("The link is invalid or expired; ask GET /v1/assets/{id} for a new one.");
        var asset = await db.Assets.AsNoTracking().SingleOrDefaultAsync(a => a.StorageKey == key && a.DeletedAt == null, ct);
        var stream = asset is null ? null : await blobs.OpenReadAsync(key, ct);
        if (asset is null || stream is null) throw new NotFoundException("file", key);
        return TypedResults.File(stream, asset.ContentType ?? "application/octet-stream", asset.Filename, enableRangeProcessing: true);
    }

    private static IQueryable<Asset> Live(FentaDb db, string orgId) => db.Assets.Where(a => a.OrgId == orgId && a.DeletedAt == null);
}
