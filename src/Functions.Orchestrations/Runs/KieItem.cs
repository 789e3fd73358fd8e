using FentaWeb.Domain.Engine;
using FentaWeb.Orchestrations.Activities;
using FentaWeb.Orchestrations.Providers;
using Microsoft.DurableTask;
using Npgsql;
using RetryPolicy = FentaWeb.Domain.Workflows.RetryPolicy;

namespace FentaWeb.Orchestrations.Runs;

public sealed record KieCreated(KieTask? Task, NodeOutcome? Instead);

public sealed record KieStep(NodeCall Call, KieTask Task, IReadOnlyList<string>? ResultUrls = null);

/// <summary>What a check tells the orchestrator: the task's state, and for a failure the outcome already recorded.</summary>
public sealed record KieChecked(KieState State, IReadOnlyList<string> ResultUrls, double NextPollSeconds, NodeOutcome? Failure);

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

/// <summary>Creates this attempt's KIE task, or finds the one a previous execution of this step created.</summary>
public sealed class KieCreate(NpgsqlDataSource db, NodeExecutor executor) : TaskActivity<NodeCall, KieCreated>
{
    public override async Task<KieCreated> RunAsync(TaskActivityContext context, NodeCall call)
    {
        var (work, instead) = await executor.PrepareAsync(call, CancellationToken.None);
        if (work is null) return new KieCreated(null, instead);
        KieTask? task;
        ActivityResult? result;
        try
        {
            (task, result) = await ((KaiGenerationActivity)work.Activity!).CreateAsync(work.Context, CancellationToken.None);
        }
        catch (ProviderException e)
        {
            (task, result) = (null, e.ToResult());
        }
        if (task is null) return new KieCreated(null, await executor.RecordAsync(call, work.Node, result!, CancellationToken.None));
        await RunStore.WaitingAsync(db, call, CancellationToken.None);
        return new KieCreated(task, null);
    }
}

public sealed class KieCheck(NpgsqlDataSource db, NodeExecutor executor) : TaskActivity<KieStep, KieChecked>
{
    public override async Task<KieChecked> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return new KieChecked(KieState.Failed, [], 0, instead);
        var progress = await ((KaiGenerationActivity)work.Activity!).CheckAsync(work.Context, step.Task, CancellationToken.None);
        if (progress.Failure is { } failure)
            return new KieChecked(KieState.Failed, [], 0, await executor.RecordAsync(step.Call, work.Node, failure, CancellationToken.None));
        if (progress.State == KieState.Pending) await RunStore.WaitingAsync(db, step.Call, CancellationToken.None);
        return new KieChecked(progress.State, progress.ResultUrls, progress.NextPollSeconds, null);
    }
}

public sealed class KieCollect(NodeExecutor executor) : TaskActivity<KieStep, NodeOutcome>
{
    public override async Task<NodeOutcome> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return instead!;
        ActivityResult result;
        try
        {
            result = await ((KaiGenerationActivity)work.Activity!).CollectAsync(work.Context, step.Task, step.ResultUrls ?? [], CancellationToken.None);
        }
        catch (ProviderException e)
        {
            result = e.ToResult();
        }
        return await executor.RecordAsync(step.Call, work.Node, result, CancellationToken.None);
    }
}

public sealed class KieExpire(NodeExecutor executor) : TaskActivity<KieStep, NodeOutcome>
{
    public override async Task<NodeOutcome> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return instead!;
        var failed = await ((KaiGenerationActivity)work.Activity!).ExpireAsync(work.Context, step.Task, CancellationToken.None);
        return await executor.RecordAsync(step.Call, work.Node, failed, CancellationToken.None);
    }
}
