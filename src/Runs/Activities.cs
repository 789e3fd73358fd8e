using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;

namespace FentaWeb.Runs;

/// <summary>What a node activity tells its run. Exceptions count as <see cref="ActivityResult.Failed"/> (retryable).</summary>
public abstract record ActivityResult
{
    private ActivityResult() { }

    /// <summary>Done; <paramref name="Output"/> is the value of the node's output port.</summary>
    public sealed record Succeeded(JsonElement Output) : ActivityResult;

    /// <summary>
    /// Not done yet, and not a failure: run again after <paramref name="Delay"/> (a durable timer). Does not use up an
    /// attempt (rate limits, maintenance windows).
    /// </summary>
    public sealed record RetryLater(TimeSpan Delay, string Reason) : ActivityResult;

    /// <summary>Failed. A permanent failure is never retried; otherwise the node type's retry policy decides.</summary>
    public sealed record Failed(string Code, string Message, bool Permanent = false) : ActivityResult;

    public static Succeeded Done<T>(T output) => new(JsonSerializer.SerializeToElement(output, FentaJson.Options));

    /// <summary>The outcome an external service's refusal names: later (a rate limit), or a failure, permanent or not.</summary>
    public static ActivityResult Of(ProviderException refusal) => refusal.RetryAfter is { } wait
        ? new RetryLater(wait, $"{refusal.Code}: {refusal.Message}")
        : new Failed(refusal.Code, refusal.Message, refusal.Permanent);
}

/// <summary>Everything an activity execution gets: its params, inputs, fan-out item and durable handles.</summary>
public sealed class ActivityContext(
    string jobId,
    string orgId,
    string nodeId,
    string nodeType,
    int itemIndex,
    int attempt,
    IReadOnlyDictionary<string, JsonElement> parameters,
    IReadOnlyDictionary<string, JsonElement> inputs,
    JsonElement? item,
    string? externalRef,
    Func<string, CancellationToken, Task> recordExternalRef,
    Func<string, string, object?, CancellationToken, Task> log,
    Func<double, CancellationToken, Task>? reportProgress = null)
{
    public string JobId { get; } = jobId;
    public string OrgId { get; } = orgId;
    public string NodeId { get; } = nodeId;
    public string NodeType { get; } = nodeType;
    /// <summary>The item of a fanned-out node (0-based), or 0 for an ordinary node.</summary>
    public int ItemIndex { get; } = itemIndex;
    /// <summary>1 on the first execution; waits (<see cref="ActivityResult.RetryLater"/>) do not raise it.</summary>
    public int Attempt { get; } = attempt;
    /// <summary>The node's params with defaults and workflow variables applied.</summary>
    public IReadOnlyDictionary<string, JsonElement> Params { get; } = parameters;
    /// <summary>Input port name → value (the upstream node's output; several edges into one port are concatenated).</summary>
    public IReadOnlyDictionary<string, JsonElement> Inputs { get; } = inputs;
    /// <summary>For an item of a fanned-out node: this item's element of the fan-out list (e.g. one scene).</summary>
    public JsonElement? Item { get; } = item;
    /// <summary>What an earlier execution recorded with <see cref="RecordExternalRefAsync"/> (e.g. a KIE taskId).</summary>
    public string? ExternalRef { get; private set; } = externalRef;
    /// <summary>Stable across retries and restarts: hand it to external APIs so a repeated call is recognised.</summary>
    public string IdempotencyKey => $"{JobId}:{NodeId}:{ItemIndex}";

    /// <summary>
    /// Durably records the external id of a side effect before waiting on it, so that a restarted worker resumes
    /// (sees <see cref="ExternalRef"/>) instead of repeating the side effect.
    /// </summary>
    public async Task RecordExternalRefAsync(string externalRef, CancellationToken ct)
    {
        await recordExternalRef(externalRef, ct);
        ExternalRef = externalRef;
    }

    public Task LogAsync(string level, string message, object? data = null, CancellationToken ct = default) => log(level, message, data, ct);

    /// <summary>How far this node is (0-1); the job's progress moves with it, between its finished nodes and the next.</summary>
    public Task ReportProgressAsync(double fraction, CancellationToken ct = default) =>
        reportProgress?.Invoke(Math.Clamp(fraction, 0, 1), ct) ?? Task.CompletedTask;

    public T Param<T>(string name) => Params[name].Deserialize<T>(FentaJson.Options)!;
}

/// <summary>
/// The worker for one node type. Activities run at least once; their effects must happen once: use
/// <see cref="ActivityContext.IdempotencyKey"/> and <see cref="ActivityContext.RecordExternalRefAsync"/>.
/// </summary>
public interface INodeActivity
{
    string NodeType { get; }

    Task<ActivityResult> ExecuteAsync(ActivityContext context, CancellationToken ct);

    /// <summary>
    /// The metered spend an execution is expected to use (LLM tokens, render seconds), reserved against the run's budget
    /// before it runs; none for activities that use none. (KIE generations reserve their exact credits themselves.)
    /// </summary>
    Spend Expected(ActivityContext context) => Spend.None;
}

/// <summary>An activity whose params arrive as a typed <c>record</c> (River style: args + one worker).</summary>
public abstract class NodeActivity<TArgs> : INodeActivity
{
    public abstract string NodeType { get; }

    public Task<ActivityResult> ExecuteAsync(ActivityContext context, CancellationToken ct) => ExecuteAsync(context, ArgsOf(context.Params), ct);

    public Spend Expected(ActivityContext context) => Expected(context, ArgsOf(context.Params));

    protected virtual Spend Expected(ActivityContext context, TArgs args) => Spend.None;

    public static TArgs ArgsOf(IReadOnlyDictionary<string, JsonElement> parameters) =>
        JsonSerializer.SerializeToElement(parameters, FentaJson.Options).Deserialize<TArgs>(ArgsJson)!;

    protected abstract Task<ActivityResult> ExecuteAsync(ActivityContext context, TArgs args, CancellationToken ct);

    // Params carry defaults for every field the catalog knows; records may ignore the ones they do not use.
    private static readonly JsonSerializerOptions ArgsJson = new(FentaJson.Options)
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };
}
