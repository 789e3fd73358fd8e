using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using FentaWeb.Orchestrations.Publishing;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs.Publishing;
using FentaWeb.Runs;
using Microsoft.DurableTask;
using RetryPolicy = FentaWeb.Domain.Workflows.RetryPolicy;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>
/// One job's run (instance id = job id). Ready-set scheduling: every node whose predecessors are done starts at once,
/// the first to finish is awaited, and what it unblocked starts. A node fed a list on its fan-out port runs one item
/// per element in parallel. A failure ends the run; a <c>cancel</c> event stops it. Deterministic: only ids, policies and outcomes pass through here, and every
/// wait is a durable task.
/// </summary>
public sealed class JobRun : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string jobId)
    {
        var plan = await context.CallActivityAsync<RunPlan?>(nameof(LoadRun), jobId);
        if (plan is null) return "gone";
        var cancel = context.WaitForExternalEvent<string>(RunNames.CancelEvent);
        var nodes = new NodeScheduler(context, jobId);
        var done = plan.Nodes.Where(n => n.Done).Select(n => n.Id).ToHashSet(StringComparer.Ordinal);
        var started = new HashSet<string>(done, StringComparer.Ordinal);
        var running = new List<(Task<NodeOutcome> Task, RunStep Node)>();
        RunEnd? end = null;
        while (end is null && done.Count < plan.Nodes.Count)
        {
            foreach (var node in plan.Nodes.Where(n => !started.Contains(n.Id) && n.Predecessors.All(done.Contains)))
            {
                started.Add(node.Id);
                running.Add((nodes.RunAsync(node), node));
            }
            if (running.Count == 0) throw new InvalidOperationException($"Job {jobId} has nodes that can never start.");
            var finished = await Task.WhenAny(running.Select(r => (Task)r.Task).Append(cancel));
            if (finished == cancel)
            {
                end = new RunEnd(jobId, JobStatus.Cancelled);
                break;
            }
            var (task, which) = running.First(r => r.Task == finished);
            running.Remove((task, which));
            var outcome = task.Result;
            if (outcome.Kind == OutcomeKind.Succeeded) done.Add(which.Id);
            else end = new RunEnd(jobId, outcome.Kind == OutcomeKind.Cancelled ? JobStatus.Cancelled : JobStatus.Failed, which.Id, outcome);
        }
        end ??= new RunEnd(jobId, JobStatus.Completed);
        // Generations and publications still waiting (a cancel, or a sibling item failed) stop now rather than at their next poll.
        foreach (var child in nodes.ChildrenInFlight)
            context.SendEvent(child, RunNames.CancelEvent, end.Status.ToWire());
        await context.CallActivityAsync(nameof(FinishRun), end);
        // The run's output stays the status's text (as is the event above, which KieItem reads as a string).
        return end.Status.ToWire();
    }
}

/// <summary>Runs the nodes of one run: items, fan-out and fan-in, retries, and the KIE and render paths.</summary>
internal sealed class NodeScheduler(TaskOrchestrationContext context, string jobId)
{
    private readonly HashSet<string> _children = new(StringComparer.Ordinal);

    /// <summary>The KIE item and publication orchestrations started and not yet finished (a run that ends stops them).</summary>
    public IReadOnlyCollection<string> ChildrenInFlight => _children;

    public async Task<NodeOutcome> RunAsync(RunStep node)
    {
        if (!node.FansOut) return await RunItemAsync(node, 0);
        var count = await context.CallActivityAsync<int>(nameof(ExpandNode), new NodeCall(jobId, node.Id, -1));
        var outcomes = await Task.WhenAll(Enumerable.Range(0, count).Select(item => RunItemAsync(node, item)));
        if (outcomes.FirstOrDefault(o => o.Kind != OutcomeKind.Succeeded) is { } failed) return failed;
        await context.CallActivityAsync(nameof(FanIn), new NodeCall(jobId, node.Id, -1));
        return NodeOutcome.Success;
    }

    private async Task<NodeOutcome> RunItemAsync(RunStep node, int item)
    {
        switch (node.Route)
        {
            case NodeRoute.Kie:
                return await GenerateAsync(node, new NodeCall(jobId, node.Id, item));
            case NodeRoute.Render:
                return await Retries.RunAsync(context, node.Retry, new NodeCall(jobId, node.Id, item), call => RenderAsync(node, call));
            case NodeRoute.Publish:
                return await PublishAsync(node, new NodeCall(jobId, node.Id, item));
            default:
                return await Retries.RunAsync(context, node.Retry, new NodeCall(jobId, node.Id, item),
                    call => context.CallActivityAsync<NodeOutcome>(nameof(ExecuteNode), call));
        }
    }

    /// <summary>A KIE generation item: its own orchestration, which runs the node's retries.</summary>
    private async Task<NodeOutcome> GenerateAsync(RunStep node, NodeCall call)
    {
        var instance = RunNames.KieItemInstance(call.JobId, call.NodeId, call.Item);
        _children.Add(instance);
        try
        {
            return await context.CallSubOrchestratorAsync<NodeOutcome>(nameof(KieItem), new KieItemRun(call, node.Retry),
                new SubOrchestrationOptions { InstanceId = instance });
        }
        catch (TaskFailedException e)
        {
            // The generation's orchestration itself broke (a bug): the item fails with its error, recorded like any other.
            return await context.CallActivityAsync<NodeOutcome>(nameof(RecordOutcome),
                new RecordedOutcome(call, NodeOutcome.Failure(call.Item, "ACTIVITY_ERROR", e.FailureDetails.ErrorMessage)));
        }
        finally
        {
            _children.Remove(instance);
        }
    }

    /// <summary>
    /// An Output.Publish item: its publication filed by an activity, then published by its own orchestration (instance id
    /// = publication id), which the run waits for like a generation (and passes its cancel on to).
    /// </summary>
    private async Task<NodeOutcome> PublishAsync(RunStep node, NodeCall call)
    {
        string? publication = null;
        try
        {
            var filed = await context.CallActivityAsync<FiledPublication>(nameof(FilePublication), call);
            if (filed.PublicationId is null) return filed.Instead!;
            publication = filed.PublicationId;
            _children.Add(publication);
            await context.CallSubOrchestratorAsync<string>(nameof(PublishRun), publication, new SubOrchestrationOptions { InstanceId = publication });
            return await context.CallActivityAsync<NodeOutcome>(nameof(RecordPublication), new PublishedItem(call, publication));
        }
        catch (TaskFailedException e)
        {
            // Filing, the publication's orchestration or the recording broke (a bug, the database away): the item fails with its error.
            return await context.CallActivityAsync<NodeOutcome>(nameof(RecordOutcome),
                new RecordedOutcome(call, NodeOutcome.Failure(call.Item, "ACTIVITY_ERROR", e.FailureDetails.ErrorMessage)));
        }
        finally
        {
            if (publication is not null) _children.Remove(publication);
        }
    }

    /// <summary>
    /// A render: the request goes to the render queue, the render container reports back by event; a render that never
    /// reports back fails at the node's timeout (plus the time a request may wait in the queue).
    /// </summary>
    private async Task<NodeOutcome> RenderAsync(RunStep node, NodeCall call)
    {
        var requestId = $"{call.Key}:{call.Attempt}";
        using var stop = new CancellationTokenSource();
        var reported = context.WaitForExternalEvent<NodeOutcome>(RunNames.RenderEvent(requestId), stop.Token);
        if (await context.CallActivityAsync<NodeOutcome?>(nameof(SubmitRender), new RenderSubmission(call, requestId)) is { } refused)
        {
            stop.Cancel(); // synchronously: an orchestrator awaits nothing but durable tasks
            return refused;
        }
        var deadline = context.CreateTimer(context.CurrentUtcDateTime + node.Retry.Timeout + RenderQueues.QueueWait, stop.Token);
        var first = await Task.WhenAny(reported, deadline);
        stop.Cancel(); // synchronously: an orchestrator awaits nothing but durable tasks
        if (first == reported) return reported.Result;
        return await context.CallActivityAsync<NodeOutcome>(nameof(RecordOutcome), new RecordedOutcome(call,
            NodeOutcome.Failure(call.Item, "RENDER_TIMEOUT", $"The render did not report back within {(node.Retry.Timeout + RenderQueues.QueueWait).TotalMinutes:0} minutes.")));
    }
}

/// <summary>The retry loop of a node item: attempts with the node's policy on durable timers.</summary>
internal static class Retries
{
    private const int MaxWaits = 500;

    /// <summary>
    /// Runs attempts until one succeeds, fails for good or runs out: a failed attempt waits the policy's backoff (jitter
    /// derived from the item, so replays wait the same), a "retry later" waits its delay without using an attempt.
    /// </summary>
    public static async Task<NodeOutcome> RunAsync(TaskOrchestrationContext context, RetryPolicy policy, NodeCall first, Func<NodeCall, Task<NodeOutcome>> attempt)
    {
        var call = first;
        // Bounded by the attempts and by MaxWaits "retry later"s (a provider that asks to wait for ever is given up on).
        for (var waits = 0; waits < MaxWaits;)
        {
            NodeOutcome outcome;
            try
            {
                outcome = await attempt(call);
            }
            catch (TaskFailedException e)
            {
                // An activity itself broke (a worker stopping mid-call, a bug): an ordinary failed attempt, recorded as one.
                outcome = await context.CallActivityAsync<NodeOutcome>(nameof(RecordOutcome),
                    new RecordedOutcome(call, NodeOutcome.Failure(call.Item, "ACTIVITY_ERROR", e.FailureDetails.ErrorMessage)));
            }
            switch (outcome)
            {
                case { Kind: OutcomeKind.RetryLater }:
                    waits++;
                    await WaitAsync(context, TimeSpan.FromSeconds(Math.Max(0.1, outcome.RetryInSeconds)));
                    continue;
                case { Kind: OutcomeKind.Failed, Permanent: false } when call.Attempt < policy.MaxAttempts:
                    await WaitAsync(context, policy.Backoff(call.Attempt, call.Key));
                    call = call with { Attempt = call.Attempt + 1 };
                    continue;
                default:
                    return outcome;
            }
        }
        return NodeOutcome.Failure(first.Item, "WAITED_TOO_LONG", $"Asked to wait {MaxWaits} times; given up.", permanent: true);
    }

    /// <summary>
    /// A durable wait of at least <paramref name="delay"/>. The Azure Storage backend schedules timers as queue messages
    /// whose visibility is whole seconds, so a timer can fire up to a second early; it is re-armed for what is left.
    /// </summary>
    public static async Task WaitAsync(TaskOrchestrationContext context, TimeSpan delay)
    {
        var due = context.CurrentUtcDateTime + delay;
        for (var rearmed = 0; rearmed < 20 && context.CurrentUtcDateTime < due; rearmed++)
            await context.CreateTimer(due, CancellationToken.None);
    }
}
