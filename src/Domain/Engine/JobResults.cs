using System.Text.Json;
using FentaWeb.Domain.Assets;
using Npgsql;

namespace FentaWeb.Domain.Engine;

/// <summary>
/// A finished job's result as the product's documentation shows it: the rendered video's, thumbnail's and subtitles'
/// signed, expiring download links and the video's duration, plus every sink node's output (<c>outputs</c>, the richer
/// view). Links are signed when the result is read, so a job read or a webhook delivered later still gets live ones.
/// </summary>
public sealed record JobResult(string? VideoUrl, string? ThumbnailUrl, string? SrtUrl, double? Duration, DateTimeOffset? ExpiresAt, JsonElement Outputs);

public sealed class JobResults(NpgsqlDataSource db, AssetBlobs blobs)
{
    private sealed record StoredFile(string StorageKey, string? ContentType, string? Filename);

    /// <summary>
    /// The documented result of a job whose stored result is <paramref name="outputs"/> (sink node id → output); null until
    /// it has one. The video is the job's first rendered one (its Output.Render node, item 0 of a fanned-out render),
    /// wherever it sits in the graph; its files must be the org's live assets.
    /// </summary>
    public async Task<JobResult?> ForAsync(string orgId, string jobId, JsonElement? outputs, CancellationToken ct)
    {
        if (outputs is not { ValueKind: JsonValueKind.Object } sinks) return null;
        await using var cmd = db.CreateCommand("""
            WITH render AS (
              SELECT output FROM node_runs
              WHERE job_id = $1 AND node_type = 'Output.Render' AND status = 'succeeded' AND item_index >= 0
              ORDER BY node_id, item_index LIMIT 1)
            SELECT r.output->>'duration_seconds', a.id, a.storage_key, a.content_type, a.filename,
                   r.output->>'video_asset_id', r.output->>'thumbnail_asset_id', r.output->>'srt_asset_id'
            FROM render r LEFT JOIN assets a
              ON a.org_id = $2 AND a.deleted_at IS NULL AND a.status = 'ready'
             AND a.id IN (r.output->>'video_asset_id', r.output->>'thumbnail_asset_id', r.output->>'srt_asset_id')
            """);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = orgId });
        double? duration = null;
        string? videoId = null, thumbnailId = null, srtId = null;
        var files = new Dictionary<string, StoredFile>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                duration = reader.IsDBNull(0) ? null : double.Parse(reader.GetString(0), System.Globalization.CultureInfo.InvariantCulture);
                (videoId, thumbnailId, srtId) = (Text(reader, 5), Text(reader, 6), Text(reader, 7));
                if (!reader.IsDBNull(1)) files[reader.GetString(1)] = new StoredFile(reader.GetString(2), Text(reader, 3), Text(reader, 4));
            }
        var lifetime = blobs.Options.DownloadLinkLifetime;
        async Task<SignedLink?> Link(string? id) =>
            id is not null && files.TryGetValue(id, out var file) ? await blobs.ReadLinkAsync(file.StorageKey, lifetime, file.ContentType, file.Filename, ct) : null;
        var (video, thumbnail, srt) = (await Link(videoId), await Link(thumbnailId), await Link(srtId));
        return new JobResult(video?.Url.ToString(), thumbnail?.Url.ToString(), srt?.Url.ToString(), duration, video?.ExpiresAt, sinks);
    }

    private static string? Text(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
