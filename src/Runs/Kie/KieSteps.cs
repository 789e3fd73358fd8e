using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Kie;
using Microsoft.DurableTask;
using Npgsql;

namespace FentaWeb.Runs.Kie;

public sealed record KieCreated(KieTask? Task, NodeOutcome? Instead);

public sealed record KieStep(NodeCall Call, KieTask Task, IReadOnlyList<string>? ResultUrls = null);

/// <summary>What a check tells the orchestrator: the task's state, and for a failure the outcome already recorded.</summary>
public sealed record KieChecked(KieState State, IReadOnlyList<string> ResultUrls, double NextPollSeconds, NodeOutcome? Failure);

// The durable steps of a KIE item (the KieItem sub-orchestration calls them by name): each prepares the node item as
// an activity execution would, hands the KIE side to KieGeneration, and records an outcome when the item ends here.

/// <summary>Creates this attempt's KIE task, or finds the one a previous execution of this step created.</summary>
public sealed class KieCreate(NpgsqlDataSource db, NodeExecutor executor, KieGeneration kie) : TaskActivity<NodeCall, KieCreated>
{
    public override async Task<KieCreated> RunAsync(TaskActivityContext context, NodeCall call)
    {
        var (work, instead) = await executor.PrepareAsync(call, CancellationToken.None);
        if (work is null) return new KieCreated(null, instead);
        KieTask? task;
        ActivityResult? result;
        try
        {
            (task, result) = await kie.CreateAsync(work.Context, CancellationToken.None);
        }
        catch (ProviderException e)
        {
            (task, result) = (null, ActivityResult.Of(e));
        }
        if (task is null) return new KieCreated(null, await executor.RecordAsync(call, work.Node, result!, CancellationToken.None));
        await RunStore.WaitingAsync(db, call, CancellationToken.None);
        return new KieCreated(task, null);
    }
}

/// <summary>Reads the task back from KIE (after a callback or a poll); a failure ends the item here.</summary>
public sealed class KieCheck(NpgsqlDataSource db, NodeExecutor executor, KieGeneration kie) : TaskActivity<KieStep, KieChecked>
{
    public override async Task<KieChecked> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return new KieChecked(KieState.Failed, [], 0, instead);
        var progress = await kie.CheckAsync(work.Context, step.Task, CancellationToken.None);
        if (progress.Failure is { } failure)
            return new KieChecked(KieState.Failed, [], 0, await executor.RecordAsync(step.Call, work.Node, failure, CancellationToken.None));
        if (progress.State == KieState.Pending) await RunStore.WaitingAsync(db, step.Call, CancellationToken.None);
        return new KieChecked(progress.State, progress.ResultUrls, progress.NextPollSeconds, null);
    }
}

/// <summary>Downloads a finished task's files as the item's assets and records its success.</summary>
public sealed class KieCollect(NodeExecutor executor, KieGeneration kie) : TaskActivity<KieStep, NodeOutcome>
{
    public override async Task<NodeOutcome> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return instead!;
        ActivityResult result;
        try
        {
            result = await kie.CollectAsync(work.Context, step.Task, step.ResultUrls ?? [], CancellationToken.None);
        }
        catch (ProviderException e)
        {
            result = ActivityResult.Of(e);
        }
        return await executor.RecordAsync(step.Call, work.Node, result, CancellationToken.None);
    }
}

/// <summary>The task passed its deadline: the item fails with <c>KIE_DEADLINE</c>.</summary>
public sealed class KieExpire(NodeExecutor executor, KieGeneration kie) : TaskActivity<KieStep, NodeOutcome>
{
    public override async Task<NodeOutcome> RunAsync(TaskActivityContext context, KieStep step)
    {
        var (work, instead) = await executor.PrepareAsync(step.Call, CancellationToken.None);
        if (work is null) return instead!;
        var failed = await kie.ExpireAsync(work.Context, step.Task, CancellationToken.None);
        return await executor.RecordAsync(step.Call, work.Node, failed, CancellationToken.None);
    }
}
