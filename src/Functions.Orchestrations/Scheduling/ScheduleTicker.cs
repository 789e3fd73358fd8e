using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scheduling;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Scheduling;

/// <summary>
/// Every minute, starts the runs of due schedules. Due rows are locked with SKIP LOCKED, so any number of hosts tick
/// without starting a slot twice; each run's idempotency key names the schedule and its slot (a unique row per org and
/// key), so a host dying after the job started but before the schedule moved on finds that same job on the next tick
/// instead of starting another. Slots missed while nothing ran are not made up: the schedule moves to its first slot
/// after now. The clock is the injected <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class ScheduleTicker(NpgsqlDataSource db, JobStarter jobs, TimeProvider clock, ILogger<ScheduleTicker> logger)
{
    private sealed record Due(string Id, string OrgId, string WorkflowId, string Cron, string Timezone, string Variables, DateTimeOffset Slot, string? CreatedBy,
        string? Graph, string? WorkflowVariables, int Version, Budget? Budget);

    [Function("Schedules")]
    public async Task RunAsync([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient runs, CancellationToken ct)
    {
        while (await TickAsync(runs, ct) > 0) { } // a full batch: more may be due
    }

    /// <summary>Starts the runs of up to a batch of due schedules; returns how many were due when the batch was full, else 0.</summary>
    private async Task<int> TickAsync(DurableTaskClient runs, CancellationToken ct)
    {
        const int batch = 20;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var due = new List<Due>();
        await using (var select = new NpgsqlCommand("""
            SELECT s.id, s.org_id, s.workflow_id, s.cron, s.timezone, s.variables::text, s.next_run_at, s.created_by,
                   CASE WHEN w.deleted_at IS NULL THEN w.graph::text END, w.variables::text, w.version, s.budget
            FROM schedules s JOIN workflows w ON w.id = s.workflow_id
            WHERE s.enabled AND s.next_run_at <= $2
            ORDER BY s.next_run_at LIMIT $1
            FOR UPDATE OF s SKIP LOCKED
            """, conn, tx))
        {
            select.Parameters.Add(new() { Value = batch });
            select.Parameters.Add(new() { Value = clock.GetUtcNow() });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
                due.Add(new Due(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
                    reader.GetFieldValue<DateTimeOffset>(6), reader.IsDBNull(7) ? null : reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9), reader.GetInt32(10), reader.IsDBNull(11) ? null : reader.GetFieldValue<Budget>(11)));
        }
        foreach (var schedule in due) await RunAsync(runs, conn, tx, schedule, ct);
        await tx.CommitAsync(ct);
        return due.Count == batch ? due.Count : 0;
    }

    private async Task RunAsync(DurableTaskClient runs, NpgsqlConnection conn, NpgsqlTransaction tx, Due schedule, CancellationToken ct)
    {
        string? jobId = null, error = null;
        var created = false;
        if (schedule.Graph is null) error = "the workflow was deleted; the schedule is disabled";
        else
        {
            try
            {
                var graph = JsonSerializer.Deserialize<WorkflowGraph>(schedule.Graph, FentaJson.Options)!;
                var config = CompiledGraph.ForWorkflow(schedule.WorkflowId, schedule.Version, graph, Parse(schedule.WorkflowVariables), Parse(schedule.Variables));
                var key = $"schedule:{schedule.Id}:{schedule.Slot.ToUnixTimeSeconds()}";
                (jobId, created) = await jobs.StartAsync(runs, new JobRequest(schedule.OrgId, schedule.CreatedBy, config, key, Budget: schedule.Budget, CountsAsWorkflowRun: true), ct);
            }
            catch (Exception e) when (e is not (OperationCanceledException or NpgsqlException))
            {
                // A graph that no longer compiles, or a run whose estimate passes the schedule's budget, fails its own slot, not the ticker.
                error = $"the run could not start: {e.Message}";
            }
        }
        var next = schedule.Graph is null || !CronSchedule.TryParse(schedule.Cron, schedule.Timezone, out var cron, out _)
            ? null
            : cron!.NextAfter(clock.GetUtcNow() > schedule.Slot ? clock.GetUtcNow() : schedule.Slot);
        await using var schedules = new NpgsqlCommand("""
            UPDATE schedules SET next_run_at = $2, enabled = $2 IS NOT NULL, last_run_at = CASE WHEN $3::text IS NULL THEN last_run_at ELSE $6 END,
                   last_job_id = coalesce($3, last_job_id), last_error = $4, run_count = run_count + $5, updated_at = now()
            WHERE id = $1
            """, conn, tx);
        schedules.Parameters.Add(new() { Value = schedule.Id });
        schedules.Parameters.Add(new() { Value = (object?)next ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        schedules.Parameters.Add(new() { Value = (object?)jobId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        schedules.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        schedules.Parameters.Add(new() { Value = created ? 1 : 0 });
        schedules.Parameters.Add(new() { Value = clock.GetUtcNow() });
        await schedules.ExecuteNonQueryAsync(ct);
        if (jobId is not null) LogStarted(logger, schedule.Id, jobId, schedule.Slot, created);
        else LogNotStarted(logger, schedule.Id, error!);
    }

    private static JsonElement Parse(string? json) => JsonDocument.Parse(json ?? "{}").RootElement;

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Schedule {ScheduleId} started job {JobId} for its {Slot:o} slot (new: {Created})")]
    private static partial void LogStarted(ILogger logger, string scheduleId, string jobId, DateTimeOffset slot, bool created);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Schedule {ScheduleId} did not start a run: {Error}")]
    private static partial void LogNotStarted(ILogger logger, string scheduleId, string error);
}
