using System.Data;
using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Publishing;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Publishing;

/// <summary>One account to publish to, with the post as asked for.</summary>
public sealed record TargetRequest(string IntegrationId, PublishRequest Post);

/// <summary>A target as its publishing step needs it.</summary>
public sealed record TargetRow(
    string Id, string PublicationId, string OrgId, string? JobId, string IntegrationId, string Platform, PublishRequest Post, string Status,
    JsonObject Checkpoint, int Attempts, string AssetId, string PublicationStatus);

/// <summary>
/// Publications and their targets in PostgreSQL: filing one (a target per account, at most once per job and account),
/// the targets' progress as their steps report it, and the publication's end with its webhook event.
/// </summary>
public static class PublicationStore
{
    public static readonly IReadOnlySet<string> FinishedTargetStatuses = new HashSet<string>(["published", "failed", "cancelled"]);

    /// <summary>
    /// Files a publication of <paramref name="assetId"/> (the job's video). A target whose account already has this job's
    /// video, or is publishing it, is refused (409 ALREADY_PUBLISHED naming it); one that failed or was cancelled joins the
    /// new publication and carries on from its checkpoint. A workflow's Output.Publish node (<paramref name="nodeId"/>)
    /// files one publication: a second call finds the first's and changes nothing.
    /// </summary>
    public static async Task<string> FileAsync(NpgsqlDataSource db, string orgId, string? userId, string jobId, string? nodeId, string assetId,
        IReadOnlyList<TargetRequest> targets, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, ct);
        string publicationId;
        await using (var insert = new NpgsqlCommand("""
            WITH filed AS (
              INSERT INTO publications (id, org_id, job_id, node_id, asset_id, created_by)
              VALUES (fenta_id('pub'), $1, $2, $3, $4, coalesce($5, (SELECT created_by FROM jobs WHERE id = $2)))
              ON CONFLICT (job_id, node_id) WHERE node_id IS NOT NULL DO NOTHING RETURNING id)
            SELECT id, true FROM filed UNION ALL SELECT id, false FROM publications WHERE job_id = $2 AND node_id = $3
            """, connection, tx))
        {
            foreach (var value in new object?[] { orgId, jobId, nodeId, assetId, userId }) insert.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await using var reader = await insert.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            publicationId = reader.GetString(0);
            if (!reader.GetBoolean(1)) return publicationId; // filed already (a repeated activity)
        }
        for (var i = 0; i < targets.Count; i++)
        {
            await using var target = new NpgsqlCommand("""
                INSERT INTO publication_targets (id, publication_id, org_id, job_id, integration_id, platform, request)
                SELECT fenta_id('ptg'), $1, $2, $3, i.id, i.platform, $5 FROM integrations i WHERE i.id = $4 AND i.org_id = $2
                ON CONFLICT (job_id, integration_id) DO UPDATE
                  SET publication_id = EXCLUDED.publication_id, request = EXCLUDED.request, status = 'queued', phase = NULL, error = NULL,
                      attempts = 0, next_attempt_at = NULL, updated_at = now()
                  WHERE publication_targets.status IN ('failed', 'cancelled')
                RETURNING id
                """, connection, tx);
            foreach (var value in new object?[] { publicationId, orgId, jobId, targets[i].IntegrationId })
                target.Parameters.Add(new() { Value = value!, NpgsqlDbType = NpgsqlDbType.Text });
            target.Parameters.Add(new() { Value = JsonSerializer.Serialize(targets[i].Post, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
            if (await target.ExecuteScalarAsync(ct) is null)
            {
                await tx.RollbackAsync(ct);
                throw await ExistsAsync(db, orgId, jobId, targets[i].IntegrationId, $"targets[{i}].integration_id", ct);
            }
        }
        await tx.CommitAsync(ct);
        return publicationId;
    }

    private static async Task<FentaException> ExistsAsync(NpgsqlDataSource db, string orgId, string jobId, string integrationId, string field, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT t.status, t.url FROM publication_targets t WHERE t.job_id = $1 AND t.integration_id = $2 AND t.org_id = $3");
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = integrationId });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return new ValidationFailedException(field, $"no connected account '{integrationId}' exists in this organization");
        return new ConflictException("ALREADY_PUBLISHED", reader.GetString(0) == "published"
            ? $"{field}: this job's video is already published to that account ({(reader.IsDBNull(1) ? "" : reader.GetString(1))}); a video is posted to an account once."
            : $"{field}: this job's video is being published to that account already ({reader.GetString(0)}).");
    }

    /// <summary>The targets still to publish, and the publication marked publishing (unless it was cancelled meanwhile).</summary>
    public static async Task<IReadOnlyList<string>> StartAsync(NpgsqlDataSource db, string publicationId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH started AS (UPDATE publications SET status = 'publishing', updated_at = now() WHERE id = $1 AND status IN ('queued', 'publishing') RETURNING id)
            SELECT t.id FROM publication_targets t JOIN started s ON s.id = t.publication_id
            WHERE t.status NOT IN ('published', 'failed', 'cancelled') ORDER BY t.id
            """);
        cmd.Parameters.Add(new() { Value = publicationId });
        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids;
    }

    public static async Task<TargetRow?> TargetAsync(NpgsqlDataSource db, string targetId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT t.id, t.publication_id, t.org_id, t.job_id, t.integration_id, t.platform, t.request, t.status, t.checkpoint, t.attempts, p.asset_id, p.status
            FROM publication_targets t JOIN publications p ON p.id = t.publication_id WHERE t.id = $1
            """);
        cmd.Parameters.Add(new() { Value = targetId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new TargetRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4), reader.GetString(5),
            JsonSerializer.Deserialize<PublishRequest>(reader.GetString(6), FentaJson.Options)!, reader.GetString(7),
            JsonNode.Parse(reader.GetString(8)) as JsonObject ?? [], reader.GetInt32(9), reader.GetString(10), reader.GetString(11));
    }

    /// <summary>One execution at a time per target: taken when free, lapsed, or already this execution's.</summary>
    public static async Task<bool> ClaimAsync(NpgsqlDataSource db, string targetId, Guid claim, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE publication_targets SET claimed_by = $2, claimed_until = now() + $3
            WHERE id = $1 AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until < now())
            """);
        cmd.Parameters.Add(new() { Value = targetId });
        cmd.Parameters.Add(new() { Value = claim });
        cmd.Parameters.Add(new() { Value = lease });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    public static async Task ReleaseAsync(NpgsqlDataSource db, string targetId, Guid claim, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("UPDATE publication_targets SET claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2");
        cmd.Parameters.Add(new() { Value = targetId });
        cmd.Parameters.Add(new() { Value = claim });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The adapter's checkpoint, saved as soon as the platform acknowledged something.</summary>
    public static async Task SaveCheckpointAsync(NpgsqlDataSource db, string targetId, JsonObject checkpoint, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("UPDATE publication_targets SET checkpoint = $2, status = CASE WHEN status = 'queued' THEN 'uploading' ELSE status END, updated_at = now() WHERE id = $1");
        cmd.Parameters.Add(new() { Value = targetId });
        cmd.Parameters.Add(new() { Value = checkpoint.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Where a target stands now; a finished target is never moved again (a late duplicate changes nothing).</summary>
    public static async Task UpdateAsync(NpgsqlDataSource db, string targetId, string status, string? phase, object? error, DateTimeOffset? nextAttemptAt,
        int attempts, string? videoId, string? url, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE publication_targets SET status = $2, phase = $3, error = $4, next_attempt_at = $5, attempts = $6,
                   platform_video_id = coalesce($7, platform_video_id), url = coalesce($8, url),
                   published_at = CASE WHEN $2 = 'published' THEN coalesce(published_at, now()) ELSE published_at END, updated_at = now()
            WHERE id = $1 AND status NOT IN ('published', 'failed', 'cancelled')
            """);
        cmd.Parameters.Add(new() { Value = targetId });
        cmd.Parameters.Add(new() { Value = status });
        cmd.Parameters.Add(new() { Value = phase ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = error is null ? DBNull.Value : JsonSerializer.Serialize(error, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = nextAttemptAt?.ToUniversalTime() ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = attempts });
        cmd.Parameters.Add(new() { Value = videoId ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = url ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The publication's end from its targets' (all published: succeeded; none: failed; some: partially_failed; or
    /// cancelled), with <c>publication.succeeded</c> or <c>publication.failed</c> sent once, by the call that ended it.
    /// Returns the final status.
    /// </summary>
    public static async Task<string> FinishAsync(NpgsqlDataSource db, string publicationId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH counts AS (
              SELECT count(*) FILTER (WHERE status = 'published') AS published, count(*) FILTER (WHERE status = 'cancelled') AS cancelled, count(*) AS total
              FROM publication_targets WHERE publication_id = $1),
            ended AS (
              UPDATE publications p SET status = CASE WHEN p.status = 'cancelled' THEN 'cancelled'
                                                       WHEN c.published = c.total THEN 'succeeded'
                                                       WHEN c.cancelled = c.total THEN 'cancelled'
                                                       WHEN c.published = 0 THEN 'failed' ELSE 'partially_failed' END,
                                        finished_at = now(), updated_at = now()
              FROM counts c WHERE p.id = $1 AND p.finished_at IS NULL
              RETURNING p.id, p.org_id, p.job_id, p.status),
            emitted AS (
              SELECT webhook_emit(e.org_id, CASE WHEN e.status = 'succeeded' THEN 'publication.succeeded' ELSE 'publication.failed' END,
                       jsonb_build_object('publication', jsonb_build_object('id', e.id, 'job_id', e.job_id, 'status', e.status,
                         'url', '/v1/publications/' || e.id,
                         'targets', (SELECT jsonb_agg(jsonb_build_object('id', t.id, 'integration_id', t.integration_id, 'platform', t.platform,
                                       'status', t.status, 'platform_video_id', t.platform_video_id, 'url', t.url, 'error', t.error) ORDER BY t.id)
                                     FROM publication_targets t WHERE t.publication_id = e.id))))
              FROM ended e WHERE e.status <> 'cancelled')
            SELECT coalesce((SELECT status FROM ended), (SELECT status FROM publications WHERE id = $1)), (SELECT count(*) FROM emitted)
            """);
        cmd.Parameters.Add(new() { Value = publicationId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        return reader.GetString(0);
    }

    /// <summary>Stops a publication: its unfinished targets are cancelled (a post the platform already has stays). Null: not this org's (<paramref name="orgId"/> null: any org's).</summary>
    public static async Task<string?> CancelAsync(NpgsqlDataSource db, string? orgId, string publicationId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH pub AS (UPDATE publications SET status = 'cancelled', finished_at = now(), updated_at = now()
                         WHERE id = $1 AND ($2::text IS NULL OR org_id = $2) AND finished_at IS NULL RETURNING id),
            targets AS (UPDATE publication_targets SET status = 'cancelled', updated_at = now()
                        WHERE publication_id IN (SELECT id FROM pub) AND status NOT IN ('published', 'failed', 'cancelled'))
            SELECT coalesce((SELECT 'cancelled' FROM pub), (SELECT status FROM publications WHERE id = $1 AND ($2::text IS NULL OR org_id = $2)))
            """);
        cmd.Parameters.Add(new() { Value = publicationId });
        cmd.Parameters.Add(new() { Value = orgId ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        return await cmd.ExecuteScalarAsync(ct) as string;
    }
}
