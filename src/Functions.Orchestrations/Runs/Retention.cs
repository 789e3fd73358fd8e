using System.Globalization;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Identity;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>
/// Every hour, forgets what finished more than FENTA_JOB_RETENTION_DAYS (30) ago: jobs with their node runs and logs,
/// finished webhook deliveries, and the finished orchestration instances (runs, generations, deliveries) with their
/// history in the task hub. Usage records stay: they are what billing adds up. Direct uploads left unfinished for a day
/// are given up, and staging blobs that belong to no pending upload (a completed or deleted upload's seal, an abandoned
/// upload's file) are removed once the upload link that could write there has expired.
/// </summary>
public sealed partial class Retention(NpgsqlDataSource db, UploadCleanup uploadCleanup, IConfiguration config, TimeProvider clock, ILogger<Retention> logger)
{
    /// <summary>How long a client has to complete an upload; longer than an upload link lives (FENTA_UPLOAD_LINK_SECONDS, 15 min).</summary>
    private static readonly TimeSpan AbandonedUploadAge = TimeSpan.FromDays(1);

    private static readonly List<OrchestrationRuntimeStatus> Finished =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    [Function(nameof(Retention))]
    public async Task RunAsync([TimerTrigger("0 17 * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient runs, CancellationToken ct)
    {
        var days = config["FENTA_JOB_RETENTION_DAYS"] is { Length: > 0 } text
            ? double.TryParse(text, CultureInfo.InvariantCulture, out var d) && d > 0 ? d : throw new InvalidOperationException($"FENTA_JOB_RETENTION_DAYS must be a positive number, not '{text}'.")
            : 30;
        var cutoff = clock.GetUtcNow().AddDays(-days);
        var jobs = await RunStore.PruneAsync(db, cutoff, ct);
        // The local sidecar needs a lower bound (it reads CreatedFrom unchecked); nothing here is older than the epoch.
        var instances = await runs.PurgeAllInstancesAsync(new PurgeInstancesFilter(DateTimeOffset.UnixEpoch, cutoff, Finished), ct);
        LogPruned(logger, jobs, instances.PurgedInstanceCount, cutoff);
        // A pending upload is given up only once its link has expired too (should links be configured to last longer).
        var uploadCutoff = clock.GetUtcNow() - (uploadCleanup.UploadLinkLifetime > AbandonedUploadAge ? uploadCleanup.UploadLinkLifetime : AbandonedUploadAge);
        var uploads = await uploadCleanup.AbandonUploadsBeforeAsync(uploadCutoff, ct);
        var staged = await uploadCleanup.SweepStagingAsync(clock.GetUtcNow(), ct);
        LogUploadsAbandoned(logger, uploads, uploadCutoff, staged);
        await RateLimitWindows.PruneAsync(db, clock.GetUtcNow(), ct);
        await MailRecords.PruneAsync(db, clock.GetUtcNow(), ct);
    }

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Retention: {Jobs} jobs and {Instances} orchestration instances finished before {Cutoff:o} removed")]
    private static partial void LogPruned(ILogger logger, int jobs, int instances, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Retention: {Uploads} uploads unfinished since before {Cutoff:o} given up; {StagedFiles} staging blobs of no pending upload removed")]
    private static partial void LogUploadsAbandoned(ILogger logger, int uploads, DateTimeOffset cutoff, int stagedFiles);
}
