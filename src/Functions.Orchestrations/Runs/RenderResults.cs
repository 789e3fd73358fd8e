using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>
/// The render container's reports become events on the runs that wait for them (a Container Apps job has no durable
/// client of its own). A report for a run that has ended is dropped by the task hub: stale results change nothing.
/// </summary>
public sealed partial class RenderResults(ILogger<RenderResults> logger)
{
    [Function(nameof(RenderResults))]
    public async Task RunAsync([QueueTrigger(RenderQueues.ResultQueueName, Connection = RuntimeStorage.SettingName)] string message, [DurableClient] DurableTaskClient runs)
    {
        var report = JsonSerializer.Deserialize<RenderReport>(message, FentaJson.Options)!;
        await runs.RaiseEventAsync(report.JobId, RunNames.RenderEvent(report.RequestId), report.Outcome);
        LogRaised(logger, report.RequestId, report.Outcome.Kind);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Render {RequestId} reported {Outcome}")]
    private static partial void LogRaised(ILogger logger, string requestId, OutcomeKind outcome);
}
