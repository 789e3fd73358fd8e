using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Assets;

/// <summary>What is known about a file on its way in.</summary>
public sealed record NewAsset(
    string OrgId,
    string Source,
    string ContentType,
    string? Filename = null,
    string? JobId = null,
    string? NodeId = null,
    string? CreatedBy = null,
    object? Metadata = null);

/// <summary>
/// Turns a file into an asset of an org: stores the bytes in the Blob container, reads media facts with ffprobe and
/// inserts the row — or, for a direct upload, reserves the row and a create-only link first and completes it once the
/// bytes are in. Used by the API (uploads) and by node activities (everything a job produces), so every file is an asset;
/// and it hands activities local copies of assets (through the bounded cache of <see cref="AssetBlobs"/>).
/// </summary>
public sealed class AssetStore(NpgsqlDataSource db, AssetBlobs blobs)
{
    public AssetBlobs Blobs => blobs;

    public async Task<Asset> AddAsync(NewAsset asset, Stream content, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-asset-{Guid.NewGuid():N}{Extension(asset)}");
        try
        {
            await using (var file = File.Create(path)) await content.CopyToAsync(file, ct);
            return await AddFileAsync(asset, path, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A local file becomes a ready asset: probed here (before anything is stored), then uploaded.</summary>
    public async Task<Asset> AddFileAsync(NewAsset asset, string path, CancellationToken ct)
    {
        var row = Row(asset, "ready");
        var info = await ProbeAsync(row, path, ct);
        await blobs.UploadFileAsync(row.StorageKey, path, row.ContentType, ct);
        row.Describe(new FileInfo(path).Length, info);
        await InsertAsync(row, ct);
        return row;
    }

    /// <summary>
    /// The first half of a direct upload: the asset's row, <c>processing</c> (with the declared size, which counts
    /// against the org's storage) until <see cref="CompleteUploadAsync"/>, and a create-only link to its staging blob.
    /// </summary>
    public async Task<(Asset Asset, SignedLink Upload)> ReserveUploadAsync(NewAsset asset, long declaredBytes, CancellationToken ct)
    {
        var row = Row(asset with { Source = "upload" }, "processing");
        row.SizeBytes = declaredBytes;
        var link = await blobs.CreateLinkAsync(StagingKey(row), blobs.Options.UploadLinkLifetime, ct);
        await InsertAsync(row, ct);
        return (row, link);
    }

    /// <summary>
    /// The second half: the staged bytes are checked — the declared size, then a local copy of exactly that blob version
    /// probed for the declared kind of media — and copied on the service's side, from that same version only, to the
    /// asset's own key, which no upload link can reach. The asset becomes ready (the caller saves it, then calls
    /// <see cref="DiscardStagedAsync"/>). A refused file is discarded so the same link can take the right one; completing a
    /// ready upload again changes nothing, so a client may retry the call.
    /// </summary>
    public async Task CompleteUploadAsync(Asset asset, DateTimeOffset now, CancellationToken ct)
    {
        if (asset is { Source: "upload", Status: "ready" }) return;
        if (!asset.IsPendingUpload) throw new ConflictException("ASSET_NOT_UPLOADING", $"Asset {asset.Id} is not an upload waiting to be completed.");
        var staged = StagingKey(asset);
        var properties = await blobs.PropertiesAsync(staged, ct)
                         ?? throw new ConflictException("UPLOAD_MISSING", $"Nothing has been uploaded for asset {asset.Id} yet: PUT the file to its upload_url first.");
        if (properties.ContentLength != asset.SizeBytes)
        {
            await blobs.DeleteAsync(staged, ct);
            throw new ValidationFailedException("size_bytes",
                $"was declared as {asset.SizeBytes} but the uploaded file has {properties.ContentLength} bytes; PUT the declared file to the upload_url again");
        }
        var copy = Path.Combine(Path.GetTempPath(), $"fenta-upload-{Guid.NewGuid():N}{Path.GetExtension(asset.StorageKey)}");
        try
        {
            await UnchangedAsync(() => blobs.DownloadToAsync(staged, copy, properties.ETag, ct));
            var info = await ProbeUploadAsync(asset, copy, staged, ct);
            await UnchangedAsync(() => blobs.CopyAsync(staged, asset.StorageKey, properties.ETag, asset.ContentType, ct));
            asset.CompleteUpload(properties.ContentLength, info, now);
        }
        finally
        {
            File.Delete(copy);
        }
    }

    /// <summary>Removes a completed upload's staging blob (what is left of it is swept later if this fails).</summary>
    public Task DiscardStagedAsync(Asset asset, CancellationToken ct) => blobs.DeleteAsync(StagingKey(asset), ct);

    /// <summary>Where a direct upload's bytes land before they are checked.</summary>
    public static string StagingKey(Asset asset) => AssetBlobs.StagingPrefix + asset.StorageKey;

    private Asset Row(NewAsset asset, string status)
    {
        var id = Ids.New("asset");
        return new Asset
        {
            Id = id, OrgId = asset.OrgId, JobId = asset.JobId, NodeId = asset.NodeId, Type = AssetTypes.FromContentType(asset.ContentType),
            Source = asset.Source, StorageKey = $"{asset.OrgId}/{id}{Extension(asset)}", Filename = asset.Filename,
            ContentType = asset.ContentType, Metadata = JsonSerializer.SerializeToElement(asset.Metadata ?? new { }, FentaJson.Options),
            Status = status, CreatedBy = asset.CreatedBy,
        };
    }

    /// <summary>ffprobe's facts of an image, video or audio file before it is stored (null for other types).</summary>
    private static async Task<MediaInfo?> ProbeAsync(Asset asset, string path, CancellationToken ct)
    {
        if (asset.Type is not ("image" or "video" or "audio")) return null;
        try
        {
            return await FfProbe.ProbeAsync(path, ct);
        }
        catch (MediaException) when (asset.Source == "upload")
        {
            throw new ValidationFailedException("file", $"is not a readable {asset.Type} file");
        }
    }

    /// <summary>
    /// An uploaded file must be the kind of media its content type declared. A file that is not is the client's mistake:
    /// its staged bytes go (so the link can take another file), and the error names what was wrong.
    /// </summary>
    private async Task<MediaInfo> ProbeUploadAsync(Asset asset, string path, string staged, CancellationToken ct)
    {
        MediaInfo info;
        try
        {
            info = await FfProbe.ProbeAsync(path, ct);
        }
        catch (MediaException)
        {
            await blobs.DeleteAsync(staged, ct);
            throw new ValidationFailedException("file", $"is not a readable {asset.Type} file");
        }
        if (MediaKind(info) != asset.Type)
        {
            await blobs.DeleteAsync(staged, ct);
            throw new ValidationFailedException("content_type",
                $"was declared as {asset.ContentType} but the file is {(MediaKind(info) is { } kind ? $"an {kind}" : "not image, video or audio")}");
        }
        return info;
    }

    /// <summary>What ffprobe says a file is: a still (no duration, or an image format), a timed video, or audio.</summary>
    private static string? MediaKind(MediaInfo info)
    {
        var imageFormat = info.FormatName is { } format && (format.EndsWith("_pipe", StringComparison.Ordinal) || format is "image2" or "gif");
        if (info.HasVideo && (imageFormat || info.DurationSeconds is null or <= 0)) return "image";
        if (info.HasVideo) return "video";
        return info.HasAudio ? "audio" : null;
    }

    /// <summary>A 412 from Blob means the staged blob is no longer the version that was checked (it was replaced or removed meanwhile).</summary>
    private static async Task UnchangedAsync(Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Azure.RequestFailedException e) when (e.Status is 412 or 404)
        {
            throw new ConflictException("UPLOAD_CHANGED", "The uploaded file changed while it was being checked; complete the upload again.");
        }
    }

    private async Task InsertAsync(Asset asset, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO assets (id, org_id, job_id, node_id, type, source, storage_provider, storage_key, filename, content_type, size_bytes,
                                duration_seconds, width, height, fps, codec, metadata, status, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
            RETURNING created_at
            """);
        void Add(object? value, NpgsqlDbType type) => cmd.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        Add(asset.Id, NpgsqlDbType.Text);
        Add(asset.OrgId, NpgsqlDbType.Text);
        Add(asset.JobId, NpgsqlDbType.Text);
        Add(asset.NodeId, NpgsqlDbType.Text);
        Add(asset.Type, NpgsqlDbType.Text);
        Add(asset.Source, NpgsqlDbType.Text);
        Add(asset.StorageProvider, NpgsqlDbType.Text);
        Add(asset.StorageKey, NpgsqlDbType.Text);
        Add(asset.Filename, NpgsqlDbType.Text);
        Add(asset.ContentType, NpgsqlDbType.Text);
        Add(asset.SizeBytes, NpgsqlDbType.Bigint);
        Add(asset.DurationSeconds, NpgsqlDbType.Numeric);
        Add(asset.Width, NpgsqlDbType.Integer);
        Add(asset.Height, NpgsqlDbType.Integer);
        Add(asset.Fps, NpgsqlDbType.Numeric);
        Add(asset.Codec, NpgsqlDbType.Text);
        Add(asset.Metadata.GetRawText(), NpgsqlDbType.Jsonb);
        Add(asset.Status, NpgsqlDbType.Text);
        Add(asset.CreatedBy, NpgsqlDbType.Text);
        var created = new DateTimeOffset((DateTime)(await cmd.ExecuteScalarAsync(ct))!, TimeSpan.Zero);
        (asset.CreatedAt, asset.UpdatedAt) = (created, created);
    }

    /// <summary>
    /// Local copies of an org's ready assets, by id, for tools that read files (ids of other orgs, deleted assets and
    /// unfinished uploads are left out). The copies stay on disk until the result is disposed.
    /// </summary>
    public async Task<LocalFiles> LocalFilesAsync(string orgId, IEnumerable<string> assetIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, storage_key FROM assets WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND status = 'ready'");
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = assetIds.Distinct().ToArray() });
        var keys = new List<(string Id, string Key)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) keys.Add((reader.GetString(0), reader.GetString(1)));
        var files = new Dictionary<string, CachedFile>();
        try
        {
            foreach (var (id, key) in keys) files[id] = await blobs.LocalCopyAsync(key, ct);
        }
        catch
        {
            foreach (var file in files.Values) file.Dispose();
            throw;
        }
        return new LocalFiles(files);
    }

    /// <summary>
    /// Direct uploads begun before <paramref name="cutoff"/> and never completed are given up: their rows are deleted
    /// (their declared size no longer counts against storage), as are staged files that old.
    /// </summary>
    public async Task<(int Uploads, int StagedFiles)> AbandonUploadsBeforeAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE assets SET status = 'failed', deleted_at = now(), updated_at = now()
            WHERE source = 'upload' AND status = 'processing' AND deleted_at IS NULL AND created_at < $1
            """);
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        var uploads = await cmd.ExecuteNonQueryAsync(ct);
        return (uploads, await blobs.DeleteStagedBeforeAsync(cutoff, ct));
    }

    private static string Extension(NewAsset asset)
    {
        var fromName = Path.GetExtension(asset.Filename ?? "");
        if (fromName is { Length: > 1 and <= 6 } && fromName.Skip(1).All(char.IsAsciiLetterOrDigit)) return fromName.ToLowerInvariant();
        return asset.ContentType switch
        {
            "video/mp4" => ".mp4",
            "image/jpeg" => ".jpg",
            "image/png" => ".png",
            "audio/wav" or "audio/x-wav" => ".wav",
            "audio/mpeg" => ".mp3",
            "audio/mp4" or "audio/aac" => ".m4a",
            "application/x-subrip" => ".srt",
            "text/x-ssa" => ".ass",
            _ => "",
        };
    }
}
