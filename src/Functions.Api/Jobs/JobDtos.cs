using System.Text.Json;
using FentaWeb.Domain.Jobs;
using FentaWeb.Runs;

namespace FentaWeb.Api.Jobs;

/// <summary>Where to manage a job, as Durable Functions' check-status response lists them.</summary>
public sealed record JobUrls(string Status, string Cancel, string Retry, string Events, string Logs);

public sealed record JobCost(int Tokens, decimal RenderSeconds, int KaiCredits, decimal TotalUsd);

public sealed record ItemCounts(int Total, int Succeeded, int Failed, int Running);

public sealed record NodeDto(
    string NodeId,
    string Type,
    string Status,
    int Attempt,
    bool Reused,
    ItemCounts? Items,
    JsonElement? Output,
    JsonElement? Error,
    string? ExternalRef,
    decimal CostUsd,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt)
{
    public static NodeDto From(NodeRun n, ItemCounts? items) =>
        new(n.NodeId, n.NodeType, n.Status, n.Attempt, n.Reused, items, n.Output, n.Error, n.ExternalRef, n.CostUsd, n.StartedAt, n.CompletedAt);
}

public sealed record JobDto(
    string Id,
    string Status,
    string? PausedReason,
    DateTimeOffset? ResumeAt,
    int Progress,
    string? WorkflowId,
    int? WorkflowVersion,
    string? ParentJobId,
    int RetryCount,
    JobResult? Result,
    JsonElement? Error,
    int CostTokens,
    decimal CostRenderSeconds,
    int CostKaiCredits,
    decimal CostTotalUsd,
    JobCost Cost,
    Domain.Billing.Budget? Budget,
    DateTimeOffset CreatedAt,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    double? DurationSeconds,
    IReadOnlyList<NodeDto>? Nodes,
    JobUrls Urls,
    string? TraceId,
    JobOrigin? Request)
{
    /// <summary>The job with its documented result (signed links, when it has one) and, for a single job, its nodes.</summary>
    public static JobDto From(Job j, JobResult? result, IReadOnlyList<NodeDto>? nodes) => new(
        // resume_at is a paused job's resume time; on a queued job the column holds when its run is owed (JobStarter).
        j.Id, j.Status.ToWire(), j.PausedReason, j.Status == JobStatus.Paused ? j.ResumeAt : null, j.Progress, j.WorkflowId, j.WorkflowVersion, j.ParentJobId, j.RetryCount, result, j.Error,
        // Flat, as the documentation names them (seed 002's job columns); `cost` groups the same figures.
        j.CostTokens, j.CostRenderSeconds, j.CostKaiCredits, j.CostTotalUsd,
        new JobCost(j.CostTokens, j.CostRenderSeconds, j.CostKaiCredits, j.CostTotalUsd),
        j.Budget,
        j.CreatedAt, j.QueuedAt, j.StartedAt, j.CompletedAt,
        j is { StartedAt: { } start, CompletedAt: { } end } ? (end - start).TotalSeconds : null,
        nodes,
        new JobUrls($"/v1/jobs/{j.Id}", $"/v1/jobs/{j.Id}/cancel", $"/v1/jobs/{j.Id}/retry", $"/v1/jobs/{j.Id}/events", $"/v1/jobs/{j.Id}/logs"),
        // The job's trace (OpenTelemetry): support finds its spans and logs by it.
        Runs.Telemetry.TraceIdOf(j.TraceParent),
        // What made it, so a client can show it as an API call; null when a schedule started it.
        j.Request);
}

public sealed record JobLogDto(long Id, string Level, string? Stage, string Message, JsonElement? Data, DateTimeOffset CreatedAt)
{
    public static JobLogDto From(JobLog l) => new(l.Id, l.Level, l.Stage, l.Message, l.Data, l.CreatedAt);
}
