using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Blob;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Assets;

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
/// bytes are in (sealing the link's blob name so it writes nothing more). Used by the API (uploads) and by node
/// activities (everything a job produces), so every file is an asset; and it hands activities local copies of assets
/// (through the bounded cache of <see cref="AssetBlobs"/>).
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

    /// <summary>How long a complete may hold its claim on an upload: far longer than checking the largest file takes, so
    /// only a claim whose holder died runs out (and then the upload can be completed again).</summary>
    public static readonly TimeSpan UploadClaimLifetime = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The second half: the staged bytes are checked — the declared size, then a local copy of exactly that blob version
    /// probed for the declared kind of media — and copied on the service's side, from that same version only, to the
    /// asset's own key, which no upload link can reach. The row becomes ready and the staging name is sealed, so the
    /// upload link writes nothing more. A refused file is discarded so the same link can take the right one.
    /// </summary>
    /// <remarks>
    /// Several calls may complete one upload at once, on any number of instances: each first claims the row in
    /// PostgreSQL (a conditional UPDATE), and only the holder of the claim reads, probes, copies and saves. The others
    /// get <c>409 UPLOAD_IN_PROGRESS</c>, or return at once when the upload is already complete (a client may retry).
    /// The row is saved here, not by the caller: read it again for what the asset became.
    /// </remarks>
    public async Task CompleteUploadAsync(Asset asset, DateTimeOffset now, CancellationToken ct)
    {
        if (asset is { Source: "upload", Status: "ready" }) return;
        if (!asset.IsPendingUpload) throw new ConflictException("ASSET_NOT_UPLOADING", $"Asset {asset.Id} is not an upload waiting to be completed.");
        var claim = Guid.NewGuid().ToString("N");
        if (!await ClaimUploadAsync(asset.Id, claim, ct))
        {
            switch (await UploadStateAsync(asset.Id, ct))
            {
                case "ready": return;
                case null: throw new NotFoundException("asset", asset.Id);
                default: throw InProgress(asset);
            }
        }
        var finished = false;
        try
        {
            await CheckAndCopyAsync(asset, now, ct);
            finished = await FinishUploadAsync(asset, claim, ct);
        }
        finally
        {
            // A refusal or a failure frees the upload at once (the client may PUT the right file and complete again).
            if (!finished) await ReleaseUploadAsync(asset.Id, claim, CancellationToken.None);
        }
        if (!finished)
        {
            // The claim ran out while this call worked and another took it, or the asset was deleted meanwhile.
            switch (await UploadStateAsync(asset.Id, ct))
            {
                case "ready": return;
                case null:
                    // Deleted: its delete may have run before this copy landed, so the copy is removed here.
                    await blobs.DeleteAsync(asset.StorageKey, ct);
                    throw new NotFoundException("asset", asset.Id);
                default: throw InProgress(asset);
            }
        }
        await SealStagedAsync(asset, ct);
    }

    private static ConflictException InProgress(Asset asset) =>
        new("UPLOAD_IN_PROGRESS", $"Upload {asset.Id} is being completed by another request; ask again in a moment (or GET /v1/assets/{asset.Id}).");

    private async Task CheckAndCopyAsync(Asset asset, DateTimeOffset now, CancellationToken ct)
    {
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

    /// <summary>Takes the pending upload for this call unless another call holds an unexpired claim on it.</summary>
    private async Task<bool> ClaimUploadAsync(string assetId, string claim, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE assets SET upload_claim = $2, upload_claim_expires_at = now() + $3
            WHERE id = $1 AND source = 'upload' AND status = 'processing' AND deleted_at IS NULL
              AND (upload_claim_expires_at IS NULL OR upload_claim_expires_at < now())
            """);
        cmd.Parameters.Add(new() { Value = assetId });
        cmd.Parameters.Add(new() { Value = claim });
        cmd.Parameters.Add(new() { Value = UploadClaimLifetime, NpgsqlDbType = NpgsqlDbType.Interval });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Saves the checked upload as ready, only while this call still holds its claim and the asset is not deleted.</summary>
    private async Task<bool> FinishUploadAsync(Asset asset, string claim, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE assets SET status = $3, size_bytes = $4, duration_seconds = $5, width = $6, height = $7, fps = $8, codec = $9, updated_at = $10,
                              upload_claim = NULL, upload_claim_expires_at = NULL
            WHERE id = $1 AND upload_claim = $2 AND status = 'processing' AND deleted_at IS NULL
            """);
        void Add(object? value, NpgsqlDbType type) => cmd.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        Add(asset.Id, NpgsqlDbType.Text);
        Add(claim, NpgsqlDbType.Text);
        Add(asset.Status, NpgsqlDbType.Text);
        Add(asset.SizeBytes, NpgsqlDbType.Bigint);
        Add(asset.DurationSeconds, NpgsqlDbType.Numeric);
        Add(asset.Width, NpgsqlDbType.Integer);
        Add(asset.Height, NpgsqlDbType.Integer);
        Add(asset.Fps, NpgsqlDbType.Numeric);
        Add(asset.Codec, NpgsqlDbType.Text);
        Add(asset.UpdatedAt, NpgsqlDbType.TimestampTz);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private async Task ReleaseUploadAsync(string assetId, string claim, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("UPDATE assets SET upload_claim = NULL, upload_claim_expires_at = NULL WHERE id = $1 AND upload_claim = $2");
        cmd.Parameters.Add(new() { Value = assetId });
        cmd.Parameters.Add(new() { Value = claim });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The live asset's status, or null when it is deleted.</summary>
    private async Task<string?> UploadStateAsync(string assetId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT status FROM assets WHERE id = $1 AND deleted_at IS NULL");
        cmd.Parameters.Add(new() { Value = assetId });
        return (string?)await cmd.ExecuteScalarAsync(ct);
    }

    /// <summary>
    /// Ends the upload link of a completed or deleted upload before it expires: an empty blob takes the staging name (and
    /// the place of any bytes there), so the create-only link can write nothing more. <see cref="SweepStagingAsync"/>
    /// removes it once the link has expired.
    /// </summary>
    public Task SealStagedAsync(Asset asset, CancellationToken ct) =>
        // The link was signed just before the row was inserted, so it expires by created_at plus its lifetime.
        blobs.SealAsync(StagingKey(asset), asset.CreatedAt + blobs.Options.UploadLinkLifetime, ct);

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
    /// (their declared size no longer counts against storage); <see cref="SweepStagingAsync"/> then takes their files.
    /// </summary>
    public async Task<int> AbandonUploadsBeforeAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE assets SET status = 'failed', deleted_at = now(), updated_at = now()
            WHERE source = 'upload' AND status = 'processing' AND deleted_at IS NULL AND created_at < $1
            """);
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Margin on an upload link's lifetime: its expiry is stamped by this machine's clock and checked, like a blob's
    /// last write, by the storage service's.
    /// </summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Deletes the staging blobs that belong to no live pending upload — a completed or deleted upload's seal, a file put
    /// before its upload was given up, anything else under the prefix — once no link can write there again: a link
    /// expires within its lifetime of being issued, and so of anything written through it or sealed after it (a seal
    /// also carries its link's expiry, in case the app that sealed it gives links a longer life than this one).
    /// </summary>
    public async Task<int> SweepStagingAsync(DateTimeOffset now, CancellationToken ct)
    {
        var names = await blobs.StagedBeforeAsync(now - blobs.Options.UploadLinkLifetime - ClockSkew, ct);
        if (names.Count == 0) return 0;
        // Staging names are staging/<org>/<asset id><ext>: look the assets up by id, then match the whole key.
        await using var cmd = db.CreateCommand("""
            SELECT storage_key FROM assets WHERE id = ANY($1) AND source = 'upload' AND status = 'processing' AND deleted_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = names.Select(n => Path.GetFileNameWithoutExtension(n)).Distinct().ToArray() });
        var pending = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) pending.Add(AssetBlobs.StagingPrefix + reader.GetString(0));
        var swept = 0;
        foreach (var name in names.Where(n => !pending.Contains(n)))
        {
            await blobs.DeleteAsync(name, ct);
            swept++;
        }
        return swept;
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
