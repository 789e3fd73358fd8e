using System.Text.Json;
using System.Text.Json.Serialization;

namespace FentaWeb.Domain.Workflows;

/// <summary>A workflow graph exactly as seed 002 writes it (note the camelCase <c>fromPort</c>/<c>toPort</c>).</summary>
public sealed record WorkflowGraph(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges);

public sealed record GraphNode(
    string Id,
    string Type,
    IReadOnlyDictionary<string, JsonElement>? Params = null,
    NodePosition? Position = null,
    NodeRetry? Retry = null);

/// <summary>Overrides of the node type's retry policy for one node (Durable Functions' RetryOptions); unset fields keep the default.</summary>
public sealed record NodeRetry(
    int? MaxAttempts = null,
    double? FirstIntervalSeconds = null,
    double? BackoffCoefficient = null,
    double? MaxIntervalSeconds = null,
    double? TimeoutSeconds = null)
{
    public RetryPolicy ApplyTo(RetryPolicy defaults) => new(
        MaxAttempts ?? defaults.MaxAttempts,
        FirstIntervalSeconds is { } first ? TimeSpan.FromSeconds(first) : defaults.FirstInterval,
        BackoffCoefficient ?? defaults.BackoffCoefficient,
        MaxIntervalSeconds is { } max ? TimeSpan.FromSeconds(max) : defaults.MaxInterval,
        TimeoutSeconds is { } timeout ? TimeSpan.FromSeconds(timeout) : defaults.Timeout);
}

public sealed record NodePosition(double X, double Y);

public sealed record GraphEdge(
    string From,
    string To,
    string? Id = null,
    [property: JsonPropertyName("fromPort")] string? FromPort = null,
    [property: JsonPropertyName("toPort")] string? ToPort = null);
