using System.Text.Json;
using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Engine;

/// <summary>A task this worker holds the lease of, with what it needs to run.</summary>
public sealed record ClaimedTask(
    long TaskId,
    int TaskAttempts,
    string JobId,
    string OrgId,
    string JobStatus,
    string NodeId,
    int ItemIndex,
    string NodeType,
    int NodeAttempt,
    string NodeStatus,
    string? ExternalRef,
    JsonElement? Event,
    JsonElement? Input,
    DateTimeOffset ClaimedAt);

/// <summary>How a task ended, as the completer applies it.</summary>
public abstract record Completion(ClaimedTask Task)
{
    public sealed record Success(ClaimedTask Task, JsonElement Output, decimal CostUsd) : Completion(Task);
    /// <summary>Run again later; <paramref name="UsesAttempt"/> false for waits, true for retryable failures.</summary>
    public sealed record Reschedule(ClaimedTask Task, TimeSpan Delay, bool UsesAttempt, string? Code, string Message) : Completion(Task);
    public sealed record Failure(ClaimedTask Task, string Code, string Message) : Completion(Task);
    public sealed record Cancelled(ClaimedTask Task) : Completion(Task);
    /// <summary>The node already finished (a duplicate task): just drop the task.</summary>
    public sealed record Discard(ClaimedTask Task) : Completion(Task);
    /// <summary>A fanned-out node learned its items: one row and one task per item.</summary>
    public sealed record Expanded(ClaimedTask Task, IReadOnlyList<JsonElement> Items) : Completion(Task);
}

/// <summary>
/// Every SQL statement of the durable engine. All times come from the database clock (<c>now()</c>). A state change
/// and the work it causes (successor tasks, job completion, NOTIFY) commit in one transaction, and every write
/// that finishes a task is fenced on the lease (owner and attempt), so a worker that lost its lease changes nothing.
/// </summary>
public static class TaskStore
{
    public static async Task<List<ClaimedTask>> ClaimAsync(NpgsqlDataSource db, string queue, string owner, int limit, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH next AS (
              SELECT id FROM durable_tasks
              WHERE queue = $1 AND lease_owner IS NULL AND run_at <= now()
              ORDER BY priority, run_at, id
              LIMIT $2
              FOR UPDATE SKIP LOCKED),
            claimed AS (
              UPDATE durable_tasks t SET lease_owner = $3, lease_expires_at = now() + $4, attempts = t.attempts + 1
              FROM next WHERE t.id = next.id
              RETURNING t.id, t.attempts, t.job_id, t.node_id, t.item_index),
            started AS (
              UPDATE node_runs n
              SET status = 'running', attempt = n.attempt + 1, started_at = COALESCE(n.started_at, now()), updated_at = now()
              FROM claimed c
              WHERE n.job_id = c.job_id AND n.node_id = c.node_id AND n.item_index = c.item_index
                AND n.status IN ('pending', 'waiting', 'running')
              RETURNING n.job_id, n.node_id, n.item_index, n.attempt, n.status),
            processing AS (
              UPDATE jobs j SET status = 'processing', started_at = now(), updated_at = now()
              WHERE j.id IN (SELECT job_id FROM claimed) AND j.status = 'queued')
            SELECT c.id, c.attempts, c.job_id, j.org_id, j.status, c.node_id, c.item_index, n.node_type,
                   COALESCE(s.attempt, n.attempt), COALESCE(s.status, n.status), n.external_ref, n.event, n.input, now()
            FROM claimed c
            JOIN jobs j ON j.id = c.job_id
            JOIN node_runs n ON n.job_id = c.job_id AND n.node_id = c.node_id AND n.item_index = c.item_index
            LEFT JOIN started s ON s.job_id = c.job_id AND s.node_id = c.node_id AND s.item_index = c.item_index
            """);
        cmd.Parameters.Add(new() { Value = queue });
        cmd.Parameters.Add(new() { Value = limit });
        cmd.Parameters.Add(new() { Value = owner });
        cmd.Parameters.Add(new() { Value = lease });
        var tasks = new List<ClaimedTask>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            tasks.Add(new ClaimedTask(
                reader.GetInt64(0), reader.GetInt32(1), reader.GetString(2), reader.GetString(3),
                // The job row was read before this statement's own update to it: a queued job is now processing.
                reader.GetString(4) == "queued" ? "processing" : reader.GetString(4),
                reader.GetString(5), reader.GetInt32(6), reader.GetString(7), reader.GetInt32(8), reader.GetString(9),
                reader.IsDBNull(10) ? null : reader.GetString(10),
                reader.IsDBNull(11) ? null : Json(reader.GetString(11)),
                reader.IsDBNull(12) ? null : Json(reader.GetString(12)),
                reader.GetFieldValue<DateTimeOffset>(13)));
        }
        return tasks;
    }

    /// <summary>Extends the leases this worker still holds; returns the ids it holds (a missing id was lost).</summary>
    public static async Task<HashSet<long>> HeartbeatAsync(NpgsqlDataSource db, string owner, long[] taskIds, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            "UPDATE durable_tasks SET lease_expires_at = now() + $3 WHERE id = ANY($1) AND lease_owner = $2 RETURNING id");
        cmd.Parameters.Add(new() { Value = taskIds });
        cmd.Parameters.Add(new() { Value = owner });
        cmd.Parameters.Add(new() { Value = lease });
        var held = new HashSet<long>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) held.Add(reader.GetInt64(0));
        return held;
    }

    /// <summary>Of these jobs, the ones that ended (cancelled or failed) while their activities run.</summary>
    public static async Task<HashSet<string>> EndedJobsAsync(NpgsqlDataSource db, string[] jobIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id FROM jobs WHERE id = ANY($1) AND status IN ('cancelled', 'failed')");
        cmd.Parameters.Add(new() { Value = jobIds });
        var ended = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ended.Add(reader.GetString(0));
        return ended;
    }

    /// <summary>Returns tasks whose worker stopped heartbeating to the queue, after a backoff that grows with their attempts.</summary>
    public static async Task<int> RescueExpiredAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH rescued AS (
              UPDATE durable_tasks
              SET lease_owner = NULL, lease_expires_at = NULL,
                  run_at = now() + LEAST(interval '30 seconds', interval '250 milliseconds' * power(2, LEAST(attempts, 10)))
              WHERE id IN (SELECT id FROM durable_tasks WHERE lease_owner IS NOT NULL AND lease_expires_at < now()
                           FOR UPDATE SKIP LOCKED)
              RETURNING queue)
            SELECT count(*), (SELECT count(*) FROM (SELECT pg_notify($1, q) FROM (SELECT DISTINCT queue AS q FROM rescued) d) n) FROM rescued
            """);
        cmd.Parameters.Add(new() { Value = JobStarter.NotifyChannel });
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct));
    }

    /// <summary>Deletes finished jobs (and, by cascade, their node runs, tasks and logs) older than the retention.</summary>
    public static async Task<int> PruneAsync(NpgsqlDataSource db, TimeSpan retention, CancellationToken ct)
    {
        // Finished webhook deliveries go with the same retention; usage records stay (they are what billing adds up).
        await using var cmd = db.CreateCommand("""
            WITH deliveries AS (DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < now() - $1)
            DELETE FROM jobs WHERE completed_at < now() - $1 AND status IN ('completed', 'failed', 'cancelled')
            """);
        cmd.Parameters.Add(new() { Value = retention });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Outputs of these nodes of a job (the rows that stand for whole nodes).</summary>
    public static async Task<Dictionary<string, JsonElement>> OutputsAsync(NpgsqlDataSource db, string jobId, string[] nodeIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(
            $"SELECT node_id, output FROM ({NodeRows}) n WHERE status = 'succeeded'");
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = nodeIds });
        var outputs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            outputs[reader.GetString(0)] = reader.IsDBNull(1) ? default : Json(reader.GetString(1));
        return outputs;
    }

    public static async Task<JobConfig> ConfigAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT config FROM jobs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = jobId });
        return JsonSerializer.Deserialize<JobConfig>((string)(await cmd.ExecuteScalarAsync(ct))!, FentaJson.Options)!;
    }

    /// <summary>Moves a running job's progress forward to cover a part of one node (never backwards, never to 100 before the end).</summary>
    public static async Task ReportNodeProgressAsync(NpgsqlDataSource db, string jobId, double fraction, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE jobs SET progress = GREATEST(progress, LEAST(99, floor((nodes_done + $2) * 100 / node_count)::int)), updated_at = now()
            WHERE id = $1 AND status = 'processing'
            """);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = fraction });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stores an activity's external id, only while this worker still holds the task's lease.</summary>
    public static async Task RecordExternalRefAsync(NpgsqlDataSource db, ClaimedTask task, string owner, string externalRef, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE node_runs SET external_ref = $4, updated_at = now()
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3
              AND EXISTS (SELECT 1 FROM durable_tasks WHERE id = $5 AND lease_owner = $6 AND attempts = $7)
            """);
        cmd.Parameters.Add(new() { Value = task.JobId });
        cmd.Parameters.Add(new() { Value = task.NodeId });
        cmd.Parameters.Add(new() { Value = task.ItemIndex });
        cmd.Parameters.Add(new() { Value = externalRef });
        cmd.Parameters.Add(new() { Value = task.TaskId });
        cmd.Parameters.Add(new() { Value = owner });
        cmd.Parameters.Add(new() { Value = task.TaskAttempts });
        if (await cmd.ExecuteNonQueryAsync(ct) == 0)
            throw new LeaseLostException(task.TaskId);
    }

    /// <summary>
    /// An external event for a node (a provider callback, say): stores its payload and wakes the node's task now,
    /// if it is waiting. Returns false when no such node is waiting.
    /// </summary>
    public static async Task<bool> RaiseEventAsync(NpgsqlDataSource db, string jobId, string nodeId, int itemIndex, JsonElement payload, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            WITH node AS (
              UPDATE node_runs SET event = $4, event_at = clock_timestamp(), updated_at = now()
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND status IN ('pending', 'running', 'waiting')
              RETURNING job_id),
            woken AS (
              UPDATE durable_tasks SET run_at = now()
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND lease_owner IS NULL AND EXISTS (SELECT 1 FROM node)
              RETURNING queue)
            SELECT (SELECT count(*) FROM node), (SELECT count(*) FROM (SELECT pg_notify($5, queue) FROM woken) n)
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = nodeId });
        cmd.Parameters.Add(new() { Value = itemIndex });
        cmd.Parameters.Add(new() { Value = payload.GetRawText(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = JobStarter.NotifyChannel });
        var found = Convert.ToInt64(await cmd.ExecuteScalarAsync(ct)) > 0;
        await tx.CommitAsync(ct);
        return found;
    }

    /// <summary>
    /// Cancels a job: no new work is dispatched, queued tasks go, pending nodes are cancelled; running activities
    /// see it at their next heartbeat. Returns the job's status afterwards, or null when there is no such job.
    /// </summary>
    public static async Task<string?> CancelAsync(NpgsqlDataSource db, string orgId, string jobId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await using var cmd = new NpgsqlCommand("""
            UPDATE jobs SET status = 'cancelled', completed_at = now(), updated_at = now(),
                            error = jsonb_build_object('code', 'CANCELLED', 'message', 'The job was cancelled.')
            WHERE id = $1 AND org_id = $2 AND status IN ('queued', 'processing')
            RETURNING id
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = orgId });
        if (await cmd.ExecuteScalarAsync(ct) is not null)
        {
            await StopJobWorkAsync(conn, tx, jobId, ct);
            await LogAsync(conn, tx, jobId, "warn", "job", "Job cancelled", null, ct);
        }
        await using var status = new NpgsqlCommand("SELECT status FROM jobs WHERE id = $1 AND org_id = $2", conn, tx);
        status.Parameters.Add(new() { Value = jobId });
        status.Parameters.Add(new() { Value = orgId });
        var result = (string?)await status.ExecuteScalarAsync(ct);
        await tx.CommitAsync(ct);
        return result;
    }

    public static async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string jobId,
        IReadOnlyList<(string NodeId, int ItemIndex, string Queue)> tasks, CancellationToken ct)
    {
        if (tasks.Count == 0) return;
        await EnqueueManyAsync(conn, tx, tasks.Select(t => (jobId, t.NodeId, t.ItemIndex, t.Queue)).ToList(), ct);
    }

    public static async Task LogAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string jobId, string level, string? stage, string message,
        object? data, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO job_logs (job_id, level, stage, message, data) VALUES ($1, $2, $3, $4, $5)", conn, tx);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = level });
        cmd.Parameters.Add(new() { Value = (object?)stage ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = message });
        cmd.Parameters.Add(new()
        {
            Value = data is null ? DBNull.Value : JsonSerializer.Serialize(data, FentaJson.Options),
            NpgsqlDbType = NpgsqlDbType.Jsonb,
        });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Marks a job completed with its sinks' outputs as the result.</summary>
    public static async Task CompleteJobAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string jobId, JobPlan plan, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($$"""
            UPDATE jobs SET status = 'completed', progress = 100, completed_at = now(), updated_at = now(),
                   result = (SELECT COALESCE(jsonb_object_agg(node_id, output), '{}') FROM ({{NodeRows}}) n)
            WHERE id = $1 AND status IN ('queued', 'processing')
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = plan.Sinks.Select(n => n.Id).ToArray() });
        if (await cmd.ExecuteNonQueryAsync(ct) > 0) await LogAsync(conn, tx, jobId, "info", "job", "Job completed", null, ct);
    }

    internal static async Task EnqueueManyAsync(NpgsqlConnection conn, NpgsqlTransaction tx,
        IReadOnlyList<(string JobId, string NodeId, int ItemIndex, string Queue)> tasks, CancellationToken ct)
    {
        if (tasks.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            WITH added AS (
              INSERT INTO durable_tasks (queue, job_id, node_id, item_index)
              SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
              RETURNING queue)
            SELECT pg_notify($5, q) FROM (SELECT DISTINCT queue AS q FROM added) d
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = tasks.Select(t => t.Queue).ToArray() });
        cmd.Parameters.Add(new() { Value = tasks.Select(t => t.JobId).ToArray() });
        cmd.Parameters.Add(new() { Value = tasks.Select(t => t.NodeId).ToArray() });
        cmd.Parameters.Add(new() { Value = tasks.Select(t => t.ItemIndex).ToArray() });
        cmd.Parameters.Add(new() { Value = JobStarter.NotifyChannel });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>After a job ends early: drop its queued tasks and cancel its nodes that have not run.</summary>
    internal static async Task StopJobWorkAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string jobId, CancellationToken ct)
    {
        await using var batch = new NpgsqlBatch(conn, tx)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("DELETE FROM durable_tasks WHERE job_id = $1 AND lease_owner IS NULL") { Parameters = { new() { Value = jobId } } },
                new NpgsqlBatchCommand("""
                    UPDATE node_runs SET status = 'cancelled', completed_at = now(), updated_at = now()
                    WHERE job_id = $1 AND status IN ('pending', 'waiting')
                    """) { Parameters = { new() { Value = jobId } } },
            },
        };
        await batch.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The row standing for each whole node ($2) of job $1: a fanned-out node has rows -1 (the node) and 0..n-1
    /// (its items), an ordinary node only row 0, so the lowest index is the node.
    /// </summary>
    internal const string NodeRows = """
        SELECT DISTINCT ON (node_id) node_id, status, output FROM node_runs
        WHERE job_id = $1 AND node_id = ANY($2) AND item_index <= 0 ORDER BY node_id, item_index
        """;

    internal static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}

public sealed class LeaseLostException(long taskId) : Exception($"This worker no longer holds the lease of task {taskId}.");
