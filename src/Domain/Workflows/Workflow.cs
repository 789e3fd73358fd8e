using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Workflows;

public static class WorkflowStatuses
{
    public static readonly IReadOnlyList<string> All = ["draft", "confirmed", "preview", "production", "archived"];
}

public sealed class Workflow : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public string Status { get; set; } = "draft";
    public required WorkflowGraph Graph { get; set; }
    public JsonElement Variables { get; set; }
    public int Version { get; private set; }
    public int RunCount { get; set; }
    public DateTimeOffset? LastRunAt { get; set; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; private set; }

    /// <summary>Records the current state as a new version; called on create and after every update.</summary>
    public WorkflowVersion Snapshot(string? userId, DateTimeOffset now)
    {
        Version++;
        UpdatedAt = now;
        return new WorkflowVersion
        {
            Id = Ids.New("ver"),
            WorkflowId = Id,
            Version = Version,
            Name = Name,
            Graph = Graph,
            Variables = Variables,
            CreatedBy = userId,
            CreatedAt = now,
        };
    }

    public void Delete(DateTimeOffset now) => DeletedAt ??= now;
}

public sealed class WorkflowVersion : IHasId
{
    public required string Id { get; init; }
    public required string WorkflowId { get; init; }
    public int Version { get; init; }
    public required string Name { get; init; }
    public required WorkflowGraph Graph { get; init; }
    public JsonElement Variables { get; init; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
