using FentaWeb.Runs;
using FentaWeb.Runs.Publishing;
using Microsoft.DurableTask;
using Npgsql;

namespace FentaWeb.Orchestrations.Publishing;

/// <summary>
/// One publication (instance id = publication id): its targets each in a sub-orchestration of their own
/// (<c>{publication}:{target}</c>), in parallel; then its end and webhook event. A <c>cancel</c> event (the API's cancel,
/// or the job's run ending) is passed on to the targets still running.
/// </summary>
public sealed class PublishRun : TaskOrchestrator<string, string>
{
    public override async Task<string> RunAsync(TaskOrchestrationContext context, string publicationId)
    {
        var targets = await context.CallActivityAsync<List<string>>(nameof(StartPublication), publicationId);
        var cancel = context.WaitForExternalEvent<string>(RunNames.CancelEvent);
        var running = targets.Select(target => context.CallSubOrchestratorAsync<string>(nameof(PublishTarget), target,
            new SubOrchestrationOptions { InstanceId = TargetInstance(publicationId, target) })).ToList();
        var cancelled = await Task.WhenAny(Task.WhenAll(running), cancel) == cancel;
        if (cancelled)
            foreach (var target in targets) context.SendEvent(TargetInstance(publicationId, target), RunNames.CancelEvent, "cancelled");
        return await context.CallActivityAsync<string>(nameof(FinishPublication), new PublicationEnd(publicationId, cancelled));
    }

    public static string TargetInstance(string publicationId, string targetId) => $"{publicationId}:{targetId}";
}

/// <summary>
/// One target: steps until it is finished, waiting between steps on durable timers as long as the platform asks (a
/// processing video, a quota that resets at midnight), so no worker is held. The history is bounded: after
/// <see cref="StepsPerGeneration"/> steps it continues as new.
/// </summary>
public sealed class PublishTarget : TaskOrchestrator<string, string>
{
    private const int StepsPerGeneration = 50;

    public override async Task<string> RunAsync(TaskOrchestrationContext context, string targetId)
    {
        var cancel = context.WaitForExternalEvent<string>(RunNames.CancelEvent);
        for (var step = 0; step < StepsPerGeneration; step++)
        {
            TargetProgress progress;
            try
            {
                progress = await context.CallActivityAsync<TargetProgress>(nameof(StepTarget), targetId);
            }
            catch (TaskFailedException)
            {
                // The step itself broke (a worker stopping mid-call, the database away): step again after a pause.
                progress = new TargetProgress(false, "retry_later", 30);
            }
            if (progress.Finished) return progress.Status;
            using var stop = new CancellationTokenSource();
            var timer = context.CreateTimer(TimeSpan.FromSeconds(Math.Max(1, progress.WaitSeconds)), stop.Token);
            if (await Task.WhenAny(timer, cancel) == cancel) return "cancelled";
            stop.Cancel(); // synchronously: an orchestrator awaits nothing but durable tasks
        }
        context.ContinueAsNew(targetId);
        return "continued";
    }
}

public sealed class StartPublication(NpgsqlDataSource db) : TaskActivity<string, List<string>>
{
    public override async Task<List<string>> RunAsync(TaskActivityContext context, string publicationId) =>
        [.. await PublicationStore.StartAsync(db, publicationId, CancellationToken.None)];
}

public sealed class StepTarget(TargetPublisher publisher) : TaskActivity<string, TargetProgress>
{
    public override Task<TargetProgress> RunAsync(TaskActivityContext context, string targetId) => publisher.StepAsync(targetId, CancellationToken.None);
}

public sealed record PublicationEnd(string PublicationId, bool Cancelled);

/// <summary>The publication's end: cancelled (its unfinished targets with it), or as its targets came out.</summary>
public sealed class FinishPublication(NpgsqlDataSource db) : TaskActivity<PublicationEnd, string>
{
    public override async Task<string> RunAsync(TaskActivityContext context, PublicationEnd end)
    {
        if (end.Cancelled) await PublicationStore.CancelAsync(db, null, end.PublicationId, CancellationToken.None);
        return await PublicationStore.FinishAsync(db, end.PublicationId, CancellationToken.None);
    }
}
