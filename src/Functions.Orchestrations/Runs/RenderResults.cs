using System.Text.Json;
using Azure.Storage.Queues;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>
/// The render container's reports become events on the runs that wait for them (a Container Apps job has no durable
/// client of its own). A report for a run that has ended is dropped by the task hub: stale results change nothing.
/// </summary>
public sealed partial class RenderResults(ILogger<RenderResults> logger)
{
    [Function(nameof(RenderResults))]
    public async Task RunAsync([QueueTrigger(RenderQueues.ResultQueueName, Connection = "FENTA_STORAGE")] string message, [DurableClient] DurableTaskClient runs)
    {
        var report = JsonSerializer.Deserialize<RenderReport>(message, FentaJson.Options)!;
        await runs.RaiseEventAsync(report.JobId, RunNames.RenderEvent(report.RequestId), report.Outcome);
        LogRaised(logger, report.RequestId, report.Outcome.Kind);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Render {RequestId} reported {Outcome}")]
    private static partial void LogRaised(ILogger logger, string requestId, OutcomeKind outcome);
}

/// <summary>Locally, the orchestration host consumes the results queue itself and calls the same function.</summary>
public sealed partial class RenderResultsPoller(RenderQueues queues, RenderResults function, DurableTaskClient runs, ILogger<RenderResultsPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await queues.EnsureCreatedAsync();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var messages = (await queues.Results.ReceiveMessagesAsync(maxMessages: 16, cancellationToken: stopping)).Value;
                foreach (var message in messages)
                {
                    await function.RunAsync(message.Body.ToString(), runs);
                    await queues.Results.DeleteMessageAsync(message.MessageId, message.PopReceipt, stopping);
                }
                if (messages.Length == 0) await Task.Delay(TimeSpan.FromMilliseconds(250), stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is Azure.RequestFailedException or JsonException or InvalidOperationException)
            {
                LogPollFailed(logger, e);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Reading the render results queue failed; will retry")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);
}
