using FentaWeb.Integrations.Kie;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs;
using Microsoft.DurableTask;
using RetryPolicy = FentaWeb.Domain.Workflows.RetryPolicy;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>What a KIE item's orchestration needs: its first call and the node's retry policy.</summary>
public sealed record KieItemRun(NodeCall Call, RetryPolicy Retry);

/// <summary>
/// One item of a KIE generation node, as a sub-orchestration of its run (instance id <c>{job}:{node}:{item}</c>), with
/// the node's retry loop: each attempt creates the task (or finds the one recorded) → waits for KIE's callback (raised
/// here by the callback endpoint) raced with a polling timer → checks → … until it succeeds (collect the files), fails,
/// or passes its deadline (<c>KIE_DEADLINE</c>). A <c>cancel</c> event (the run passes its own on) stops the wait.
/// Its own instance keeps the run's history small however long the generations poll.
/// </summary>
public sealed class KieItem : TaskOrchestrator<KieItemRun, NodeOutcome>
{
    public override Task<NodeOutcome> RunAsync(TaskOrchestrationContext context, KieItemRun run)
    {
        var cancel = context.WaitForExternalEvent<string>(RunNames.CancelEvent);
        return Retries.RunAsync(context, run.Retry, run.Call, call => GenerateAsync(context, call, cancel));
    }

    private static async Task<NodeOutcome> GenerateAsync(TaskOrchestrationContext context, NodeCall call, Task cancel)
    {
        var created = await context.CallActivityAsync<KieCreated>(nameof(KieCreate), call);
        if (created.Task is not { } task) return created.Instead!;
        var deadline = task.SubmittedUtc.AddSeconds(task.DeadlineSeconds);
        var poll = task.PollSeconds;
        // Each round waits at least a poll interval, so the deadline bounds the loop (and the history).
        while (context.CurrentUtcDateTime <= deadline)
        {
            using var stop = new CancellationTokenSource();
            var callback = context.WaitForExternalEvent<string>(RunNames.KieCallbackEvent, stop.Token);
            var timer = context.CreateTimer(TimeSpan.FromSeconds(poll), stop.Token);
            var first = await Task.WhenAny(callback, timer, cancel);
            stop.Cancel(); // synchronously: an orchestrator awaits nothing but durable tasks
            if (first == cancel) return NodeOutcome.Cancelled(call.Item);

            var check = await context.CallActivityAsync<KieChecked>(nameof(KieCheck), new KieStep(call, task));
            if (check.Failure is { } failed) return failed;
            if (check.State == KieState.Succeeded) return await context.CallActivityAsync<NodeOutcome>(nameof(KieCollect), new KieStep(call, task, check.ResultUrls));
            poll = check.NextPollSeconds;
        }
        return await context.CallActivityAsync<NodeOutcome>(nameof(KieExpire), new KieStep(call, task));
    }
}
