using Microsoft.DurableTask;

namespace FentaWeb.Orchestrations.Runs;

/// <summary>Every orchestrator and activity of a run, for the local worker (Functions registers them by their [Function] wrappers).</summary>
public static class RunTasks
{
    public static void Register(DurableTaskRegistry tasks) => tasks
        .AddOrchestrator<RunWorkflow>()
        .AddOrchestrator<KieItem>()
        .AddActivity<LoadRun>()
        .AddActivity<RunNode>()
        .AddActivity<RecordOutcome>()
        .AddActivity<ExpandNode>()
        .AddActivity<FanIn>()
        .AddActivity<FinishRun>()
        .AddActivity<SubmitRender>()
        .AddActivity<KieCreate>()
        .AddActivity<KieCheck>()
        .AddActivity<KieCollect>()
        .AddActivity<KieExpire>();
}
