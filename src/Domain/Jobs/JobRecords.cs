using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Jobs;

/// <summary>A job row as the API reads it. The runs write jobs with SQL (<see cref="RunStore"/>, <see cref="JobStarter"/>), never through EF.</summary>
/// <summary>
/// An API request that made a job, as a client would send it again: <paramref name="Body"/> is the JSON body the API
/// read (its fields in wire form), without headers (the Idempotency-Key and credentials are the caller's own).
/// </summary>
public sealed record JobOrigin(string Method, string Path, JsonElement? Body);

public sealed class Job : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? WorkflowId { get; init; }
    public int? WorkflowVersion { get; init; }
    public required JobStatus Status { get; init; }
    public int Progress { get; init; }
    public required JobConfig Config { get; init; }
    public JsonElement? Result { get; init; }
    public JsonElement? Error { get; init; }
    public int CostTokens { get; init; }
    public decimal CostRenderSeconds { get; init; }
    public int CostKaiCredits { get; init; }
    public decimal CostTotalUsd { get; init; }
    /// <summary>Why a paused job waits (an allowance of the free tier used up), and when it starts.</summary>
    public string? PausedReason { get; init; }
    public DateTimeOffset? ResumeAt { get; init; }
    /// <summary>What the run may spend (seed 000's budget), or null for no limit.</summary>
    public Billing.Budget? Budget { get; init; }
    public DateTimeOffset QueuedAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public int RetryCount { get; init; }
    public string? ParentJobId { get; init; }
    public string? IdempotencyKey { get; init; }
    public int NodeCount { get; init; }
    public int NodesDone { get; init; }
    public string? CreatedBy { get; init; }
    /// <summary>The W3C trace context the job was created in (every span of the job is in its trace); null on older jobs.</summary>
    public string? TraceParent { get; init; }
    /// <summary>The API request that made the job; null when a schedule started it.</summary>
    public JobOrigin? Request { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public bool IsFinished => Status.IsFinal();
}

public sealed class NodeRun
{
    public required string JobId { get; init; }
    public required string NodeId { get; init; }
    public int ItemIndex { get; init; }
    public required string NodeType { get; init; }
    public required string Status { get; init; }
    public int Attempt { get; init; }
    public int? ItemCount { get; init; }
    public JsonElement? Output { get; init; }
    public JsonElement? Error { get; init; }
    public string? ExternalRef { get; init; }
    public bool Reused { get; init; }
    public decimal CostUsd { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
}

public sealed class JobLog
{
    public long Id { get; init; }
    public required string JobId { get; init; }
    public required string Level { get; init; }
    public string? Stage { get; init; }
    public required string Message { get; init; }
    public JsonElement? Data { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
