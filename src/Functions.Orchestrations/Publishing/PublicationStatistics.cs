using FentaWeb.Integrations.Publishing;
using FentaWeb.Runs;
using FentaWeb.Runs.Publishing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Publishing;

/// <summary>
/// Every few minutes (FENTA_PUBLICATION_STATS_SCHEDULE), published videos whose counters are older than their
/// platform's <see cref="IPublishingPlatform.StatisticsInterval"/> are read again, a batch per account in one call where
/// the platform takes several ids, and kept as a row each in <c>publication_stats</c> (the analytics read the latest,
/// and the growth over a range). An account that must be connected again is skipped until it is. It also starts the
/// orchestration of a publication the API filed but could not start (the process stopped in between).
/// </summary>
public sealed partial class PublicationStatistics(NpgsqlDataSource db, IntegrationStore integrations, PublishingPlatforms platforms, TimeProvider clock,
    ILogger<PublicationStatistics> logger)
{
    public const string DefaultSchedule = "0 */10 * * * *";
    private const int BatchSize = 200;

    [Function(nameof(PublicationStatistics))]
    public async Task RunAsync([TimerTrigger("%FENTA_PUBLICATION_STATS_SCHEDULE%")] TimerInfo timer, [DurableClient] DurableTaskClient runs, CancellationToken ct)
    {
        await StartLostAsync(runs, ct);
        var due = await DueAsync(ct);
        foreach (var account in due.GroupBy(d => d.IntegrationId))
        {
            var platform = platforms.Get(account.First().Platform);
            try
            {
                var access = await integrations.AccessAsync(account.Key, ct);
                var byVideo = account.ToDictionary(d => d.VideoId, d => d.TargetId);
                var stats = await platform.StatisticsAsync(access.AccessToken, access.Account, [.. byVideo.Keys], ct);
                await SaveAsync([.. stats.Where(s => byVideo.ContainsKey(s.VideoId)).Select(s => (byVideo[s.VideoId], s))], [.. byVideo.Values], ct);
            }
            catch (Exception e) when (e is PublishingException or FentaWeb.Domain.Common.ProviderException or HttpRequestException && !ct.IsCancellationRequested)
            {
                LogAccountFailed(logger, account.Key, platform.Name, e);
            }
        }
    }

    /// <summary>Publications of the API (a node's are its run's to start) still queued a minute on, with no orchestration.</summary>
    private async Task StartLostAsync(DurableTaskClient runs, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id FROM publications WHERE status = 'queued' AND node_id IS NULL AND created_at < now() - interval '1 minute' LIMIT 50");
        var lost = new List<string>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) lost.Add(reader.GetString(0));
        foreach (var id in lost)
        {
            if (await runs.GetInstanceAsync(id, getInputsAndOutputs: false, ct) is not null) continue;
            await runs.ScheduleNewOrchestrationInstanceAsync(RunNames.PublishRun, id, new StartOrchestrationOptions(InstanceId: id), ct);
            LogStartedLost(logger, id);
        }
    }

    private async Task<List<(string TargetId, string IntegrationId, string Platform, string VideoId)>> DueAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var cmd = db.CreateCommand("""
            SELECT t.id, t.integration_id, t.platform, t.platform_video_id, t.stats_checked_at
            FROM publication_targets t JOIN integrations i ON i.id = t.integration_id AND i.status = 'active'
            WHERE t.status = 'published' AND t.platform_video_id IS NOT NULL
            ORDER BY t.stats_checked_at NULLS FIRST LIMIT $1
            """);
        cmd.Parameters.Add(new() { Value = BatchSize });
        var due = new List<(string, string, string, string)>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var platform = reader.GetString(2);
            var checkedAt = reader.IsDBNull(4) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(4);
            if (checkedAt is { } at && now - at < platforms.Get(platform).StatisticsInterval) continue;
            due.Add((reader.GetString(0), reader.GetString(1), platform, reader.GetString(3)));
        }
        return due;
    }

    private async Task SaveAsync(List<(string TargetId, VideoStatistics Stats)> rows, string[] checkedTargets, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await using var batch = db.CreateBatch();
        foreach (var (targetId, s) in rows)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO publication_stats (target_id, org_id, captured_at, views, likes, comments, shares)
                SELECT id, org_id, $2, $3, $4, $5, $6 FROM publication_targets WHERE id = $1 ON CONFLICT DO NOTHING
                """);
            foreach (var value in new object?[] { targetId, now, s.Views, s.Likes, s.Comments, s.Shares })
                insert.Parameters.Add(new() { Value = value ?? DBNull.Value });
            batch.BatchCommands.Add(insert);
        }
        var mark = new NpgsqlBatchCommand("UPDATE publication_targets SET stats_checked_at = $2 WHERE id = ANY($1)");
        mark.Parameters.Add(new() { Value = checkedTargets });
        mark.Parameters.Add(new() { Value = now });
        batch.BatchCommands.Add(mark);
        await batch.ExecuteNonQueryAsync(ct);
        LogRead(logger, rows.Count);
    }

    [LoggerMessage(EventId = 712, Level = LogLevel.Warning, Message = "Publication {PublicationId} was filed but never started; started now")]
    private static partial void LogStartedLost(ILogger logger, string publicationId);

    [LoggerMessage(EventId = 710, Level = LogLevel.Information, Message = "Publication statistics: {Count} videos read")]
    private static partial void LogRead(ILogger logger, int count);

    [LoggerMessage(EventId = 711, Level = LogLevel.Warning, Message = "Publication statistics of account {IntegrationId} on {Platform} could not be read")]
    private static partial void LogAccountFailed(ILogger logger, string integrationId, string platform, Exception exception);
}
