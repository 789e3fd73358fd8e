using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Runs;

/// <summary>Names shared by the orchestrations and the processes that start, wake and stop them.</summary>
public static class RunNames
{
    public const string JobRun = "JobRun";
    /// <summary>A publication's orchestration (instance id = publication id).</summary>
    public const string PublishRun = "PublishRun";
    /// <summary>Raised on a run to stop it.</summary>
    public const string CancelEvent = "cancel";

    /// <summary>Raised by the KIE callback endpoint on the generation's own orchestration: a wake-up, not a result.</summary>
    public const string KieCallbackEvent = "kie-callback";

    /// <summary>The instance id of one item's KIE generation, a sub-orchestration of the run: <c>{job}:{node}:{item}</c>.</summary>
    public static string KieItemInstance(string jobId, string nodeId, int item) => new NodeCall(jobId, nodeId, item).Key;

    /// <summary>Raised on a run when the render container reports the outcome of a render request.</summary>
    public static string RenderEvent(string requestId) => $"render:{requestId}";
}

/// <summary>How a node item is run: an activity, a KIE generation (sub-orchestration), a render (queue) or a publication (sub-orchestration).</summary>
public enum NodeRoute { Activity, Kie, Render, Publish }

/// <summary>What the orchestrator knows of a job: ids, order and policies; never documents (outputs stay in PostgreSQL).</summary>
public sealed record RunPlan(string JobId, IReadOnlyList<RunStep> Nodes);

/// <param name="Done">Already succeeded when the run starts (reused by a retry, or a trigger).</param>
public sealed record RunStep(string Id, IReadOnlyList<string> Predecessors, bool FansOut, NodeRoute Route, RetryPolicy Retry, bool Done);

/// <summary>One execution of one item of one node (item 0 for an ordinary node).</summary>
public sealed record NodeCall(string JobId, string NodeId, int Item, int Attempt = 1)
{
    /// <summary>Stable across attempts and restarts: the seed of retry jitter and the key of external side effects.</summary>
    public string Key => $"{JobId}:{NodeId}:{Item}";
}

public enum OutcomeKind { Succeeded, Failed, RetryLater, Cancelled }

/// <summary>How an execution ended, as the orchestrator needs it: the output itself is already in PostgreSQL.</summary>
public sealed record NodeOutcome(OutcomeKind Kind, int Item = 0, string? Code = null, string? Message = null, bool Permanent = false, double RetryInSeconds = 0)
{
    public static readonly NodeOutcome Success = new(OutcomeKind.Succeeded);
    public static NodeOutcome Cancelled(int item) => new(OutcomeKind.Cancelled, item);
    public static NodeOutcome Failure(int item, string code, string message, bool permanent = false) => new(OutcomeKind.Failed, item, code, message, permanent);
}

/// <summary>How a run ended, written by the last activity of the run.</summary>
public sealed record RunEnd(string JobId, JobStatus Status, string? NodeId = null, NodeOutcome? Failure = null);
