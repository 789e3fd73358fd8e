using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;
using Npgsql;

namespace FentaWeb.Runs;

/// <summary>
/// A finished job's result as the product's documentation shows it: the rendered video's, thumbnail's and subtitles'
/// signed, expiring download links and the video's duration, plus every sink node's output (<c>outputs</c>, the richer
/// view). Links are signed when the result is read, so a job read or a webhook delivered later still gets live ones.
/// </summary>
public sealed record JobResult(string? VideoUrl, string? ThumbnailUrl, string? SrtUrl, double? Duration, DateTimeOffset? ExpiresAt, JsonElement Outputs);

public sealed class JobResults(NpgsqlDataSource db, AssetBlobs blobs)
{
    private sealed record StoredFile(string StorageKey, string? ContentType, string? Filename);

    private sealed class Render
    {
        public double? Duration;
        public string? VideoId, ThumbnailId, SrtId;
        public Dictionary<string, StoredFile> Files { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>
    /// The documented result of a job whose stored result is <paramref name="outputs"/> (sink node id → output); null until
    /// it has one.
    /// </summary>
    public async Task<JobResult?> ForAsync(string orgId, string jobId, JsonElement? outputs, CancellationToken ct) =>
        (await ForAsync(orgId, [(jobId, outputs)], ct)).GetValueOrDefault(jobId);

    /// <summary>
    /// The documented results of an org's jobs (a page of a list), read in one query. The video is a job's first rendered
    /// one (its Output.Render node, item 0 of a fanned-out render), wherever it sits in the graph; its files must be the
    /// org's live assets. Jobs without a stored result are left out.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, JobResult>> ForAsync(string orgId, IReadOnlyList<(string JobId, JsonElement? Outputs)> jobs,
        CancellationToken ct)
    {
        var finished = jobs.Where(j => j.Outputs is { ValueKind: JsonValueKind.Object }).ToDictionary(j => j.JobId, j => j.Outputs!.Value, StringComparer.Ordinal);
        if (finished.Count == 0) return new Dictionary<string, JobResult>();
        var renders = await RendersAsync(orgId, [.. finished.Keys], ct);
        var lifetime = blobs.Options.DownloadLinkLifetime;
        var results = new Dictionary<string, JobResult>(finished.Count, StringComparer.Ordinal);
        foreach (var (jobId, outputs) in finished)
        {
            var render = renders.GetValueOrDefault(jobId);
            async Task<SignedLink?> Link(string? id) => render is not null && id is not null && render.Files.TryGetValue(id, out var file)
                ? await blobs.ReadLinkAsync(file.StorageKey, lifetime, file.ContentType, file.Filename, ct) : null;
            var (video, thumbnail, srt) = (await Link(render?.VideoId), await Link(render?.ThumbnailId), await Link(render?.SrtId));
            results[jobId] = new JobResult(video?.Url.ToString(), thumbnail?.Url.ToString(), srt?.Url.ToString(), render?.Duration, video?.ExpiresAt, outputs);
        }
        return results;
    }

    private async Task<Dictionary<string, Render>> RendersAsync(string orgId, string[] jobIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH render AS (
              SELECT DISTINCT ON (job_id) job_id, output FROM node_runs
              WHERE job_id = ANY($1) AND node_type = 'Output.Render' AND status = 'succeeded' AND item_index >= 0
              ORDER BY job_id, node_id, item_index)
            SELECT r.job_id, r.output->>'duration_seconds', r.output->>'video_asset_id', r.output->>'thumbnail_asset_id', r.output->>'srt_asset_id',
                   a.id, a.storage_key, a.content_type, a.filename
            FROM render r LEFT JOIN assets a
              ON a.org_id = $2 AND a.deleted_at IS NULL AND a.status = 'ready'
             AND a.id IN (r.output->>'video_asset_id', r.output->>'thumbnail_asset_id', r.output->>'srt_asset_id')
            """);
        cmd.Parameters.Add(new() { Value = jobIds });
        cmd.Parameters.Add(new() { Value = orgId });
        var renders = new Dictionary<string, Render>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (!renders.TryGetValue(reader.GetString(0), out var render))
            {
                renders[reader.GetString(0)] = render = new Render
                {
                    Duration = reader.IsDBNull(1) ? null : double.Parse(reader.GetString(1), System.Globalization.CultureInfo.InvariantCulture),
                    VideoId = Text(reader, 2), ThumbnailId = Text(reader, 3), SrtId = Text(reader, 4),
                };
            }
            if (!reader.IsDBNull(5)) render.Files[reader.GetString(5)] = new StoredFile(reader.GetString(6), Text(reader, 7), Text(reader, 8));
        }
        return renders;
    }

    private static string? Text(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
