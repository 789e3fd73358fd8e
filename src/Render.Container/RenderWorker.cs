using Azure.Storage.Queues.Models;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Persistence;
using FentaWeb.Integrations.Blob;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Nodes;
using FentaWeb.Runs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Render;

/// <summary>
/// Takes render requests from the render queue, one at a time: the message stays invisible while the render runs
/// (renewed every third of FENTA_RENDER_VISIBILITY_SECONDS, 5 minutes by default), the outputs become assets, and the outcome goes to the results queue for the run. A request
/// that keeps failing to be processed (its renderer died every time) is reported as failed. On Azure a Container Apps
/// job execution takes one request and exits (<c>--once</c>; exit 0 on an empty queue); locally the process loops.
/// </summary>
public sealed partial class RenderWorker(RenderQueues queues, NodeExecutor executor, RenderWorkerOptions options, IHostApplicationLifetime lifetime,
    ILogger<RenderWorker> logger) : BackgroundService
{
    private const int MaxDeliveries = 3;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        await queues.EnsureCreatedAsync();
        while (!stopping.IsCancellationRequested)
        {
            bool took;
            try
            {
                took = await TakeOneAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Azure.RequestFailedException e)
            {
                LogQueueError(logger, e);
                took = false;
            }
            if (options.Once) break;
            if (!took) await Task.Delay(options.Poll, stopping).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        if (options.Once) lifetime.StopApplication();
    }

    /// <summary>Renders the next request, if there is one; true when it took one.</summary>
    public async Task<bool> TakeOneAsync(CancellationToken stopping)
    {
        QueueMessage? message = await queues.Requests.ReceiveMessageAsync(options.Visibility, stopping);
        if (message is null) return false;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var request = await queues.ReadAsync(message, stopping);
        var read = watch.Elapsed;
        if (request is null)
        {
            // Its outcome was reported already (a duplicate delivery after the report).
            await queues.Requests.DeleteMessageAsync(message.MessageId, message.PopReceipt, stopping);
            return true;
        }
        var receipt = message.PopReceipt;
        // In the job's trace: a child of the submit's span the message carries.
        using var span = Telemetry.StartJobSpan("render request", request.TraceParent, request.Call.JobId, System.Diagnostics.ActivityKind.Consumer);
        span?.SetTag("fenta.render_request", request.RequestId).SetTag("fenta.delivery", message.DequeueCount);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["JobId"] = request.Call.JobId, ["TraceId"] = Telemetry.TraceIdOf(request.TraceParent) });
        NodeOutcome outcome;
        if (message.DequeueCount > MaxDeliveries)
        {
            outcome = NodeOutcome.Failure(request.Call.Item, "RENDER_POISONED",
                $"The render request was taken {message.DequeueCount - 1} times and never finished; the renderer may be crashing on it.", permanent: true);
            // What the poisoned-render alert counts (a give-up repeated after this process died before reporting counts again).
            Telemetry.RenderPoisoned.Add(1);
            var node = (await executor.PlanAsync(request.Call.JobId))?.Nodes.GetValueOrDefault(request.Call.NodeId);
            if (node is not null)
                outcome = await executor.RecordAsync(request.Call, node, new ActivityResult.Failed(outcome.Code!, outcome.Message!, Permanent: true), stopping);
        }
        else
        {
            LogRendering(logger, request.RequestId);
            using var renewing = new CancellationTokenSource();
            var renewal = RenewAsync(message.MessageId, () => receipt, r => receipt = r, renewing.Token);
            try
            {
                outcome = await executor.ExecuteAsync(request.Call, stopping, request.Inputs);
            }
            finally
            {
                await renewing.CancelAsync();
                await renewal;
            }
        }
        var executed = watch.Elapsed;
        await queues.ReportAsync(new RenderReport(request.RequestId, request.Call.JobId, outcome), stopping);
        await queues.Requests.DeleteMessageAsync(message.MessageId, receipt, stopping);
        LogReported(logger, request.RequestId, outcome.Kind);
        // No queue wait here: a message's insertion time has whole seconds only. (The node's started_at, set on submit, has it.)
        LogPhases(logger, request.RequestId, read.TotalMilliseconds, (executed - read).TotalMilliseconds, (watch.Elapsed - executed).TotalMilliseconds);
        return true;
    }

    private async Task RenewAsync(string messageId, Func<string> receipt, Action<string> renewed, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(options.Visibility / 3, done);
                renewed((await queues.Requests.UpdateMessageAsync(messageId, receipt(), visibilityTimeout: options.Visibility, cancellationToken: done)).Value.PopReceipt);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Azure.RequestFailedException e)
        {
            LogQueueError(logger, e);
        }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Rendering {RequestId}")]
    private static partial void LogRendering(ILogger logger, string requestId);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Render {RequestId} reported {Outcome}")]
    private static partial void LogReported(ILogger logger, string requestId, OutcomeKind outcome);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug,
        Message = "Render {RequestId}: request read {ReadMs:0} ms, executed {ExecuteMs:0} ms, reported {ReportMs:0} ms")]
    private static partial void LogPhases(ILogger logger, string requestId, double readMs, double executeMs, double reportMs);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Render queue error; will retry")]
    private static partial void LogQueueError(ILogger logger, Exception exception);
}

/// <param name="Once">Take one request (or none) and exit, as a Container Apps job execution does.</param>
/// <param name="Visibility">How long a taken request stays hidden without a renewal: how soon another renderer retries it after a crash.</param>
public sealed record RenderWorkerOptions(bool Once, TimeSpan Poll, TimeSpan Visibility);

/// <summary>The render container's host: the database and assets, Output.Render, and the render queues; no task hub.</summary>
public static class RenderHost
{
    /// <param name="configure">Changes to the services before the host is built (a test renderer replaces Output.Render).</param>
    public static IHost Build(string[] args, bool once, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var config = builder.Configuration;
        // As the Function apps do: never start on a Key Vault reference the platform left unresolved.
        Domain.Common.SettingReferences.ThrowIfUnresolved(config.AsEnumerable());
        builder.Services.AddSingleton(FentaDb.FromSettings(key => config[key]));
        builder.Services.AddAssetBlobs(AssetStorageOptions.FromSettings(key => config[key]));
        builder.Services.AddSingleton<AssetStore>();
        builder.Services.AddSingleton(RenderQueues.FromSettings(key => config[key]));
        builder.Services.AddSingleton<NodeExecutor>();
        builder.Services.AddNodeActivity<OutputRenderActivity>();
        var visibility = double.TryParse(config["FENTA_RENDER_VISIBILITY_SECONDS"], System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 300;
        builder.Services.AddSingleton(new RenderWorkerOptions(once, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(visibility)));
        builder.Services.AddHostedService<RenderWorker>();
        builder.Services.AddFentaTelemetry(config, "fenta-render");
        configure?.Invoke(builder.Services);
        return builder.Build();
    }
}
