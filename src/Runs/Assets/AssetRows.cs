using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
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
/// An asset's row as it is first written, shared by the two ways a file comes in (<see cref="AssetStore"/> for a file
/// at hand, <see cref="AssetUploads"/> for a direct upload): its id, its storage key and the INSERT.
/// </summary>
internal static class AssetRows
{
    public static Asset New(NewAsset asset, string status)
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

    /// <summary>Inserts the row; the database's created_at becomes its creation and update time.</summary>
    public static async Task InsertAsync(NpgsqlDataSource db, Asset asset, CancellationToken ct)
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

    /// <summary>The file's own extension when it is a plain one, else the usual one of its content type.</summary>
    public static string Extension(NewAsset asset)
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
