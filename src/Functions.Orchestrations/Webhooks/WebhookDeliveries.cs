using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;
using System.Text;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Webhooks;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Webhooks;

/// <summary>One hand-over of a delivery to an orchestration: the n-th, so a delivery sent again gets a fresh instance.</summary>
public sealed record WebhookDispatch(string DeliveryId, int Dispatch)
{
    public string InstanceId => $"{DeliveryId}:{Dispatch}";
}

/// <summary>How an attempt went: the delivery's status, and for a retry how long to wait first.</summary>
public sealed record WebhookAttempt(string Status, double? RetryInSeconds);

/// <summary>
/// Every few seconds (FENTA_WEBHOOK_SCHEDULE), pending deliveries that no orchestration has (rows the database's event
/// triggers wrote, pings, redeliveries, the waiting events of an endpoint turned back on) are handed to a
/// <see cref="DeliverWebhook"/> orchestration each. Rows are locked while handed over, so hosts never hand one over
/// twice. The orchestration is started before the hand-over commits: when the hand-over then rolls back (the host died or
/// a call failed), the orchestration takes the delivery itself if it gets there first (<see cref="PostWebhook"/>), and
/// otherwise the next round finds the instance and hands the delivery to it. Delivery is promised at least once, so a
/// handed-over delivery whose orchestration is gone, never started, or ended without an outcome is handed over again
/// (<see cref="RecoverAsync"/>).
/// </summary>
public sealed partial class WebhookDispatcher(NpgsqlDataSource db, WebhookOptions options, ILogger<WebhookDispatcher> logger)
{
    private const int Batch = 100;

    [Function("WebhookDispatch")]
    public async Task RunAsync([TimerTrigger("%FENTA_WEBHOOK_SCHEDULE%")] TimerInfo timer, [DurableClient] DurableTaskClient runs, CancellationToken ct)
    {
        // Lost deliveries first, so this round hands them over again.
        while (await RecoverAsync(runs, ct) == Batch) { }
        while (await DispatchAsync(runs, ct) == Batch) { }
    }

    private async Task<int> DispatchAsync(DurableTaskClient runs, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var due = new List<WebhookDispatch>();
        await using (var select = new NpgsqlCommand("""
            SELECT d.id, d.dispatches + 1 FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id AND w.enabled
            WHERE d.status = 'pending' AND NOT d.dispatched
            ORDER BY d.id LIMIT $1
            FOR UPDATE OF d SKIP LOCKED
            """, conn, tx))
        {
            select.Parameters.Add(new() { Value = Batch });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) due.Add(new WebhookDispatch(reader.GetString(0), reader.GetInt32(1)));
        }
        foreach (var dispatch in due)
            if (await runs.GetInstanceAsync(dispatch.InstanceId, ct) is null)
                await runs.ScheduleNewOrchestrationInstanceAsync(nameof(DeliverWebhook), dispatch, new StartOrchestrationOptions(dispatch.InstanceId), ct);
        // The first attempt is due from now: a delivery that waited (its endpoint off) is not overdue the moment it is handed over.
        await using (var mark = new NpgsqlCommand("""
            UPDATE webhook_deliveries SET dispatched = true, dispatches = dispatches + 1, next_retry_at = greatest(next_retry_at, now()) WHERE id = ANY($1)
            """, conn, tx))
        {
            mark.Parameters.Add(new() { Value = due.Select(d => d.DeliveryId).ToArray() });
            await mark.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return due.Count;
    }

    /// <summary>
    /// Handed-over deliveries whose due attempt (next_retry_at, or the last attempt begun) is more than RedispatchAfter
    /// past, checked against their orchestration in the task hub. One that is gone (purged, or its start never became
    /// durable), still pending (never started), or has ended while the delivery waits will never post it: the delivery
    /// goes back to be handed over, to a new instance under the next dispatch number, which fences off anything the old
    /// one might still write. A running one is left alone (an activity of a dead worker is run again once its message
    /// shows again) and looked at again after another RedispatchAfter. Returns how many were looked at.
    /// </summary>
    private async Task<int> RecoverAsync(DurableTaskClient runs, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var overdue = new List<WebhookDispatch>();
        await using (var select = new NpgsqlCommand("""
            SELECT id, dispatches FROM webhook_deliveries
            WHERE status = 'pending' AND dispatched AND next_retry_at < now() - $1 AND (last_attempt_at IS NULL OR last_attempt_at < now() - $1)
            ORDER BY next_retry_at LIMIT $2
            FOR UPDATE SKIP LOCKED
            """, conn, tx))
        {
            select.Parameters.Add(new() { Value = options.RedispatchAfter, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Interval });
            select.Parameters.Add(new() { Value = Batch });
            await using var reader = await select.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct)) overdue.Add(new WebhookDispatch(reader.GetString(0), reader.GetInt32(1)));
        }
        if (overdue.Count == 0) return 0;
        var lost = new List<string>();
        foreach (var dispatch in overdue)
        {
            var status = (await runs.GetInstanceAsync(dispatch.InstanceId, ct))?.RuntimeStatus;
            if (status is OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended) continue;
            LogLost(logger, dispatch.DeliveryId, dispatch.InstanceId, status?.ToString() ?? "gone");
            lost.Add(dispatch.DeliveryId);
        }
        await using (var mark = new NpgsqlCommand("""
            UPDATE webhook_deliveries
            SET dispatched = NOT (id = ANY($2)), next_retry_at = CASE WHEN id = ANY($2) THEN next_retry_at ELSE now() END
            WHERE id = ANY($1)
            """, conn, tx))
        {
            mark.Parameters.Add(new() { Value = overdue.Select(d => d.DeliveryId).ToArray() });
            mark.Parameters.Add(new() { Value = lost.ToArray() });
            await mark.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return overdue.Count;
    }

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning,
        Message = "Webhook delivery {DeliveryId} is pending past its due attempt and its orchestration {InstanceId} is {Status}: handing it over again")]
    private static partial void LogLost(ILogger logger, string deliveryId, string instanceId, string status);
}

/// <summary>One delivery's attempts: post, and after a failure wait the backoff on a durable timer, until it succeeds, runs out or stops.</summary>
public sealed class DeliverWebhook : TaskOrchestrator<WebhookDispatch, string>
{
    /// <summary>A bound on the history whatever the settings say (at the longest waits, 100 attempts span about three weeks).</summary>
    private const int MaxAttempts = 100;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, WebhookDispatch dispatch)
    {
        // FENTA_WEBHOOK_MAX_ATTEMPTS ends it sooner: the last attempt answers without a retry.
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var posted = await context.CallActivityAsync<WebhookAttempt>(nameof(PostWebhook), dispatch);
            if (posted.RetryInSeconds is not { } seconds) return posted.Status;
            await Retries.WaitAsync(context, TimeSpan.FromSeconds(seconds));
        }
        return "stopped";
    }
}

/// <summary>
/// One attempt: posts the signed event and records the answer. A 2xx is a success; anything else, a timeout or a
/// refused connection is retried after a growing wait until the attempts run out, and a delivery that fails for good
/// switches its endpoint off when the endpoint's last deliveries all failed. Writes are fenced by the dispatch, so an
/// orchestration of a delivery sent again since changes nothing. Runs at least once: a receiver dedupes by event id.
/// </summary>
public sealed partial class PostWebhook(NpgsqlDataSource db, WebhookOptions options, IHttpClientFactory httpClients, JobResults results, ILogger<PostWebhook> logger)
    : TaskActivity<WebhookDispatch, WebhookAttempt>
{
    private const int ResponseBodyLimit = 1024;

    private sealed record Due(string EventId, string Event, string Payload, int Attempt, string Url, string Secret);

    public override async Task<WebhookAttempt> RunAsync(TaskActivityContext context, WebhookDispatch dispatch)
    {
        if (await StartAsync(dispatch) is not { } due) return new WebhookAttempt("stopped", null);
        // A job's event is delivered in the job's trace (looked up only where spans are recorded).
        var jobId = Telemetry.Source.HasListeners() && JsonNode.Parse(due.Payload)?["data"] is JsonObject data ? (data["job"]?["id"] ?? data["job_id"])?.GetValue<string>() : null;
        var trace = jobId is null ? null : await RunStore.TraceAsync(db, jobId, CancellationToken.None);
        using var span = jobId is null ? Telemetry.Source.StartActivity("webhook deliver", System.Diagnostics.ActivityKind.Client)
            : Telemetry.StartJobSpan("webhook deliver", trace?.TraceParent, jobId, System.Diagnostics.ActivityKind.Client);
        span?.SetTag("fenta.event", due.Event).SetTag("fenta.delivery_id", dispatch.DeliveryId).SetTag("fenta.attempt", due.Attempt);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (status, body, error) = await PostAsync(dispatch, due with { Payload = await AsTheApiShowsItAsync(due.Payload) });
        Telemetry.WebhookAttemptDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new("fenta.event", due.Event), new("fenta.outcome", error is null ? "delivered" : "failed"));
        if (error is not null) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, error);
        if (error is not null) LogFailed(logger, dispatch.DeliveryId, due.Event, due.Attempt, error);
        return await RecordAsync(dispatch, due, status, body, error);
    }

    /// <summary>
    /// A job event's job as the API shows it: the documented result with download links signed now (a redelivery gets
    /// fresh ones, the stored payload keeps none) and the cost fields by their documented names.
    /// </summary>
    private async Task<string> AsTheApiShowsItAsync(string payload)
    {
        if (JsonNode.Parse(payload) is not JsonObject root || root["data"]?["job"] is not JsonObject job || root["org_id"]?.GetValue<string>() is not { } orgId)
            return payload;
        if (job["result"] is JsonObject stored && job["id"]?.GetValue<string>() is { } jobId)
            job["result"] = JsonSerializer.SerializeToNode(await results.ForAsync(orgId, jobId, JsonSerializer.SerializeToElement(stored), CancellationToken.None), FentaJson.Options);
        if (job["cost"] is JsonObject cost)
            foreach (var (name, value) in cost.ToList()) job[$"cost_{name}"] = value?.DeepClone();
        return root.ToJsonString();
    }

    /// <summary>
    /// Counts the attempt; null when there is nothing to post: the delivery finished, or was sent again since (a newer
    /// dispatch has it), or its endpoint is off (then it waits to be handed over again once the endpoint is back on).
    /// Once the attempt is counted, the delivery is this dispatch's however its hand-over went.
    /// </summary>
    private async Task<Due?> StartAsync(WebhookDispatch dispatch)
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        // The dispatcher may still hold the row (it starts this orchestration before it commits the hand-over): wait for
        // it, so the statement below (a new snapshot) sees the hand-over.
        await using (var wait = new NpgsqlCommand("SELECT 1 FROM webhook_deliveries WHERE id = $1 FOR UPDATE", conn, tx))
        {
            wait.Parameters.Add(new() { Value = dispatch.DeliveryId });
            await wait.ExecuteNonQueryAsync();
        }
        // Handed to this dispatch, or to the one before with this orchestration started by a hand-over that then rolled
        // back (its host died or a call failed before the commit): this orchestration is that hand-over, so it takes the
        // delivery as the commit would have. Ending instead would leave an ended instance under the number the next round
        // looks for, and the delivery handed to it and never posted.
        await using var cmd = new NpgsqlCommand("""
            WITH started AS (
              UPDATE webhook_deliveries d SET attempts = d.attempts + 1, last_attempt_at = now(), dispatches = $2, dispatched = true
              FROM webhooks w
              WHERE d.id = $1 AND ((d.dispatches = $2 AND d.dispatched) OR (d.dispatches = $2 - 1 AND NOT d.dispatched))
                AND d.status = 'pending' AND w.id = d.webhook_id AND w.enabled
              RETURNING d.event_id, d.event, d.payload::text, d.attempts, w.url, w.secret),
            parked AS (
              UPDATE webhook_deliveries SET dispatched = false
              WHERE id = $1 AND dispatches = $2 AND dispatched AND status = 'pending' AND NOT EXISTS (SELECT 1 FROM started))
            SELECT * FROM started
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = dispatch.DeliveryId });
        cmd.Parameters.Add(new() { Value = dispatch.Dispatch });
        Due? due = null;
        await using (var reader = await cmd.ExecuteReaderAsync())
            if (await reader.ReadAsync())
                due = new Due(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4), reader.GetString(5));
        await tx.CommitAsync();
        return due;
    }

    private async Task<(int? Status, string? Body, string? Error)> PostAsync(WebhookDispatch dispatch, Due due)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, due.Url) { Content = new StringContent(due.Payload, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("User-Agent", "FentaWeb-Webhooks/1.0");
        request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Create(due.Secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), due.Payload));
        request.Headers.TryAddWithoutValidation(WebhookSignature.BodyHeader, WebhookSignature.CreateForBody(due.Secret, due.Payload));
        request.Headers.TryAddWithoutValidation("Fenta-Event-Id", due.EventId);
        request.Headers.TryAddWithoutValidation("Fenta-Event-Type", due.Event);
        request.Headers.TryAddWithoutValidation("Fenta-Delivery-Id", dispatch.DeliveryId);
        request.Headers.TryAddWithoutValidation("Fenta-Delivery-Attempt", due.Attempt.ToString(CultureInfo.InvariantCulture));
        using var deadline = new CancellationTokenSource(options.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(WebhookRegistration.HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var status = (int)response.StatusCode;
            return (status, await ReadStartAsync(response, deadline.Token), response.IsSuccessStatusCode ? null : $"the endpoint answered {status}");
        }
        catch (Exception e) when (e is OperationCanceledException or Polly.Timeout.TimeoutRejectedException) // this deadline, or the client's timeout
        {
            return (null, null, $"no answer within {options.Timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return (null, null, e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{e.Message} {inner.Message}" : e.Message);
        }
        catch (Exception e)
        {
            // Whatever else goes wrong with one endpoint is that delivery's failure, never the orchestration's.
            return (null, null, $"could not post: {e.Message}");
        }
    }

    private static async Task<string> ReadStartAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[ResponseBodyLimit];
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), ct) is var n and > 0) read += n;
        return Encoding.UTF8.GetString(buffer, 0, read);
    }

    private async Task<WebhookAttempt> RecordAsync(WebhookDispatch dispatch, Due due, int? status, string? body, string? error)
    {
        var retryIn = options.RetryDelay(due.Attempt).TotalSeconds;
        await using var cmd = db.CreateCommand("""
            WITH recorded AS (
              UPDATE webhook_deliveries
              SET status = CASE WHEN $5::text IS NULL THEN 'success' WHEN attempts >= $6 THEN 'failed' ELSE 'pending' END,
                  next_retry_at = CASE WHEN $5::text IS NULL OR attempts >= $6 THEN next_retry_at ELSE now() + $7 * interval '1 second' END,
                  http_status = $3, response_body = $4, error = $5
              WHERE id = $1 AND dispatches = $2 AND attempts = $8 AND status = 'pending'
              RETURNING webhook_id, status, extract(epoch FROM now() - created_at)::float8 AS age),
            disabled AS (
              UPDATE webhooks w SET enabled = false, updated_at = now(),
                     disabled_reason = format('switched off after %s failed deliveries in a row; the last: %s', $9, $5::text)
              FROM recorded r
              WHERE w.id = r.webhook_id AND r.status = 'failed' AND w.enabled AND $9 > 0
                AND (SELECT count(*) FROM (SELECT d.status FROM webhook_deliveries d WHERE d.webhook_id = r.webhook_id AND d.status <> 'pending' AND d.id <> $1
                                           ORDER BY d.id DESC LIMIT $9 - 1) earlier WHERE earlier.status = 'failed') = $9 - 1)
            SELECT status, age FROM recorded
            """);
        cmd.Parameters.Add(new() { Value = dispatch.DeliveryId });
        cmd.Parameters.Add(new() { Value = dispatch.Dispatch });
        cmd.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        cmd.Parameters.Add(new() { Value = (object?)body ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = options.MaxAttempts });
        cmd.Parameters.Add(new() { Value = retryIn });
        cmd.Parameters.Add(new() { Value = due.Attempt });
        cmd.Parameters.Add(new() { Value = options.DisableAfterFailures });
        await using var reader = await cmd.ExecuteReaderAsync();
        // Nothing recorded: the delivery was sent again meanwhile, and that dispatch's orchestration carries on.
        if (!await reader.ReadAsync()) return new WebhookAttempt("stopped", null);
        var recorded = reader.GetString(0);
        // As the delivery ends (again, after a redelivery): how late its event reached the endpoint, or how long until it was given up.
        if (recorded != "pending")
            Telemetry.WebhookDeliveryLatency.Record(reader.GetDouble(1), new("fenta.event", due.Event), new("fenta.outcome", recorded == "success" ? "delivered" : "failed"));
        return new WebhookAttempt(recorded, recorded == "pending" ? retryIn : null);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} ({Event}) attempt {Attempt} failed: {Error}")]
    private static partial void LogFailed(ILogger logger, string deliveryId, string @event, int attempt, string error);
}
