using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs;

/// <summary>
/// What to run: a validated graph for an org, optionally from a workflow, a retry of a job, or keyed for idempotency.
/// <paramref name="CountsAsWorkflowRun"/>: a run of the workflow in <see cref="JobConfig.WorkflowId"/> (run now or on its
/// schedule; a retry is not), counted on the workflow when the job is created.
/// </summary>
public sealed record JobRequest(
    string OrgId,
    string? CreatedBy,
    JobConfig Config,
    string? IdempotencyKey = null,
    string? ParentJobId = null,
    Budget? Budget = null,
    bool CountsAsWorkflowRun = false,
    JobOrigin? Origin = null);

/// <summary>
/// Starts jobs: the job row and a node_runs row per node in one transaction (a retry copies the parent's succeeded
/// outputs, so only the rest runs again), then the job's <c>JobRun</c> orchestration with the job id as its
/// instance id. The unique (org, Idempotency-Key) row is the guard against a second start: the Functions host may
/// restart a finished instance id, so the instance id alone is not. Over a periodic allowance of the free tier the job
/// is stored paused, unstarted, until the allowance resets (<c>PausedJobs</c> starts it then). A run with a budget its
/// estimate passes is refused before anything is stored.
/// <para>
/// A new job is stored with its run owed: <c>resume_at</c> is <see cref="RunOwedAfter"/> ahead, and cleared once the run
/// is scheduled. Where <see cref="RunStarts"/> is registered (the API), the run is scheduled after the request has its
/// answer: scheduling is three calls to the task hub's storage, and under 50 concurrent clients on two cores those
/// queued behind everything else Azurite served (its one thread shared with the workers' polls and histories), so job
/// creation waited 1.2-4 s for them while reads took tens of milliseconds (bench/README.md). A host that dies, or a
/// storage that fails, before the schedule is confirmed leaves a queued job whose run is owed by then; the
/// orchestrations app's <c>PausedJobs</c> timer schedules it (unless it exists) within a minute after that.
/// </para>
/// </summary>
public sealed partial class JobStarter(NpgsqlDataSource dataSource, TimeProvider clock, PaidProviders providers, ILogger<JobStarter> logger, RunStarts? background = null)
{
    /// <summary>How long a new job's run may take to be scheduled before <c>PausedJobs</c> schedules it instead.</summary>
    public static readonly TimeSpan RunOwedAfter = TimeSpan.FromMinutes(1);

    /// <summary>What a run of <paramref name="graph"/> (variables applied) is expected to use, priced at the org's plan.</summary>
    public async Task<CostEstimate> EstimateAsync(string orgId, WorkflowGraph graph, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("SELECT plan FROM orgs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = orgId });
        return Estimates.For(graph, Plan.For((string?)await cmd.ExecuteScalarAsync(ct)), providers);
    }

    private sealed record Pause(string Reason, DateTimeOffset ResumeAt);

    /// <summary>The earlier job of this Idempotency-Key. Unstarted: paused, or its run still in the hands of whoever is scheduling it (owed later than now).</summary>
    private async Task<(string JobId, bool Unstarted)?> ExistingAsync(NpgsqlConnection conn, JobRequest request, CancellationToken ct)
    {
        await using var existing = new NpgsqlCommand("""
            SELECT id, status = 'paused' OR (status = 'queued' AND COALESCE(resume_at > $3, false)) FROM jobs WHERE org_id = $1 AND idempotency_key = $2
            """, conn);
        existing.Parameters.Add(new() { Value = request.OrgId });
        existing.Parameters.Add(new() { Value = request.IdempotencyKey! });
        existing.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await using var reader = await existing.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (reader.GetString(0), reader.GetBoolean(1)) : null;
    }

    /// <summary>Null when the org may start work now; a pause when a monthly allowance of its plan is used up. Full storage is refused (it does not reset).</summary>
    private async Task<Pause?> PauseAsync(string orgId, CancellationToken ct)
    {
        try
        {
            await Metering.EnsureWithinQuotaAsync(dataSource, orgId, clock.GetUtcNow(), ct);
            return null;
        }
        catch (QuotaExceededException e) when (e.Line.Resource != UsageResources.StorageBytes)
        {
            return new Pause(e.Message, e.ResetsAt);
        }
    }

    /// <summary>
    /// Returns the job id and whether it was created now (false: the idempotency key matched an earlier job). The client is the
    /// caller's: on Azure each function gets its own from its <c>[DurableClient]</c> binding.
    /// </summary>
    public async Task<(string JobId, bool Created)> StartAsync(DurableTaskClient runs, JobRequest request, CancellationToken ct = default)
    {
        // The job's trace: this span's, a child of the request's (or a root), stored with the job for every later span.
        using var span = Telemetry.Source.StartActivity("job.create");
        var traceParent = Telemetry.NewJobTraceParent();
        var plan = CompiledGraph.Compile(request.Config.Graph);
        var (jobId, created, unstarted) = await InsertAsync(request, plan, traceParent, ct);
        span?.SetTag("fenta.job_id", jobId);
        if (created) Telemetry.JobsStarted.Add(1, Telemetry.JobTags(request.Config.WorkflowId, plan));
        // A paused job has no run until its allowance resets. A replay finds the run scheduled or still being scheduled,
        // unless the process that inserted the job died before scheduling it and its run is overdue.
        if (created && !unstarted && background is not null)
            background.Add(() => ScheduleAfterAnswerAsync(runs, jobId, traceParent));
        else if (created ? !unstarted : !unstarted && await runs.GetInstanceAsync(jobId, getInputsAndOutputs: false, ct) is null)
            await ScheduleAsync(runs, jobId, created ? traceParent : null, ct);
        return (jobId, created);
    }

    /// <summary>Schedules the job's run and clears its owed mark (unless it is paused: a pause owns the mark).</summary>
    private async Task ScheduleAsync(DurableTaskClient runs, string jobId, string? traceParent, CancellationToken ct)
    {
        // In the job's trace: Durable Task's client passes the current span on to the orchestration it creates.
        using var span = Telemetry.StartJobSpan("job schedule", traceParent, jobId, System.Diagnostics.ActivityKind.Producer);
        await runs.ScheduleNewOrchestrationInstanceAsync(RunNames.JobRun, jobId, new StartOrchestrationOptions(InstanceId: jobId), ct);
        await using var scheduled = dataSource.CreateCommand("UPDATE jobs SET resume_at = NULL WHERE id = $1 AND status <> 'paused'");
        scheduled.Parameters.Add(new() { Value = jobId });
        await scheduled.ExecuteNonQueryAsync(ct);
    }

    private async Task ScheduleAfterAnswerAsync(DurableTaskClient runs, string jobId, string traceParent)
    {
        try
        {
            await ScheduleAsync(runs, jobId, traceParent, CancellationToken.None);
        }
        catch (Exception e)
        {
            LogScheduleFailed(logger, e, jobId, RunOwedAfter.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 1401, Level = LogLevel.Warning,
        Message = "The run of job {JobId} could not be scheduled now; PausedJobs schedules it when it is {Seconds} s overdue")]
    private static partial void LogScheduleFailed(ILogger logger, Exception exception, string jobId, double seconds);

    private async Task<(string JobId, bool Created, bool Unstarted)> InsertAsync(JobRequest request, CompiledGraph plan, string traceParent, CancellationToken ct)
    {
        if (request.CountsAsWorkflowRun && request.Config.WorkflowId is null)
            throw new ArgumentException("Only a job from a workflow counts as a run of one.", nameof(request));
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        // A replayed request gets its job back even when the plan's allowance has run out since.
        if (request.IdempotencyKey is not null && await ExistingAsync(conn, request, ct) is { } earlier) return (earlier.JobId, false, earlier.Unstarted);
        if (request.Budget is { } budget && await EstimateAsync(request.OrgId, request.Config.Graph, ct) is var estimate
            && budget.Refusal(estimate.Total.Tokens, estimate.Total.CostUsd) is { } refusal)
            throw new BudgetExceededException(refusal, estimate);
        var pause = await PauseAsync(request.OrgId, ct);
        await using var tx = await conn.BeginTransactionAsync(ct);

        var reused = request.ParentJobId is null ? [] : await ReusableOutputsAsync(conn, request.ParentJobId, plan, ct);
        var jobId = Ids.New("job");
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO jobs (id, org_id, workflow_id, workflow_version, config, node_count, nodes_done, parent_job_id, retry_count,
                              idempotency_key, created_by, status, paused_reason, resume_at, budget, trace_parent, request)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8,
                    COALESCE((SELECT retry_count + 1 FROM jobs WHERE id = $8), 0), $9, $10, CASE WHEN $11::text IS NULL THEN 'queued' ELSE 'paused' END, $11, $12, $13, $14, $15)
            ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING id
            """, conn, tx))
        {
            insert.Parameters.Add(new() { Value = jobId });
            insert.Parameters.Add(new() { Value = request.OrgId });
            insert.Parameters.Add(new() { Value = (object?)request.Config.WorkflowId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)request.Config.WorkflowVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            insert.Parameters.Add(new() { Value = JsonSerializer.Serialize(request.Config, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = plan.Nodes.Count });
            insert.Parameters.Add(new() { Value = reused.Count + plan.Nodes.Values.Count(n => n.Definition.Trigger && !reused.ContainsKey(n.Id)) });
            insert.Parameters.Add(new() { Value = (object?)request.ParentJobId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)request.IdempotencyKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)request.CreatedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)pause?.Reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            // Paused: when the allowance resets. Queued: when its run is owed, unless scheduled by then (cleared then).
            insert.Parameters.Add(new() { Value = pause?.ResumeAt ?? clock.GetUtcNow() + RunOwedAfter, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new()
            {
                Value = request.Budget is null ? DBNull.Value : JsonSerializer.Serialize(request.Budget, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb,
            });
            insert.Parameters.Add(new() { Value = traceParent });
            insert.Parameters.Add(new()
            {
                Value = request.Origin is null ? DBNull.Value : JsonSerializer.Serialize(request.Origin, FentaJson.Options), NpgsqlDbType = NpgsqlDbType.Jsonb,
            });
            if (await insert.ExecuteScalarAsync(ct) is null)
            {
                await tx.RollbackAsync(ct);
                var existing = (await ExistingAsync(conn, request, ct))!.Value;
                return (existing.JobId, false, existing.Unstarted);
            }
        }

        // Counted with the job, in its transaction: a run is counted once it exists, and a replay of its
        // Idempotency-Key (answered above, or rolled back by the insert's conflict) is not counted again.
        if (request.CountsAsWorkflowRun)
        {
            await using var counted = new NpgsqlCommand("UPDATE workflows SET run_count = run_count + 1, last_run_at = $2 WHERE id = $1", conn, tx);
            counted.Parameters.Add(new() { Value = request.Config.WorkflowId! });
            counted.Parameters.Add(new() { Value = clock.GetUtcNow() });
            await counted.ExecuteNonQueryAsync(ct);
        }

        var rows = plan.Order.Select(id => plan.Nodes[id]).Select(node =>
        {
            var done = reused.TryGetValue(node.Id, out var output) || node.Definition.Trigger;
            if (node.Definition.Trigger && !reused.ContainsKey(node.Id)) output = JsonDocument.Parse("null").RootElement;
            return (node, done, output);
        }).ToList();

        await using (var nodes = new NpgsqlCommand("""
            INSERT INTO node_runs (job_id, node_id, item_index, node_type, status, output, reused, completed_at)
            SELECT $1, r.node_id, r.item_index, r.node_type, r.status, r.output::jsonb, r.reused,
                   CASE WHEN r.status = 'succeeded' THEN now() END
            FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bool[])
                 AS r(node_id, item_index, node_type, status, output, reused)
            """, conn, tx))
        {
            nodes.Parameters.Add(new() { Value = jobId });
            nodes.Parameters.Add(new() { Value = rows.Select(r => r.node.Id).ToArray() });
            nodes.Parameters.Add(new() { Value = rows.Select(r => r.node.NodeItem).ToArray() });
            nodes.Parameters.Add(new() { Value = rows.Select(r => r.node.Definition.Type).ToArray() });
            nodes.Parameters.Add(new() { Value = rows.Select(r => r.done ? "succeeded" : "pending").ToArray() });
            nodes.Parameters.Add(new() { Value = rows.Select(r => r.done ? r.output.GetRawText() : null).ToArray() });
            nodes.Parameters.Add(new() { Value = rows.Select(r => reused.ContainsKey(r.node.Id)).ToArray() });
            await nodes.ExecuteNonQueryAsync(ct);
        }

        // Its trace id in its first log line: support finds the job's spans and logs by it.
        await using (var log = new NpgsqlCommand("INSERT INTO job_logs (job_id, level, stage, message, data) VALUES ($1, 'info', 'job', $2, jsonb_build_object('trace_id', $3::text))", conn, tx))
        {
            log.Parameters.Add(new() { Value = jobId });
            log.Parameters.Add(new()
            {
                Value = (request.ParentJobId is null ? $"Job queued: {plan.Nodes.Count} nodes" : $"Retry of {request.ParentJobId} queued: {reused.Count} of {plan.Nodes.Count} nodes reused")
                    + (pause is null ? "" : $"; paused until {pause.ResumeAt:yyyy-MM-dd HH:mm} UTC: {pause.Reason}"),
            });
            log.Parameters.Add(new() { Value = Telemetry.TraceIdOf(traceParent)! });
            await log.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return (jobId, true, pause is not null);
    }

    /// <summary>Outputs of the parent job's nodes that succeeded, by node id.</summary>
    private static async Task<Dictionary<string, JsonElement>> ReusableOutputsAsync(NpgsqlConnection conn, string parentJobId, CompiledGraph plan, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT node_id, output FROM ({RunStore.NodeRows}) n WHERE status = 'succeeded'", conn);
        cmd.Parameters.Add(new() { Value = parentJobId });
        cmd.Parameters.Add(new() { Value = plan.Nodes.Keys.ToArray() });
        var outputs = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var nodeId = reader.GetString(0);
            if (plan.Nodes.ContainsKey(nodeId) && !reader.IsDBNull(1))
                outputs[nodeId] = JsonDocument.Parse(reader.GetString(1)).RootElement.Clone();
        }
        return outputs;
    }
}
