using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Blob;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Assets;

/// <summary>
/// A direct upload, in two halves: the asset's row is reserved with a create-only link to a staging blob, and once the
/// client has put the bytes there they are checked, copied to the asset's own key and the row completed (sealing the
/// link's blob name so it writes nothing more). Used by the API's upload endpoints; <see cref="UploadCleanup"/> gives up
/// the uploads never completed and sweeps what is left in staging.
/// </summary>
public sealed class AssetUploads(NpgsqlDataSource db, AssetBlobs blobs)
{
    /// <summary>
    /// The first half of a direct upload: the asset's row, <c>processing</c> (with the declared size, which counts
    /// against the org's storage) until <see cref="CompleteUploadAsync"/>, and a create-only link to its staging blob.
    /// </summary>
    public async Task<(Asset Asset, SignedLink Upload)> ReserveUploadAsync(NewAsset asset, long declaredBytes, CancellationToken ct)
    {
        var row = AssetRows.New(asset with { Source = "upload" }, "processing");
        row.SizeBytes = declaredBytes;
        var link = await blobs.CreateLinkAsync(StagingKey(row), blobs.Options.UploadLinkLifetime, ct);
        await AssetRows.InsertAsync(db, row, ct);
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
    /// the place of any bytes there), so the create-only link can write nothing more.
    /// <see cref="UploadCleanup.SweepStagingAsync"/> removes it once the link has expired.
    /// </summary>
    public Task SealStagedAsync(Asset asset, CancellationToken ct) =>
        // The link was signed just before the row was inserted, so it expires by created_at plus its lifetime.
        blobs.SealAsync(StagingKey(asset), asset.CreatedAt + blobs.Options.UploadLinkLifetime, ct);

    /// <summary>Where a direct upload's bytes land before they are checked.</summary>
    public static string StagingKey(Asset asset) => AssetBlobs.StagingPrefix + asset.StorageKey;

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
}
