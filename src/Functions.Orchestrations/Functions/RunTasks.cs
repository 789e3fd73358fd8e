using FentaWeb.Orchestrations.Publishing;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Orchestrations.Webhooks;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs;
using Microsoft.DurableTask;

namespace FentaWeb.Orchestrations.Functions;

/// <summary>
/// Every orchestrator and activity of the app, for the local worker; the Function app has a [Function] wrapper for
/// each (a test checks the two lists against the generated functions.metadata).
/// </summary>
public static class RunTasks
{
    public static readonly IReadOnlyList<Type> Orchestrators = [typeof(JobRun), typeof(KieItem), typeof(DeliverWebhook), typeof(PublishRun), typeof(PublishTarget)];

    public static readonly IReadOnlyList<Type> Activities =
    [
        typeof(LoadRun), typeof(ExecuteNode), typeof(RecordOutcome), typeof(ExpandNode), typeof(FanIn), typeof(FinishRun), typeof(SubmitRender),
        typeof(KieCreate), typeof(KieCheck), typeof(KieCollect), typeof(KieExpire), typeof(PostWebhook),
        typeof(FilePublication), typeof(RecordPublication), typeof(StartPublication), typeof(StepTarget), typeof(FinishPublication),
    ];

    public static void Register(DurableTaskRegistry tasks)
    {
        foreach (var orchestrator in Orchestrators) tasks.AddOrchestrator(orchestrator);
        foreach (var activity in Activities) tasks.AddActivity(activity);
    }
}
