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
/// Turns a file into an asset of an org: stores the bytes, reads media facts with ffprobe, inserts the row (or, for a
/// direct upload, reserves the row first and completes it once the bytes are in).
/// Used by the API (uploads) and by node activities (everything a job produces), so every file is an asset.
/// </summary>
public sealed class AssetStore(NpgsqlDataSource db, IBlobStore blobs)
{
    public IBlobStore Blobs => blobs;

    public async Task<Asset> AddAsync(NewAsset asset, Stream content, CancellationToken ct)
    {
        var row = Row(asset, "ready");
        var size = await blobs.PutAsync(row.StorageKey, content, ct);
        row.Describe(size, await ProbeAsync(row, ct));
        await InsertAsync(row, ct);
        return row;
    }

    /// <summary>
    /// The first half of a direct upload: the asset's row, <c>processing</c> until <see cref="CompleteUploadAsync"/>,
    /// and the key its bytes will be put under.
    /// </summary>
    public async Task<Asset> ReserveUploadAsync(NewAsset asset, CancellationToken ct)
    {
        var row = Row(asset with { Source = "upload" }, "processing");
        await InsertAsync(row, ct);
        return row;
    }

    /// <summary>
    /// The second half: the uploaded bytes are measured and probed and the asset becomes ready (the caller saves it).
    /// Completing a ready upload again changes nothing, so a client may retry the call.
    /// </summary>
    public async Task CompleteUploadAsync(Asset asset, DateTimeOffset now, CancellationToken ct)
    {
        if (asset is { Source: "upload", Status: "ready" }) return;
        if (!asset.IsPendingUpload) throw new ConflictException("ASSET_NOT_UPLOADING", $"Asset {asset.Id} is not an upload waiting to be completed.");
        var size = await blobs.SizeAsync(asset.StorageKey, ct)
                   ?? throw new ConflictException("UPLOAD_MISSING", $"Nothing has been uploaded for asset {asset.Id} yet: PUT the file to its upload_url first.");
        asset.CompleteUpload(size, await ProbeAsync(asset, ct), now);
    }

    private Asset Row(NewAsset asset, string status)
    {
        var id = Ids.New("asset");
        return new Asset
        {
            Id = id, OrgId = asset.OrgId, JobId = asset.JobId, NodeId = asset.NodeId, Type = AssetTypes.FromContentType(asset.ContentType),
            Source = asset.Source, StorageProvider = blobs.Provider, StorageKey = $"{asset.OrgId}/{id}{Extension(asset)}", Filename = asset.Filename,
            ContentType = asset.ContentType, Metadata = JsonSerializer.SerializeToElement(asset.Metadata ?? new { }, FentaJson.Options),
            Status = status, CreatedBy = asset.CreatedBy,
        };
    }

    /// <summary>ffprobe's facts of a stored image, video or audio file. An unreadable upload is the client's mistake: its bytes go, and the error names the file.</summary>
    private async Task<MediaInfo?> ProbeAsync(Asset asset, CancellationToken ct)
    {
        if (asset.Type is not ("image" or "video" or "audio")) return null;
        try
        {
            return await FfProbe.ProbeAsync(await blobs.LocalPathAsync(asset.StorageKey, ct), ct);
        }
        catch (MediaException) when (asset.Source == "upload")
        {
            await blobs.DeleteAsync(asset.StorageKey, ct);
            throw new ValidationFailedException("file", $"is not a readable {asset.Type} file");
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

    /// <summary>Local file paths of an org's ready assets, by id (ids of other orgs, deleted assets and unfinished uploads are left out).</summary>
    public async Task<Dictionary<string, string>> LocalPathsAsync(string orgId, IEnumerable<string> assetIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, storage_key FROM assets WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND status = 'ready'");
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = assetIds.Distinct().ToArray() });
        var keys = new List<(string Id, string Key)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) keys.Add((reader.GetString(0), reader.GetString(1)));
        var paths = new Dictionary<string, string>();
        foreach (var (id, key) in keys) paths[id] = await blobs.LocalPathAsync(key, ct);
        return paths;
    }

    public async Task<string?> LocalPathAsync(string orgId, string assetId, CancellationToken ct) =>
        (await LocalPathsAsync(orgId, [assetId], ct)).GetValueOrDefault(assetId);

    public async Task<Asset> AddFileAsync(NewAsset asset, string path, CancellationToken ct)
    {
        await using var file = File.OpenRead(path);
        return await AddAsync(asset, file, ct);
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
