using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using FentaWeb.Runs.Publishing;
using Microsoft.DurableTask;
using Npgsql;

namespace FentaWeb.Orchestrations.Runs;

public sealed record RecordedOutcome(NodeCall Call, NodeOutcome Outcome);

/// <summary>The run starts: the job is processing, and the orchestrator gets its plan (ids, order, policies).</summary>
public sealed class LoadRun(NpgsqlDataSource db, NodeExecutor executor, PaidProviders providers) : TaskActivity<string, RunPlan?>
{
    public override async Task<RunPlan?> RunAsync(TaskActivityContext context, string jobId)
    {
        using var span = Telemetry.StartJobSpan("job run", (await executor.TraceAsync(jobId)).TraceParent, jobId);
        if (await RunStore.MarkProcessingAsync(db, jobId, CancellationToken.None) is not JobStatus.Processing || await executor.PlanAsync(jobId) is not { } plan)
            return null;
        var done = await RunStore.SucceededNodesAsync(db, jobId, CancellationToken.None);
        return new RunPlan(jobId, plan.Order.Select(id => plan.Nodes[id]).Select(node => new RunStep(
            node.Id, node.Predecessors, node.FansOut, RouteOf(node), node.Retry, done.Contains(node.Id))).ToList());
    }

    private NodeRoute RouteOf(CompiledNode node) =>
        providers.KieRouteOf(node.Definition.Type, node.Params) == KieRoute.Kie ? NodeRoute.Kie
        : node.Definition.Queue == NodeQueues.Render ? NodeRoute.Render
        : node.Definition.Type == "Output.Publish" ? NodeRoute.Publish
        : NodeRoute.Activity;
}

/// <summary>One attempt at one node item, with its node activity.</summary>
public sealed class ExecuteNode(NodeExecutor executor) : TaskActivity<NodeCall, NodeOutcome>
{
    public override Task<NodeOutcome> RunAsync(TaskActivityContext context, NodeCall call) => executor.ExecuteAsync(call, CancellationToken.None);
}

/// <summary>Writes an outcome decided outside an activity (a render's deadline, a broken activity) as an activity would.</summary>
public sealed class RecordOutcome(NodeExecutor executor) : TaskActivity<RecordedOutcome, NodeOutcome>
{
    public override async Task<NodeOutcome> RunAsync(TaskActivityContext context, RecordedOutcome input)
    {
        var node = (await executor.PlanAsync(input.Call.JobId))?.Nodes[input.Call.NodeId];
        if (node is null || input.Outcome.Kind != OutcomeKind.Failed) return input.Outcome;
        return await executor.RecordAsync(input.Call, node,
            new ActivityResult.Failed(input.Outcome.Code!, input.Outcome.Message!, input.Outcome.Permanent), CancellationToken.None);
    }
}

/// <summary>A fanned-out node learns its items from the list on the port it fans out over (<see cref="CompiledNode.FanOutPort"/>); returns how many.</summary>
public sealed class ExpandNode(NpgsqlDataSource db, NodeExecutor executor) : TaskActivity<NodeCall, int>
{
    public override async Task<int> RunAsync(TaskActivityContext context, NodeCall call)
    {
        var node = (await executor.PlanAsync(call.JobId))!.Nodes[call.NodeId];
        var inputs = await executor.InputsAsync(call.JobId, node, CancellationToken.None);
        var items = CompiledGraph.FanOutItems(inputs[node.FanOutPort!]);
        await RunStore.ExpandAsync(db, call.JobId, call.NodeId, node.Definition.Type, items, CancellationToken.None);
        return items.Count;
    }
}

/// <summary>A fanned-out node is done: its value is its items' outputs, in item order.</summary>
public sealed class FanIn(NpgsqlDataSource db) : TaskActivity<NodeCall, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, NodeCall call)
    {
        var outputs = await RunStore.ItemOutputsAsync(db, call.JobId, call.NodeId, CancellationToken.None);
        await RunStore.SucceedAsync(db, call.JobId, call.NodeId, -1, CompiledGraph.Aggregate(outputs), wholeNode: true, CancellationToken.None);
        return true;
    }
}

/// <summary>The run ended: the job's final status, result or error, and its unfinished nodes cancelled.</summary>
public sealed class FinishRun(NpgsqlDataSource db, NodeExecutor executor) : TaskActivity<RunEnd, bool>
{
    public override async Task<bool> RunAsync(TaskActivityContext context, RunEnd end)
    {
        var trace = await executor.TraceAsync(end.JobId);
        using var span = Telemetry.StartJobSpan("job finish", trace.TraceParent, end.JobId);
        span?.SetTag("fenta.status", end.Status.ToWire());
        var plan = await executor.PlanAsync(end.JobId);
        // Counted once, by the execution that ended the job (activities run at least once); a job the API cancelled
        // ended then, and was counted there.
        if (await RunStore.FinishAsync(db, end, plan?.Sinks.Select(n => n.Id).ToArray() ?? [], CancellationToken.None))
            Telemetry.JobsEnded(end.Status).Add(1, Telemetry.JobTags(trace.WorkflowId, plan));
        return true;
    }
}

/// <summary>An Output.Publish item files its publication (<see cref="PublishNode"/>).</summary>
public sealed class FilePublication(PublishNode publish) : TaskActivity<NodeCall, FiledPublication>
{
    public override Task<FiledPublication> RunAsync(TaskActivityContext context, NodeCall call) => publish.FileAsync(call, CancellationToken.None);
}

public sealed record PublishedItem(NodeCall Call, string PublicationId);

/// <summary>An Output.Publish item's outcome, once its publication ended.</summary>
public sealed class RecordPublication(PublishNode publish) : TaskActivity<PublishedItem, NodeOutcome>
{
    public override Task<NodeOutcome> RunAsync(TaskActivityContext context, PublishedItem item) => publish.RecordAsync(item.Call, item.PublicationId, CancellationToken.None);
}
