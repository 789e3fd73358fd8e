using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Jobs;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>
/// Every minute, paused jobs whose allowance has reset start: the job is queued, then its run scheduled, then the
/// resume mark cleared, so a host dying half-way leaves a queued job the next tick still finds and schedules (once: an
/// existing run is left alone). One whose allowance is still used up waits for the next reset. By the injected clock.
/// </summary>
public sealed partial class PausedJobs(NpgsqlDataSource db, TimeProvider clock, ILogger<PausedJobs> logger)
{
    private sealed record Due(string JobId, string OrgId, bool Paused);

    [Function(nameof(PausedJobs))]
    public async Task RunAsync([TimerTrigger("30 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient runs, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        foreach (var due in await DueAsync(now, ct))
        {
            if (due.Paused && !await QueueAsync(due, now, ct)) continue;
            if (await runs.GetInstanceAsync(due.JobId, getInputsAndOutputs: false, ct) is null)
            {
                // In the job's trace, as JobStarter schedules a run: the orchestration's spans follow this one.
                using var span = Telemetry.StartJobSpan("job schedule", (await RunStore.TraceAsync(db, due.JobId, ct))?.TraceParent, due.JobId, System.Diagnostics.ActivityKind.Producer);
                await runs.ScheduleNewOrchestrationInstanceAsync(RunNames.JobRun, due.JobId, new StartOrchestrationOptions(InstanceId: due.JobId), ct);
            }
            await using var started = db.CreateCommand("UPDATE jobs SET resume_at = NULL WHERE id = $1 AND status <> 'paused'");
            started.Parameters.Add(new() { Value = due.JobId });
            await started.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>
    /// Paused jobs due by now, and queued ones whose run is owed by now: resumed here, or started by the API, which marks
    /// a new job until it has scheduled its run after answering (JobStarter) and may have stopped before it did.
    /// </summary>
    private async Task<List<Due>> DueAsync(DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, org_id, status = 'paused' FROM jobs
            WHERE (status = 'paused' OR status = 'queued') AND resume_at <= $1
            ORDER BY resume_at LIMIT 100
            """);
        cmd.Parameters.Add(new() { Value = now });
        var due = new List<Due>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) due.Add(new Due(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        return due;
    }

    /// <summary>Queues the job if its org's allowance allows it now; otherwise moves its resume time to the next reset. True when queued.</summary>
    private async Task<bool> QueueAsync(Due due, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            await Metering.EnsureWithinQuotaAsync(db, due.OrgId, now, ct);
        }
        catch (QuotaExceededException e)
        {
            await using var wait = db.CreateCommand("UPDATE jobs SET resume_at = $2, paused_reason = $3, updated_at = now() WHERE id = $1 AND status = 'paused'");
            wait.Parameters.Add(new() { Value = due.JobId });
            wait.Parameters.Add(new() { Value = e.ResetsAt });
            wait.Parameters.Add(new() { Value = e.Message });
            await wait.ExecuteNonQueryAsync(ct);
            return false;
        }
        await using var queue = db.CreateCommand("""
            WITH queued AS (
              UPDATE jobs SET status = 'queued', paused_reason = NULL, queued_at = now(), updated_at = now() WHERE id = $1 AND status = 'paused' RETURNING id)
            INSERT INTO job_logs (job_id, level, stage, message) SELECT id, 'info', 'job', 'Job resumed: the plan''s allowance has reset' FROM queued
            """);
        queue.Parameters.Add(new() { Value = due.JobId });
        var queued = await queue.ExecuteNonQueryAsync(ct) > 0;
        if (queued) LogResumed(logger, due.JobId);
        return queued;
    }

    [LoggerMessage(EventId = 601, Level = LogLevel.Information, Message = "Paused job {JobId} resumed: its allowance has reset")]
    private static partial void LogResumed(ILogger logger, string jobId);
}
