using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Assets;

public sealed record AssetDto(
    string Id, string Type, string Source, string? Filename, string? ContentType, long SizeBytes, decimal? DurationSeconds,
    int? Width, int? Height, decimal? Fps, string? Codec, JsonElement Metadata, string? JobId, string? NodeId, DateTimeOffset CreatedAt,
    string? DownloadUrl, DateTimeOffset? DownloadExpiresAt)
{
    public static AssetDto From(Asset a, string? url = null, DateTimeOffset? expires = null) => new(
        a.Id, a.Type, a.Source, a.Filename, a.ContentType, a.SizeBytes, a.DurationSeconds, a.Width, a.Height, a.Fps, a.Codec, a.Metadata,
        a.JobId, a.NodeId, a.CreatedAt, url, expires);
}

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
        group.MapGet("/{assetId}", Get).RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer)
            .WithSummary("One asset with a signed download URL valid for expires_in seconds (default 3600).");
        group.MapDelete("/{assetId}", Delete).RequireAccess(Scopes.AssetsUpload, OrgRole.Editor).WithSummary("Delete an asset; its links stop working.");

        routes.MapGet("/v1/files/{**key}", Download).WithTags("Assets").ProducesProblem(403).ProducesProblem(404)
            .WithSummary("Download by signed link (from GET /v1/assets/{id}); supports HTTP Range.");
    }

    private static async Task<Created<AssetDto>> Upload(HttpRequest request, Caller caller, AssetStore assets, CancellationToken ct)
    {
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
