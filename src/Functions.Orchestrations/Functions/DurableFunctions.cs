using FentaWeb.Orchestrations.Publishing;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Orchestrations.Webhooks;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs;
using FentaWeb.Runs.Publishing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Functions;

/// <summary>
/// The Function app's durable functions: thin wrappers over the same orchestrator and activity classes the local
/// worker registers (<see cref="RunTasks"/>), so one class is one function in both hosts.
/// </summary>
public static class DurableFunctions
{
    [Function(nameof(JobRun))]
    public static Task<string> JobRun([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new JobRun().RunAsync(context, context.GetInput<string>()!);

    [Function(nameof(KieItem))]
    public static Task<NodeOutcome> KieItem([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new KieItem().RunAsync(context, context.GetInput<KieItemRun>()!);

    [Function(nameof(DeliverWebhook))]
    public static Task<string> DeliverWebhook([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new DeliverWebhook().RunAsync(context, context.GetInput<WebhookDispatch>()!);

    [Function(nameof(PublishRun))]
    public static Task<string> PublishRun([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new PublishRun().RunAsync(context, context.GetInput<string>()!);

    [Function(nameof(PublishTarget))]
    public static Task<string> PublishTarget([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new PublishTarget().RunAsync(context, context.GetInput<string>()!);

    [Function(nameof(LoadRun))]
    public static Task<RunPlan?> LoadRun([ActivityTrigger] string jobId, FunctionContext function) => Activity<LoadRun>(function).RunAsync(Context(function), jobId);

    [Function(nameof(ExecuteNode))]
    public static Task<NodeOutcome> ExecuteNode([ActivityTrigger] NodeCall call, FunctionContext function) => Activity<ExecuteNode>(function).RunAsync(Context(function), call);

    [Function(nameof(RecordOutcome))]
    public static Task<NodeOutcome> RecordOutcome([ActivityTrigger] RecordedOutcome outcome, FunctionContext function) =>
        Activity<RecordOutcome>(function).RunAsync(Context(function), outcome);

    [Function(nameof(ExpandNode))]
    public static Task<int> ExpandNode([ActivityTrigger] NodeCall call, FunctionContext function) => Activity<ExpandNode>(function).RunAsync(Context(function), call);

    [Function(nameof(FanIn))]
    public static Task<bool> FanIn([ActivityTrigger] NodeCall call, FunctionContext function) => Activity<FanIn>(function).RunAsync(Context(function), call);

    [Function(nameof(FinishRun))]
    public static Task<bool> FinishRun([ActivityTrigger] RunEnd end, FunctionContext function) => Activity<FinishRun>(function).RunAsync(Context(function), end);

    [Function(nameof(SubmitRender))]
    public static Task<NodeOutcome?> SubmitRender([ActivityTrigger] RenderSubmission submission, FunctionContext function) =>
        Activity<SubmitRender>(function).RunAsync(Context(function), submission);

    [Function(nameof(KieCreate))]
    public static Task<KieCreated> KieCreate([ActivityTrigger] NodeCall call, FunctionContext function) => Activity<KieCreate>(function).RunAsync(Context(function), call);

    [Function(nameof(KieCheck))]
    public static Task<KieChecked> KieCheck([ActivityTrigger] KieStep step, FunctionContext function) => Activity<KieCheck>(function).RunAsync(Context(function), step);

    [Function(nameof(KieCollect))]
    public static Task<NodeOutcome> KieCollect([ActivityTrigger] KieStep step, FunctionContext function) => Activity<KieCollect>(function).RunAsync(Context(function), step);

    [Function(nameof(KieExpire))]
    public static Task<NodeOutcome> KieExpire([ActivityTrigger] KieStep step, FunctionContext function) => Activity<KieExpire>(function).RunAsync(Context(function), step);

    [Function(nameof(PostWebhook))]
    public static Task<WebhookAttempt> PostWebhook([ActivityTrigger] WebhookDispatch dispatch, FunctionContext function) =>
        Activity<PostWebhook>(function).RunAsync(Context(function), dispatch);

    [Function(nameof(FilePublication))]
    public static Task<FiledPublication> FilePublication([ActivityTrigger] NodeCall call, FunctionContext function) =>
        Activity<FilePublication>(function).RunAsync(Context(function), call);

    [Function(nameof(RecordPublication))]
    public static Task<NodeOutcome> RecordPublication([ActivityTrigger] PublishedItem item, FunctionContext function) =>
        Activity<RecordPublication>(function).RunAsync(Context(function), item);

    [Function(nameof(StartPublication))]
    public static Task<List<string>> StartPublication([ActivityTrigger] string publicationId, FunctionContext function) =>
        Activity<StartPublication>(function).RunAsync(Context(function), publicationId);

    [Function(nameof(StepTarget))]
    public static Task<TargetProgress> StepTarget([ActivityTrigger] string targetId, FunctionContext function) =>
        Activity<StepTarget>(function).RunAsync(Context(function), targetId);

    [Function(nameof(FinishPublication))]
    public static Task<string> FinishPublication([ActivityTrigger] PublicationEnd end, FunctionContext function) =>
        Activity<FinishPublication>(function).RunAsync(Context(function), end);

    private static T Activity<T>(FunctionContext function) where T : class => ActivatorUtilities.GetServiceOrCreateInstance<T>(function.InstanceServices);

    private static FunctionActivityContext Context(FunctionContext function) =>
        new(function.FunctionDefinition.Name, function.BindingContext.BindingData.TryGetValue("instanceId", out var id) ? id as string ?? "" : "");

    /// <summary>The activity's view of its invocation; our activities read nothing from it.</summary>
    private sealed class FunctionActivityContext(TaskName name, string instanceId) : TaskActivityContext
    {
        public override TaskName Name { get; } = name;
        public override string InstanceId { get; } = instanceId;
    }
}
