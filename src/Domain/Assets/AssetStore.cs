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
/// Turns a file into an asset of an org: stores the bytes, reads media facts with ffprobe, inserts the row.
/// Used by the API (uploads) and by node activities (everything a job produces), so every file is an asset.
/// </summary>
public sealed class AssetStore(NpgsqlDataSource db, IBlobStore blobs)
{
    public IBlobStore Blobs => blobs;

    public async Task<Asset> AddAsync(NewAsset asset, Stream content, CancellationToken ct)
    {
        var id = Ids.New("asset");
        var key = $"{asset.OrgId}/{id}{Extension(asset)}";
        var size = await blobs.PutAsync(key, content, ct);
        var type = AssetTypes.FromContentType(asset.ContentType);
        MediaInfo? info = null;
        if (type is "image" or "video" or "audio")
        {
            try
            {
                info = await FfProbe.ProbeAsync(await blobs.LocalPathAsync(key, ct), ct);
            }
            catch (MediaException) when (asset.Source == "upload")
            {
                await blobs.DeleteAsync(key, ct);
                throw new ValidationFailedException("file", $"is not a readable {type} file");
            }
        }
        var metadata = JsonSerializer.SerializeToElement(asset.Metadata ?? new { }, FentaJson.Options);
        await using var cmd = db.CreateCommand("""
            INSERT INTO assets (id, org_id, job_id, node_id, type, source, storage_provider, storage_key, filename, content_type, size_bytes,
                                duration_seconds, width, height, fps, codec, metadata, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            RETURNING created_at
            """);
        object Nullable<T>(T? value) => value is null ? DBNull.Value : value;
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = asset.OrgId });
        cmd.Parameters.Add(new() { Value = Nullable(asset.JobId), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = Nullable(asset.NodeId), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = type });
        cmd.Parameters.Add(new() { Value = asset.Source });
        cmd.Parameters.Add(new() { Value = blobs.Provider });
        cmd.Parameters.Add(new() { Value = key });
        cmd.Parameters.Add(new() { Value = Nullable(asset.Filename), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = asset.ContentType });
        cmd.Parameters.Add(new() { Value = size });
        cmd.Parameters.Add(new() { Value = info?.DurationSeconds is { } d ? (decimal)Math.Round(d, 3) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new() { Value = Nullable(info?.Width), NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.Add(new() { Value = Nullable(info?.Height), NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.Add(new() { Value = info?.Fps is { } fps ? (decimal)Math.Round(fps, 2) : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new() { Value = Nullable(info?.VideoCodec ?? info?.AudioCodec), NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = metadata.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = Nullable(asset.CreatedBy), NpgsqlDbType = NpgsqlDbType.Text });
        var created = (DateTime)(await cmd.ExecuteScalarAsync(ct))!;
        return new Asset
        {
            Id = id, OrgId = asset.OrgId, JobId = asset.JobId, NodeId = asset.NodeId, Type = type, Source = asset.Source,
            StorageProvider = blobs.Provider, StorageKey = key, Filename = asset.Filename, ContentType = asset.ContentType, SizeBytes = size,
            DurationSeconds = info?.DurationSeconds is { } duration ? (decimal)Math.Round(duration, 3) : null,
            Width = info?.Width, Height = info?.Height, Fps = info?.Fps is { } rate ? (decimal)Math.Round(rate, 2) : null,
            Codec = info?.VideoCodec ?? info?.AudioCodec, Metadata = metadata, CreatedBy = asset.CreatedBy,
            CreatedAt = new DateTimeOffset(created, TimeSpan.Zero), UpdatedAt = new DateTimeOffset(created, TimeSpan.Zero),
        };
    }

    /// <summary>Local file paths of an org's live assets, by id (ids of other orgs or deleted assets are left out).</summary>
    public async Task<Dictionary<string, string>> LocalPathsAsync(string orgId, IEnumerable<string> assetIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, storage_key FROM assets WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL");
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
