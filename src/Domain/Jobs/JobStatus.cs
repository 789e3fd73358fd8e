using System.Text.Json.Serialization;

namespace FentaWeb.Domain.Jobs;

/// <summary>
/// A job's status. PostgreSQL keeps it as text (jobs.status, checked by migration 0017), and so do the API, the SSE
/// events, webhooks and Durable Task payloads: <see cref="JobStatuses.ToWire"/> and <see cref="JobStatuses.Parse"/>
/// convert, and the member names below make JSON write the same text with any serializer options (a run's
/// <c>RunEnd</c> crosses Durable Task's own serializer, which knows nothing of <c>FentaJson</c>).
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<JobStatus>))]
public enum JobStatus
{
    /// <summary>Waits for a free-tier allowance (paused_reason, resume_at) before it is queued.</summary>
    [JsonStringEnumMemberName("paused")] Paused,
    [JsonStringEnumMemberName("queued")] Queued,
    [JsonStringEnumMemberName("processing")] Processing,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("failed")] Failed,
    [JsonStringEnumMemberName("cancelled")] Cancelled,
}

public static class JobStatuses
{
    /// <summary>Every status's text, in the order the API documents them.</summary>
    public static readonly IReadOnlyList<string> Wire = ["paused", "queued", "processing", "completed", "failed", "cancelled"];

    public static string ToWire(this JobStatus status) => status switch
    {
        JobStatus.Paused => "paused",
        JobStatus.Queued => "queued",
        JobStatus.Processing => "processing",
        JobStatus.Completed => "completed",
        JobStatus.Failed => "failed",
        JobStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a job status"),
    };

    /// <summary>The status of this text exactly as SQL holds it (lower case), or false.</summary>
    public static bool TryParse(string? wire, out JobStatus status)
    {
        (var known, status) = wire switch
        {
            "paused" => (true, JobStatus.Paused),
            "queued" => (true, JobStatus.Queued),
            "processing" => (true, JobStatus.Processing),
            "completed" => (true, JobStatus.Completed),
            "failed" => (true, JobStatus.Failed),
            "cancelled" => (true, JobStatus.Cancelled),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>A status read from the database, whose CHECK constraint allows only the texts above.</summary>
    public static JobStatus Parse(string wire) =>
        TryParse(wire, out var status) ? status : throw new FormatException($"'{wire}' is not a job status.");

    /// <summary>Its run may still do work: node executions go on, and a cancel or a finish still applies.</summary>
    public static bool IsActive(this JobStatus status) => status is JobStatus.Queued or JobStatus.Processing;

    /// <summary>Nothing changes it any more (a failed or cancelled job may be retried, as a new job).</summary>
    public static bool IsFinal(this JobStatus status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}
