using System.Collections.Concurrent;
using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Runs;

/// <summary>A node item ready to run: its plan node, the activity for its type (if this process has one) and the context it runs with.</summary>
public sealed record Prepared(CompiledNode Node, INodeActivity? Activity, ActivityContext Context);

/// <summary>
/// Runs one execution of one node item with its node activity and writes the outcome to PostgreSQL: the body of the
/// <c>ExecuteNode</c> activity, and of the render container for renders. One execution at a time holds the item (a
/// duplicate delivery waits for it); it stops the activity when the job ends (the job's status is looked at every
/// second), enforces the node's timeout, and reports what happened to the run.
/// </summary>
public sealed partial class NodeExecutor(NpgsqlDataSource db, IEnumerable<INodeActivity> activities, IConfiguration config, ILogger<NodeExecutor> logger)
{
    private static readonly TimeSpan CheckIn = TimeSpan.FromSeconds(1);

    // How long an execution's claim on its item outlives its last heartbeat: a dead worker's item waits this long for
    // the redelivered execution (FENTA_NODE_CLAIM_SECONDS, 30 s by default; renewed every third of it).
    private readonly TimeSpan _claimLease = TimeSpan.FromSeconds(
        double.TryParse(config["FENTA_NODE_CLAIM_SECONDS"], System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30);

    // The last registration of a node type wins, so a host (or a test worker) can replace an activity.
    private readonly Dictionary<string, INodeActivity> _activities = activities.GroupBy(a => a.NodeType).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    // A job's plan, trace context and its nodes' outputs never change once written, so each process keeps what it has read
    // (the plan and the trace with one query per job).
    private readonly ConcurrentDictionary<string, Lazy<Task<(CompiledGraph? Plan, JobTrace Trace)>>> _jobs = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), JsonElement> _outputs = new();

    public INodeActivity? ActivityFor(string nodeType) => _activities.GetValueOrDefault(nodeType);

    /// <summary>The job's trace context and workflow (written once, with the job): its spans here are children of that context.</summary>
    public async Task<JobTrace> TraceAsync(string jobId) => (await JobAsync(jobId)).Trace;

    public async Task<CompiledGraph?> PlanAsync(string jobId) => (await JobAsync(jobId)).Plan;

    private Task<(CompiledGraph? Plan, JobTrace Trace)> JobAsync(string jobId)
    {
        if (_jobs.Count > 2000) _jobs.Clear();
        return _jobs.GetOrAdd(jobId, id => new Lazy<Task<(CompiledGraph?, JobTrace)>>(async () =>
            await RunStore.ConfigAsync(db, id, CancellationToken.None) is ({ } config, var trace)
                ? (CompiledGraph.Compile(config.Graph), trace)
                : (null, new JobTrace(null, null)))).Value;
    }

    /// <summary>
    /// What an execution of <paramref name="call"/> works with, the item marked running; or, when it must not run (the
    /// job ended, the item already finished, nothing can run its type), the outcome to report instead.
    /// </summary>
    public async Task<(Prepared? Work, NodeOutcome? Instead)> PrepareAsync(NodeCall call, CancellationToken ct,
        IReadOnlyDictionary<string, JsonElement>? inputs = null)
    {
        if (await RunStore.JobAsync(db, call.JobId, ct) is not ({ } orgId, JobStatus.Queued or JobStatus.Processing)) return (null, NodeOutcome.Cancelled(call.Item));
        var plan = await PlanAsync(call.JobId);
        if (plan?.Nodes.GetValueOrDefault(call.NodeId) is not { } node) return (null, NodeOutcome.Failure(call.Item, "NODE_NOT_FOUND", $"The job has no node {call.NodeId}.", true));
        var row = await RunStore.StartNodeAsync(db, call, ct);
        // A repeated execution of a finished item (activities run at least once) changes nothing.
        if (row is null || row.Status is "failed" or "cancelled") return (null, NodeOutcome.Cancelled(call.Item));
        if (row.Status is "succeeded") return (null, NodeOutcome.Success with { Item = call.Item });
        var context = new ActivityContext(
            call.JobId, orgId, call.NodeId, node.Definition.Type, call.Item, call.Attempt, node.Params,
            inputs ?? await InputsAsync(call.JobId, node, ct), node.FansOut ? row.Input : null, row.ExternalRef,
            (externalRef, token) => RunStore.RecordExternalRefAsync(db, call, externalRef, token),
            (level, message, data, token) => RunStore.LogAsync(db, call.JobId, level, call.NodeId, message, data, token),
            (fraction, token) => RunStore.ReportNodeProgressAsync(db, call.JobId, fraction, token));
        return (new Prepared(node, ActivityFor(node.Definition.Type), context), null);
    }

    /// <summary>Runs <paramref name="call"/>; <paramref name="inputs"/> are taken as given (a render request carries them) or read.</summary>
    public async Task<NodeOutcome> ExecuteAsync(NodeCall call, CancellationToken stopping, IReadOnlyDictionary<string, JsonElement>? inputs = null)
    {
        // A span in the job's trace, and the trace id on every log line of the execution.
        var trace = await TraceAsync(call.JobId);
        var type = (await PlanAsync(call.JobId))?.Nodes.GetValueOrDefault(call.NodeId)?.Definition.Type ?? "unknown";
        using var span = Telemetry.StartJobSpan($"node {type}", trace.TraceParent, call.JobId);
        span?.SetTag("fenta.node_id", call.NodeId).SetTag("fenta.node_type", type).SetTag("fenta.item", call.Item).SetTag("fenta.attempt", call.Attempt);
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["JobId"] = call.JobId, ["TraceId"] = Telemetry.TraceIdOf(trace.TraceParent) });
        var outcome = await ExecuteOnceAsync(call, stopping, inputs);
        span?.SetTag("fenta.outcome", outcome.Kind.ToString());
        if (outcome.Kind == OutcomeKind.Failed) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, outcome.Message);
        return outcome;
    }

    private async Task<NodeOutcome> ExecuteOnceAsync(NodeCall call, CancellationToken stopping, IReadOnlyDictionary<string, JsonElement>? inputs)
    {
        var claim = Guid.NewGuid();
        while (true)
        {
            var (work, instead) = await PrepareAsync(call, stopping, inputs);
            if (work is null) return instead!;
            if (await RunStore.ClaimAsync(db, call, claim, _claimLease, stopping)) return await ExecuteClaimedAsync(call, work, claim, stopping);
            // A duplicate delivery while another execution of the item runs: that one's outcome will be this one's.
            await Task.Delay(CheckIn, stopping);
        }
    }

    private async Task<NodeOutcome> ExecuteClaimedAsync(NodeCall call, Prepared work, Guid claim, CancellationToken stopping)
    {
        var (node, activity, context) = work;
        if (activity is null)
            return await RecordAsync(call, node, new ActivityResult.Failed("NODE_NOT_AVAILABLE", $"No worker can run {node.Definition.Type} nodes yet.", Permanent: true), stopping);

        // What it is expected to spend is reserved first: a run that cannot afford it stops here, having kept what it made.
        var expected = activity.Expected(context);
        if (await Reservations.ReserveAsync(db, call, expected, stopping) is { } refused) return await RecordAsync(call, node, refused, stopping);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        cancel.CancelAfter(node.Retry.Timeout);
        using var watch = new CancellationTokenSource();
        var jobEnded = WatchAsync(call, claim, cancel, watch.Token);
        ActivityResult result;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            result = await activity.ExecuteAsync(context, cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested && !stopping.IsCancellationRequested)
        {
            result = jobEnded.IsCompletedSuccessfully && jobEnded.Result
                ? new ActivityResult.Failed("CANCELLED", "The job ended while this node ran.", Permanent: true)
                : new ActivityResult.Failed("TIMEOUT", $"{node.Definition.Type} did not finish within {node.Retry.Timeout.TotalSeconds:0} s.");
        }
        catch (ProviderException e)
        {
            result = ActivityResult.Of(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogActivityError(logger, call.JobId, call.NodeId, call.Item, e);
            result = new ActivityResult.Failed("ACTIVITY_ERROR", e.Message);
        }
        finally
        {
            await watch.CancelAsync();
        }
        Telemetry.NodeDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds,
            new("fenta.node_type", node.Definition.Type), new("fenta.outcome", result.GetType().Name));
        // Its usage is recorded by now (or it failed): the reservation no longer counts.
        if (!expected.IsNone) await Reservations.ReleaseAsync(db, call, stopping);
        if (await jobEnded) return NodeOutcome.Cancelled(call.Item);
        return await RecordAsync(call, node, result, stopping);
    }

    /// <summary>Writes how an execution ended and tells the run what to do next.</summary>
    public async Task<NodeOutcome> RecordAsync(NodeCall call, CompiledNode node, ActivityResult result, CancellationToken ct)
    {
        switch (result)
        {
            case ActivityResult.Succeeded s:
                await RunStore.SucceedAsync(db, call.JobId, call.NodeId, call.Item, s.Output, wholeNode: !node.FansOut, ct);
                // Outputs are immutable once committed: successors in this process need not read them back.
                if (!node.FansOut) _outputs[(call.JobId, call.NodeId)] = s.Output;
                return NodeOutcome.Success with { Item = call.Item };
            case ActivityResult.RetryLater later:
                await RunStore.WaitingAsync(db, call, ct);
                return new NodeOutcome(OutcomeKind.RetryLater, call.Item, Message: later.Reason, RetryInSeconds: later.Delay.TotalSeconds);
            case ActivityResult.Failed { Permanent: false } f when call.Attempt < node.Retry.MaxAttempts:
                await RunStore.RetryingAsync(db, call, f.Code, f.Message, node.Retry.Backoff(call.Attempt, call.Key), ct);
                return NodeOutcome.Failure(call.Item, f.Code, f.Message);
            case ActivityResult.Failed f:
                var message = f.Permanent ? f.Message : $"{f.Message} (after {call.Attempt} attempts)";
                await RunStore.FailNodeAsync(db, call, f.Code, message, ct);
                return NodeOutcome.Failure(call.Item, f.Code, message, permanent: true);
            default:
                throw new InvalidOperationException($"Unknown activity result {result}");
        }
    }

    /// <summary>Input port → value, from the predecessors' outputs.</summary>
    public async Task<Dictionary<string, JsonElement>> InputsAsync(string jobId, CompiledNode node, CancellationToken ct)
    {
        var missing = node.Predecessors.Where(p => !_outputs.ContainsKey((jobId, p))).ToArray();
        if (missing.Length > 0)
        {
            if (_outputs.Count > 20_000) _outputs.Clear();
            foreach (var (nodeId, output) in await RunStore.OutputsAsync(db, jobId, missing, ct)) _outputs[(jobId, nodeId)] = output;
        }
        return node.InputEdges.GroupBy(e => e.ToPort).ToDictionary(
            port => port.Key,
            port => CompiledGraph.Combine(port.Select(e => _outputs.TryGetValue((jobId, e.From), out var v) ? v : default).ToList()));
    }

    /// <summary>
    /// While the execution runs: renews its claim, and cancels <paramref name="running"/> when the job is cancelled or
    /// fails elsewhere; true when it did.
    /// </summary>
    private async Task<bool> WatchAsync(NodeCall call, Guid claim, CancellationTokenSource running, CancellationToken done)
    {
        var renewed = DateTimeOffset.UtcNow;
        try
        {
            while (true)
            {
                await Task.Delay(CheckIn, done);
                if (DateTimeOffset.UtcNow - renewed >= _claimLease / 3)
                {
                    await RunStore.RenewClaimAsync(db, call, claim, _claimLease, done);
                    renewed = DateTimeOffset.UtcNow;
                }
                if (await RunStore.JobAsync(db, call.JobId, done) is (_, JobStatus.Queued or JobStatus.Processing)) continue;
                await running.CancelAsync();
                return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (NpgsqlException e)
        {
            LogWatchError(logger, call.JobId, e);
            return false;
        }
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Warning, Message = "Node activity of {JobId}/{NodeId}[{Item}] threw")]
    private static partial void LogActivityError(ILogger logger, string jobId, string nodeId, int item, Exception exception);

    [LoggerMessage(EventId = 201, Level = LogLevel.Warning, Message = "Could not look at job {JobId} while its node ran")]
    private static partial void LogWatchError(ILogger logger, string jobId, Exception exception);
}
