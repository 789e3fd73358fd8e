using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs;

/// <summary>A node item's row as an execution finds it: status, a recorded external id, and the fan-out element it works on.</summary>
public sealed record NodeRow(string Status, string? ExternalRef, JsonElement? Input);

/// <summary>
/// The product's view of a run in PostgreSQL (jobs, node_runs, job_logs), kept current by the run's activities. Every
/// write is idempotent and none moves a row out of a terminal state, because activities run at least once and a
/// stale execution must not undo what a later one (or a cancel) decided. All times are the database's.
/// </summary>
/// <summary>What a job's spans and metrics need of it: the trace it is in and its workflow.</summary>
public sealed record JobTrace(string? TraceParent, string? WorkflowId);

public static class RunStore
{
    private const string Open = "status IN ('pending', 'running', 'waiting')";
    private const string Active = "status IN ('queued', 'processing')";
    // Recording how an execution ended gives up its claim on the item (see ClaimAsync).
    private const string Released = "claimed_by = NULL, claimed_until = NULL";

    /// <summary>The job's config and its trace (see <see cref="TraceAsync"/>) in one read; a null config: no such job.</summary>
    public static async Task<(JobConfig? Config, JobTrace Trace)> ConfigAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT config, trace_parent, workflow_id FROM jobs WHERE id = $1", jobId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return (null, new JobTrace(null, null));
        return (JsonSerializer.Deserialize<JobConfig>(reader.GetString(0), FentaJson.Options),
            new JobTrace(reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
    }

    /// <summary>The job's stored trace context (null on jobs from before it was stored) and workflow (its workflow tag); null: no such job.</summary>
    public static async Task<JobTrace?> TraceAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT trace_parent, workflow_id FROM jobs WHERE id = $1", jobId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new JobTrace(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : null;
    }

    /// <summary>A queued job becomes processing; returns its status afterwards (null: no such job).</summary>
    public static async Task<JobStatus?> MarkProcessingAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, """
            WITH started AS (UPDATE jobs SET status = 'processing', started_at = now(), updated_at = now() WHERE id = $1 AND status = 'queued' RETURNING status)
            SELECT COALESCE((SELECT status FROM started), (SELECT status FROM jobs WHERE id = $1))
            """, jobId);
        return await cmd.ExecuteScalarAsync(ct) is string status ? JobStatuses.Parse(status) : null;
    }

    /// <summary>Node ids whose whole-node row already succeeded (reused outputs, triggers, or a finished execution).</summary>
    public static async Task<HashSet<string>> SucceededNodesAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT node_id FROM node_runs WHERE job_id = $1 AND item_index <= 0 AND status = 'succeeded'", jobId);
        var done = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) done.Add(reader.GetString(0));
        return done;
    }

    /// <summary>
    /// An execution begins: the item is running at this attempt. Returns the row as it was before (null when there is
    /// no row); a terminal status means this execution is a duplicate and must not run.
    /// </summary>
    public static async Task<NodeRow?> StartNodeAsync(NpgsqlDataSource db, NodeCall call, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            WITH before AS (SELECT status, external_ref, input FROM node_runs WHERE job_id = $1 AND node_id = $2 AND item_index = $3),
            started AS (
              UPDATE node_runs SET status = 'running', attempt = GREATEST(attempt, $4), started_at = COALESCE(started_at, now()), updated_at = now()
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND {Open})
            SELECT status, external_ref, input FROM before
            """, call.JobId, call.NodeId, call.Item, call.Attempt);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return new NodeRow(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.IsDBNull(2) ? null : Json(reader.GetString(2)));
    }

    /// <summary>
    /// This execution (<paramref name="claim"/>) takes the open item for <paramref name="lease"/>, unless another live
    /// execution holds it: false then, and the caller waits for that one rather than run the node twice.
    /// </summary>
    public static async Task<bool> ClaimAsync(NpgsqlDataSource db, NodeCall call, Guid claim, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            UPDATE node_runs SET claimed_by = $4, claimed_until = now() + make_interval(secs => $5)
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND {Open}
              AND (claimed_by IS NULL OR claimed_by = $4 OR claimed_until < now())
            """, call.JobId, call.NodeId, call.Item, claim, lease.TotalSeconds);
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>The execution holding <paramref name="claim"/> is still at work: its claim lasts another <paramref name="lease"/>.</summary>
    public static async Task RenewClaimAsync(NpgsqlDataSource db, NodeCall call, Guid claim, TimeSpan lease, CancellationToken ct)
    {
        await using var cmd = Command(db, """
            UPDATE node_runs SET claimed_until = now() + make_interval(secs => $5)
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND claimed_by = $4
            """, call.JobId, call.NodeId, call.Item, claim, lease.TotalSeconds);
        await cmd.ExecuteNonQueryAsync(ct);
    }


    /// <summary>The job an execution belongs to: its org and status now.</summary>
    public static async Task<(string OrgId, JobStatus Status)?> JobAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT org_id, status FROM jobs WHERE id = $1", jobId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), JobStatuses.Parse(reader.GetString(1))) : null;
    }

    /// <summary>
    /// Records a success; a whole node (not an item of a fanned-out node) counts towards the job's progress. Only the
    /// first success of a row counts. (Costs move with the usage records, <see cref="Billing.Metering"/>.)
    /// </summary>
    public static async Task SucceedAsync(NpgsqlDataSource db, string jobId, string nodeId, int item, JsonElement output,
        bool wholeNode, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            WITH done AS (
              UPDATE node_runs SET status = 'succeeded', output = $4, error = NULL, completed_at = now(), updated_at = now(), {Released}
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND {Open}
              RETURNING 1)
            UPDATE jobs SET nodes_done = nodes_done + CASE WHEN $5 THEN 1 ELSE 0 END,
                            progress = CASE WHEN $5 THEN GREATEST(progress, LEAST(99, (nodes_done + 1) * 100 / node_count)) ELSE progress END,
                            updated_at = now()
            WHERE id = $1 AND {Active} AND EXISTS (SELECT 1 FROM done)
            """, jobId, nodeId, item, Jsonb(output.GetRawText()), wholeNode);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>An attempt failed and another follows after <paramref name="delay"/>: the item waits, and the log says so once.</summary>
    public static async Task RetryingAsync(NpgsqlDataSource db, NodeCall call, string code, string message, TimeSpan delay, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            WITH waiting AS (
              UPDATE node_runs SET status = 'pending', error = jsonb_build_object('code', $5::text, 'message', $6::text, 'attempt', $4), updated_at = now(), {Released}
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND attempt = $4 AND status = 'running'
              RETURNING 1)
            INSERT INTO job_logs (job_id, level, stage, message, data)
            SELECT $1, 'warn', $2, $7, jsonb_build_object('item_index', $3, 'code', $5::text) FROM waiting
            """, call.JobId, call.NodeId, call.Item, call.Attempt, code, message,
            $"{call.NodeId} attempt {call.Attempt} failed ({code}: {message}); retrying in {delay.TotalSeconds:0.#} s");
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Not done and not failed: waiting for something outside (a rate limit, a generation).</summary>
    public static async Task WaitingAsync(NpgsqlDataSource db, NodeCall call, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            UPDATE node_runs SET status = 'waiting', updated_at = now(), {Released} WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND {Open}
            """, call.JobId, call.NodeId, call.Item);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The item failed for good (and, for an item of a fanned-out node, the node with it).</summary>
    public static async Task FailNodeAsync(NpgsqlDataSource db, NodeCall call, string code, string message, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            UPDATE node_runs SET status = 'failed', error = jsonb_build_object('code', $4::text, 'message', $5::text, 'attempt', $6),
                                 completed_at = now(), updated_at = now(), {Released}
            WHERE job_id = $1 AND node_id = $2 AND item_index IN ($3, -1) AND {Open}
            """, call.JobId, call.NodeId, call.Item, code, message, call.Attempt);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A fanned-out node learned its items: a row per item, and the node's own row (-1) running. Idempotent.</summary>
    public static async Task ExpandAsync(NpgsqlDataSource db, string jobId, string nodeId, string nodeType, IReadOnlyList<JsonElement> items, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            WITH items AS (
              INSERT INTO node_runs (job_id, node_id, item_index, node_type, status, input)
              SELECT $1, $2, u.item_index, $3, 'pending', u.input::jsonb FROM unnest($4::int[], $5::text[]) u(item_index, input)
              ON CONFLICT (job_id, node_id, item_index) DO NOTHING)
            UPDATE node_runs SET status = 'running', item_count = $6, started_at = COALESCE(started_at, now()), updated_at = now()
            WHERE job_id = $1 AND node_id = $2 AND item_index = -1 AND {Open}
            """, jobId, nodeId, nodeType, Enumerable.Range(0, items.Count).ToArray(), items.Select(i => i.GetRawText()).ToArray(), items.Count);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>The outputs of a fanned-out node's items, in item order.</summary>
    public static async Task<List<JsonElement>> ItemOutputsAsync(NpgsqlDataSource db, string jobId, string nodeId, CancellationToken ct)
    {
        await using var cmd = Command(db, "SELECT output FROM node_runs WHERE job_id = $1 AND node_id = $2 AND item_index >= 0 ORDER BY item_index", jobId, nodeId);
        var outputs = new List<JsonElement>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) outputs.Add(reader.IsDBNull(0) ? default : Json(reader.GetString(0)));
        return outputs;
    }

    /// <summary>Outputs of these nodes of a job (the rows that stand for whole nodes).</summary>
    public static async Task<Dictionary<string, JsonElement>> OutputsAsync(NpgsqlDataSource db, string jobId, string[] nodeIds, CancellationToken ct)
    {
        await using var cmd = Command(db, $"SELECT node_id, output FROM ({NodeRows}) n WHERE status = 'succeeded'", jobId, nodeIds);
        var outputs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) outputs[reader.GetString(0)] = reader.IsDBNull(1) ? default : Json(reader.GetString(1));
        return outputs;
    }

    /// <summary>
    /// The run ended: the job takes its final status (completed with its sinks' outputs as the result, or failed with
    /// the node's error), unless it already has one (a cancel), and its unfinished nodes are cancelled.
    /// </summary>
    /// <returns>Whether the job ended now (false: it had ended already, a cancel or an earlier execution of this).</returns>
    public static async Task<bool> FinishAsync(NpgsqlDataSource db, RunEnd end, string[] sinks, CancellationToken ct)
    {
        var (status, message) = end.Status switch
        {
            JobStatus.Completed => (JobStatus.Completed, "Job completed"),
            JobStatus.Failed => (JobStatus.Failed, $"Job failed: {end.NodeId} {end.Failure?.Code}: {end.Failure?.Message}"),
            _ => (JobStatus.Cancelled, "Job cancelled"),
        };
        await using var cmd = Command(db, $"""
            WITH finished AS (
              UPDATE jobs SET status = $2, completed_at = now(), updated_at = now(),
                     progress = CASE WHEN $2 = 'completed' THEN 100 ELSE progress END,
                     result = CASE WHEN $2 = 'completed'
                                   THEN (SELECT COALESCE(jsonb_object_agg(node_id, output), jsonb_build_object()) FROM ({NodeRows.Replace("$2", "$3")}) n) END,
                     error = CASE $2 WHEN 'failed' THEN jsonb_build_object('code', $4::text, 'message', $5::text, 'node_id', $6::text, 'item_index', $7::int)
                                     WHEN 'cancelled' THEN jsonb_build_object('code', 'CANCELLED', 'message', 'The job was cancelled.') END
              WHERE id = $1 AND {Active}
              RETURNING id),
            stopped AS (
              UPDATE node_runs SET status = 'cancelled', completed_at = now(), updated_at = now() WHERE job_id = $1 AND {Open}),
            refunded AS (
              -- what items still held (stopped mid-way by the end) no longer counts against the org's credits
              DELETE FROM spend_reservations WHERE job_id = $1 AND EXISTS (SELECT 1 FROM finished))
            INSERT INTO job_logs (job_id, level, stage, message, data)
            SELECT id, CASE $2 WHEN 'completed' THEN 'info' WHEN 'failed' THEN 'error' ELSE 'warn' END, 'job', $8,
                   CASE WHEN $2 = 'failed' THEN jsonb_build_object('item_index', $7::int) END
            FROM finished
            """, end.JobId, status.ToWire(), sinks, Nullable(end.Failure?.Code), Nullable(end.Failure?.Message), Nullable(end.NodeId),
            end.Failure?.Item ?? 0, message);
        return await cmd.ExecuteNonQueryAsync(ct) > 0;
    }

    /// <summary>
    /// Cancels a job for its org: it stops counting as active at once, and its waiting nodes are cancelled; the run
    /// itself hears of it by event. Returns the job's status afterwards and whether this call cancelled it (false: it
    /// had ended, or was cancelled before), or null when there is no such job.
    /// </summary>
    public static async Task<(JobStatus Status, bool CancelledNow)?> CancelAsync(NpgsqlDataSource db, string orgId, string jobId, CancellationToken ct)
    {
        await using var cmd = Command(db, $"""
            WITH cancelled AS (
              UPDATE jobs SET status = 'cancelled', completed_at = now(), updated_at = now(),
                              error = jsonb_build_object('code', 'CANCELLED', 'message', 'The job was cancelled.')
              WHERE id = $1 AND org_id = $2 AND (status = 'paused' OR {Active})
              RETURNING id),
            nodes AS (
              UPDATE node_runs SET status = 'cancelled', completed_at = now(), updated_at = now()
              WHERE job_id IN (SELECT id FROM cancelled) AND status IN ('pending', 'waiting')),
            refunded AS (DELETE FROM spend_reservations WHERE job_id IN (SELECT id FROM cancelled)),
            logged AS (INSERT INTO job_logs (job_id, level, stage, message) SELECT id, 'warn', 'job', 'Job cancelled' FROM cancelled)
            SELECT COALESCE((SELECT 'cancelled' FROM cancelled), (SELECT status FROM jobs WHERE id = $1 AND org_id = $2)), EXISTS (SELECT 1 FROM cancelled)
            """, jobId, orgId);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) && !reader.IsDBNull(0) ? (JobStatuses.Parse(reader.GetString(0)), reader.GetBoolean(1)) : null;
    }

    public static async Task LogAsync(NpgsqlDataSource db, string jobId, string level, string? stage, string message, object? data, CancellationToken ct)
    {
        await using var cmd = Command(db, "INSERT INTO job_logs (job_id, level, stage, message, data) VALUES ($1, $2, $3, $4, $5)",
            jobId, level, Nullable(stage), message, Jsonb(data is null ? null : JsonSerializer.Serialize(data, FentaJson.Options)));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Moves a running job's progress forward to cover a part of one node (never backwards, never to 100 before the end).</summary>
    public static async Task ReportNodeProgressAsync(NpgsqlDataSource db, string jobId, double fraction, CancellationToken ct)
    {
        await using var cmd = Command(db, """
            UPDATE jobs SET progress = GREATEST(progress, LEAST(99, floor((nodes_done + $2) * 100 / node_count)::int)), updated_at = now()
            WHERE id = $1 AND status = 'processing'
            """, jobId, fraction);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Stores an activity's external id (a side effect's), so that a repeated execution resumes instead of repeating it.</summary>
    public static async Task RecordExternalRefAsync(NpgsqlDataSource db, NodeCall call, string externalRef, CancellationToken ct)
    {
        await using var cmd = Command(db, "UPDATE node_runs SET external_ref = $4, updated_at = now() WHERE job_id = $1 AND node_id = $2 AND item_index = $3",
            call.JobId, call.NodeId, call.Item, externalRef);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes finished jobs (and, by cascade, their node runs and logs) older than the retention.</summary>
    public static async Task<int> PruneAsync(NpgsqlDataSource db, DateTimeOffset finishedBefore, CancellationToken ct)
    {
        // Finished webhook deliveries go with the same retention; usage records stay (they are what billing adds up).
        await using var cmd = Command(db, """
            WITH deliveries AS (DELETE FROM webhook_deliveries WHERE status <> 'pending' AND created_at < $1)
            DELETE FROM jobs WHERE completed_at < $1 AND status IN ('completed', 'failed', 'cancelled')
            """, finishedBefore);
        return await cmd.ExecuteNonQueryAsync(ct);
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

    private static NpgsqlParameter Jsonb(string? json) => new() { Value = (object?)json ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Jsonb };

    private static NpgsqlParameter Nullable(string? text) => new() { Value = (object?)text ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlCommand Command(NpgsqlDataSource db, string sql, params object[] args)
    {
        var cmd = db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(arg as NpgsqlParameter ?? new NpgsqlParameter { Value = arg });
        return cmd;
    }
}
