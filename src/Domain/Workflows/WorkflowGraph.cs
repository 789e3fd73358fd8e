using System.Text.Json;
using System.Text.Json.Serialization;

namespace FentaWeb.Domain.Workflows;

/// <summary>A workflow graph exactly as seed 002 writes it (note the camelCase <c>fromPort</c>/<c>toPort</c>).</summary>
public sealed record WorkflowGraph(IReadOnlyList<GraphNode> Nodes, IReadOnlyList<GraphEdge> Edges);

public sealed record GraphNode(
    string Id,
    string Type,
    IReadOnlyDictionary<string, JsonElement>? Params = null,
    NodePosition? Position = null);

public sealed record NodePosition(double X, double Y);

public sealed record GraphEdge(
    string From,
    string To,
    string? Id = null,
    [property: JsonPropertyName("fromPort")] string? FromPort = null,
    [property: JsonPropertyName("toPort")] string? ToPort = null);
