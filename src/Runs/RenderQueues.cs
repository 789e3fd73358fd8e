using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FentaWeb.Domain.Common;
using Microsoft.DurableTask;

namespace FentaWeb.Runs;

/// <summary>
/// A render for the render container: the request's inputs travel in a blob, so the queue message stays small. The
/// message carries the W3C trace context of the submit (<paramref name="TraceParent"/>), so the render is in the job's trace.
/// </summary>
public sealed record RenderRequest(string RequestId, NodeCall Call, IReadOnlyDictionary<string, JsonElement> Inputs, string? TraceParent = null);

/// <summary>How a render request ended, for the run that waits on it.</summary>
public sealed record RenderReport(string RequestId, string JobId, NodeOutcome Outcome);

public sealed record RenderSubmission(NodeCall Call, string RequestId);

/// <summary>
/// The render queue (requests, KEDA scales the render container on it in Azure), the results queue (a queue-triggered
/// function raises the outcome on the run) and the blob container that holds the requests. Messages are base64, as
/// the Functions queue trigger expects. A <paramref name="prefix"/> (FENTA_RENDER_QUEUE_PREFIX) lets several stacks
/// share one storage account (tests do); a deployment has its own account and no prefix, as the trigger's name assumes.
/// </summary>
public sealed class RenderQueues(QueueServiceClient queues, BlobServiceClient blobs, string prefix = "")
{
    public const string RequestQueueName = "render-requests";
    public const string ResultQueueName = "render-results";
    /// <summary>How long a request may wait for a free renderer before its run stops waiting on top of the node's timeout.</summary>
    public static readonly TimeSpan QueueWait = TimeSpan.FromMinutes(30);

    private readonly Lazy<Task> _created = new(async () =>
    {
        await queues.GetQueueClient(prefix + RequestQueueName).CreateIfNotExistsAsync();
        await queues.GetQueueClient(prefix + ResultQueueName).CreateIfNotExistsAsync();
        await blobs.GetBlobContainerClient(prefix + RequestQueueName).CreateIfNotExistsAsync();
    });

    public QueueClient Requests => Queue(RequestQueueName);
    public QueueClient Results => Queue(ResultQueueName);

    /// <summary>A queue of this app's storage account by the name its trigger gives (with the prefix, locally).</summary>
    public QueueClient Queue(string name) => queues.GetQueueClient(prefix + name);

    private BlobContainerClient Container => blobs.GetBlobContainerClient(prefix + RequestQueueName);

    public Task EnsureCreatedAsync() => _created.Value;

    /// <summary>Stores the request and queues it. Idempotent per request id (a repeated submit renders at most once more, and is reported once).</summary>
    public async Task SubmitAsync(RenderRequest request, CancellationToken ct)
    {
        await EnsureCreatedAsync();
        var blob = Container.GetBlobClient(BlobName(request.RequestId));
        await blob.UploadAsync(BinaryData.FromObjectAsJson(request, FentaJson.Options), overwrite: true, ct);
        await Requests.SendMessageAsync(JsonSerializer.Serialize(new { request_id = request.RequestId, traceparent = request.TraceParent }), ct);
    }

    public async Task<RenderRequest?> ReadAsync(QueueMessage message, CancellationToken ct)
    {
        var body = message.Body.ToObjectFromJson<JsonElement>();
        var requestId = body.GetProperty("request_id").GetString()!;
        var blob = Container.GetBlobClient(BlobName(requestId));
        if (!await blob.ExistsAsync(ct)) return null;
        var request = (await blob.DownloadContentAsync(ct)).Value.Content.ToObjectFromJson<RenderRequest>(FentaJson.Options);
        return body.TryGetProperty("traceparent", out var trace) && trace.ValueKind == JsonValueKind.String ? request! with { TraceParent = trace.GetString() } : request;
    }

    public async Task ReportAsync(RenderReport report, CancellationToken ct)
    {
        await EnsureCreatedAsync();
        await Results.SendMessageAsync(JsonSerializer.Serialize(report, FentaJson.Options), ct);
        await Container.GetBlobClient(BlobName(report.RequestId)).DeleteIfExistsAsync(cancellationToken: ct);
    }

    private static string BlobName(string requestId) => requestId.Replace(':', '/') + ".json";

    public static RenderQueues FromSettings(Func<string, string?> setting)
    {
        var storage = RuntimeStorage.FromSettings(setting);
        return new RenderQueues(storage.Queues(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }), storage.Blobs(),
            setting("FENTA_RENDER_QUEUE_PREFIX") ?? "");
    }
}

/// <summary>Puts a render request on the render queue; or, when the item must not render (the job ended), says what instead.</summary>
public sealed class SubmitRender(NodeExecutor executor, RenderQueues queues) : TaskActivity<RenderSubmission, NodeOutcome?>
{
    public override async Task<NodeOutcome?> RunAsync(TaskActivityContext context, RenderSubmission submission)
    {
        var trace = await executor.TraceAsync(submission.Call.JobId);
        using var span = Telemetry.StartJobSpan("render submit", trace.TraceParent, submission.Call.JobId, System.Diagnostics.ActivityKind.Producer);
        span?.SetTag("fenta.node_id", submission.Call.NodeId).SetTag("fenta.render_request", submission.RequestId);
        var (work, instead) = await executor.PrepareAsync(submission.Call, CancellationToken.None);
        if (work is null) return instead;
        // The render request's span goes with the message (the job's stored context, where nothing listens here).
        await queues.SubmitAsync(new RenderRequest(submission.RequestId, submission.Call, work.Context.Inputs, span?.Id ?? trace.TraceParent), CancellationToken.None);
        return null;
    }
}
