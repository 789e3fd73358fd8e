using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Sharing;

/// <summary>A share link as its owner sees it (the token is kept protected; see 0031_share_links.sql).</summary>
public sealed record ShareLink(string Id, string OrgId, string? JobId, string AssetId, string? PosterAssetId, string TokenProtected, string Title,
    string? PasswordHash, bool AllowDownload, long ViewCount, DateTimeOffset? ExpiresAt, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>Open: neither revoked nor past its expiry (nor is its video gone: see <see cref="SharedMedia.IsOpen"/>).</summary>
    public bool IsOpenAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>One stored file as the public page serves it.</summary>
public sealed record SharedFile(string StorageKey, string? ContentType, string? Filename, int? Width, int? Height, double? DurationSeconds);

/// <summary>What the public page needs: the link, its media file (null once the asset is deleted) and the poster, if any.</summary>
public sealed record SharedMedia(ShareLink Link, string MediaType, SharedFile? Media, SharedFile? Poster)
{
    public bool IsOpen(DateTimeOffset now) => Link.IsOpenAt(now) && Media is not null;
}

/// <summary>A new link's row.</summary>
public sealed record NewShareLink(string OrgId, string? JobId, string AssetId, string? PosterAssetId, string TokenHash, string TokenProtected, string Title,
    string? PasswordHash, bool AllowDownload, DateTimeOffset? ExpiresAt, string? CreatedBy);

/// <summary>
/// Share links in PostgreSQL: the owner's side (create, list, read, revoke: always within the org) and the public page's
/// (by token hash, and its view count).
/// </summary>
public static class ShareLinkStore
{
    private const string Columns = "l.id, l.org_id, l.job_id, l.asset_id, l.poster_asset_id, l.token_protected, l.title, l.password_hash, l.allow_download, " +
        "l.view_count, l.expires_at, l.created_at, l.revoked_at";

    public static async Task<ShareLink> CreateAsync(NpgsqlDataSource db, NewShareLink link, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            INSERT INTO share_links AS l (id, org_id, job_id, asset_id, poster_asset_id, token_hash, token_protected, title, password_hash, allow_download,
                                          expires_at, created_by)
            VALUES (fenta_id('shr'), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            RETURNING {Columns}
            """);
        foreach (var value in new object?[] { link.OrgId, link.JobId, link.AssetId, link.PosterAssetId, link.TokenHash, link.TokenProtected, link.Title, link.PasswordHash })
            cmd.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = link.AllowDownload });
        cmd.Parameters.Add(new() { Value = (object?)link.ExpiresAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)link.CreatedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return Read(reader);
    }

    /// <summary>What a job shares: its rendered video (the first Output.Render's, as JobResults reads it) and that render's thumbnail.</summary>
    public sealed record JobVideo(string Status, string? WorkflowName, string? VideoAssetId, string? ThumbnailAssetId);

    /// <summary>The org's job with its render, or null when the org has no such job.</summary>
    public static async Task<JobVideo?> JobVideoAsync(NpgsqlDataSource db, string orgId, string jobId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT j.status, w.name, v.id, t.id
            FROM jobs j
            LEFT JOIN workflows w ON w.id = j.workflow_id
            LEFT JOIN LATERAL (
              SELECT r.output FROM node_runs r
              WHERE r.job_id = j.id AND r.node_type = 'Output.Render' AND r.status = 'succeeded' AND r.item_index >= 0
              ORDER BY r.node_id, r.item_index LIMIT 1) render ON true
            LEFT JOIN assets v ON v.id = render.output->>'video_asset_id' AND v.org_id = j.org_id AND v.deleted_at IS NULL AND v.status = 'ready'
            LEFT JOIN assets t ON t.id = render.output->>'thumbnail_asset_id' AND t.org_id = j.org_id AND t.deleted_at IS NULL AND t.status = 'ready'
            WHERE j.id = $1 AND j.org_id = $2
            """);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new JobVideo(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetString(3))
            : null;
    }

    /// <summary>An asset to share: its kind and state, and its poster (an image is its own; a render's video has its thumbnail).</summary>
    public sealed record SharedAsset(string Type, string Status, string? Filename, string? JobId, string? PosterAssetId);

    /// <summary>The org's live asset, or null when the org has no such asset (or it was deleted).</summary>
    public static async Task<SharedAsset?> AssetAsync(NpgsqlDataSource db, string orgId, string assetId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT a.type, a.status, a.filename, a.job_id,
                   CASE WHEN a.type = 'image' THEN a.id ELSE (
                     SELECT t.id FROM node_runs r JOIN assets t ON t.id = r.output->>'thumbnail_asset_id' AND t.org_id = a.org_id
                                                             AND t.deleted_at IS NULL AND t.status = 'ready'
                     WHERE a.job_id IS NOT NULL AND r.job_id = a.job_id AND r.node_type = 'Output.Render' AND r.status = 'succeeded'
                       AND r.output->>'video_asset_id' = a.id
                     LIMIT 1) END
            FROM assets a WHERE a.id = $1 AND a.org_id = $2 AND a.deleted_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = assetId });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new SharedAsset(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4))
            : null;
    }

    /// <summary>The org's link; another org's is not there.</summary>
    public static async Task<ShareLink?> FindAsync(NpgsqlDataSource db, string orgId, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM share_links l WHERE l.id = $1 AND l.org_id = $2");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Newest first, up to <paramref name="limit"/> links with ids below <paramref name="before"/>; optionally of one job or asset.</summary>
    public static async Task<List<ShareLink>> ListAsync(NpgsqlDataSource db, string orgId, string? jobId, string? assetId, string? before, int limit,
        CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns} FROM share_links l
            WHERE l.org_id = $1 AND ($2::text IS NULL OR l.job_id = $2) AND ($3::text IS NULL OR l.asset_id = $3) AND ($4::text IS NULL OR l.id < $4)
            ORDER BY l.id DESC LIMIT $5
            """);
        foreach (var value in new object?[] { orgId, jobId, assetId, before })
            cmd.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit });
        var links = new List<ShareLink>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) links.Add(Read(reader));
        return links;
    }

    /// <summary>Revokes the org's link (a revoked one keeps its first revocation time); null when the org has no such link.</summary>
    public static async Task<(ShareLink Link, bool Revoked)?> RevokeAsync(NpgsqlDataSource db, string orgId, string id, DateTimeOffset now, CancellationToken ct)
    {
        // The old value tells whether this call revoked it, so only the first revocation is audited.
        await using var cmd = db.CreateCommand($"""
            UPDATE share_links l SET revoked_at = coalesce(l.revoked_at, $3)
            FROM share_links old WHERE l.id = $1 AND l.org_id = $2 AND old.id = l.id
            RETURNING {Columns}, old.revoked_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = now });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (Read(reader), reader.GetBoolean(13)) : null;
    }

    /// <summary>The link a public page's token names (by the token's hash), with its media; null for no such token.</summary>
    public static async Task<SharedMedia?> ByTokenHashAsync(NpgsqlDataSource db, string tokenHash, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"""
            SELECT {Columns}, a.type,
                   m.storage_key, m.content_type, m.filename, m.width, m.height, m.duration_seconds,
                   p.storage_key, p.content_type, p.filename, p.width, p.height, p.duration_seconds
            FROM share_links l
            JOIN assets a ON a.id = l.asset_id
            LEFT JOIN assets m ON m.id = l.asset_id AND m.deleted_at IS NULL AND m.status = 'ready'
            LEFT JOIN assets p ON p.id = l.poster_asset_id AND p.deleted_at IS NULL AND p.status = 'ready'
            WHERE l.token_hash = $1
            """);
        cmd.Parameters.Add(new() { Value = tokenHash });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new SharedMedia(Read(reader), reader.GetString(13), File(reader, 14), File(reader, 20));
    }

    /// <summary>
    /// Counts one view of an open link, atomically (concurrent views all count; a view racing a revoke or the expiry does
    /// not); the new count, or null when the link is no longer open.
    /// </summary>
    public static async Task<long?> CountViewAsync(NpgsqlDataSource db, string id, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE share_links SET view_count = view_count + 1
            WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
            RETURNING view_count
            """);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = now });
        return await cmd.ExecuteScalarAsync(ct) is long count ? count : null;
    }

    private static ShareLink Read(DbDataReader r) => new(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetString(3),
        r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.GetBoolean(8), r.GetInt64(9),
        r.IsDBNull(10) ? null : r.GetFieldValue<DateTimeOffset>(10), r.GetFieldValue<DateTimeOffset>(11), r.IsDBNull(12) ? null : r.GetFieldValue<DateTimeOffset>(12));

    private static SharedFile? File(DbDataReader r, int at) => r.IsDBNull(at) ? null : new SharedFile(r.GetString(at),
        r.IsDBNull(at + 1) ? null : r.GetString(at + 1), r.IsDBNull(at + 2) ? null : r.GetString(at + 2),
        r.IsDBNull(at + 3) ? null : r.GetInt32(at + 3), r.IsDBNull(at + 4) ? null : r.GetInt32(at + 4),
        r.IsDBNull(at + 5) ? null : (double)r.GetDecimal(at + 5));
}
