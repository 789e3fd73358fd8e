using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Workflows;

/// <summary>What a job runs, stored in <c>jobs.config</c>: the graph snapshot (variables applied) and where it came from.</summary>
public sealed record JobConfig(WorkflowGraph Graph, JsonElement Variables, string? WorkflowId = null, int? WorkflowVersion = null);

/// <summary>One node of a job as the engine needs it.</summary>
public sealed record CompiledNode(
    string Id,
    NodeDefinition Definition,
    IReadOnlyDictionary<string, JsonElement> Params,
    IReadOnlyList<ResolvedEdge> InputEdges,
    IReadOnlyList<string> Predecessors,
    IReadOnlyList<string> Successors,
    string? FanOutPort,
    RetryPolicy Retry)
{
    /// <summary>Whether the node runs once per element of the list on <see cref="FanOutPort"/>.</summary>
    public bool FansOut => FanOutPort is not null;

    /// <summary>The row that stands for the node as a whole: -1 for a fanned-out node, else its only row.</summary>
    public int NodeItem => FansOut ? -1 : 0;
}

/// <summary>A validated graph compiled for execution: params with defaults, predecessors, successors, fan-out.</summary>
public sealed partial class CompiledGraph
{
    private CompiledGraph(IReadOnlyDictionary<string, CompiledNode> nodes, IReadOnlyList<string> order)
    {
        Nodes = nodes;
        Order = order;
    }

    public IReadOnlyDictionary<string, CompiledNode> Nodes { get; }
    public IReadOnlyList<string> Order { get; }
    public IEnumerable<CompiledNode> Sinks => Order.Select(id => Nodes[id]).Where(n => n.Successors.Count == 0);

    public static CompiledGraph Compile(WorkflowGraph graph)
    {
        var validated = GraphValidator.Validate(graph);
        var nodes = new Dictionary<string, CompiledNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            var definition = NodeCatalog.Find(node.Type)!;
            var inputs = validated.Edges.Where(e => e.To == node.Id).ToList();
            nodes[node.Id] = new CompiledNode(
                node.Id,
                definition,
                GraphValidator.EffectiveParams(node, definition),
                inputs,
                inputs.Select(e => e.From).Distinct().ToList(),
                validated.Edges.Where(e => e.From == node.Id).Select(e => e.To).Distinct().Order(StringComparer.Ordinal).ToList(),
                definition.FanOutPortOf(inputs.Select(e => e.ToPort)),
                node.Retry?.ApplyTo(definition.Retry) ?? definition.Retry);
        }
        return new CompiledGraph(nodes, validated.TopologicalOrder);
    }

    /// <summary>A run of a saved workflow: its graph with its variables, overridden by the run's (a request's or a schedule's), applied.</summary>
    public static JobConfig ForWorkflow(string workflowId, int version, WorkflowGraph graph, JsonElement workflowVariables, JsonElement? runVariables)
    {
        var merged = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (workflowVariables.ValueKind == JsonValueKind.Object) foreach (var p in workflowVariables.EnumerateObject()) merged[p.Name] = p.Value;
        if (runVariables is { ValueKind: JsonValueKind.Object } run) foreach (var p in run.EnumerateObject()) merged[p.Name] = p.Value;
        var variables = JsonSerializer.SerializeToElement(merged);
        return new JobConfig(ApplyVariables(graph, variables), variables, workflowId, version);
    }

    /// <summary>Replaces <c>{{name}}</c> in every string param (and string list item) with the variable's value; unknown names stay.</summary>
    public static WorkflowGraph ApplyVariables(WorkflowGraph graph, JsonElement variables)
    {
        if (variables.ValueKind != JsonValueKind.Object || !variables.EnumerateObject().Any()) return graph;
        var values = variables.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText());
        string Fill(string text) => Placeholder().Replace(text, m => values.GetValueOrDefault(m.Groups[1].Value, m.Value));
        JsonElement Apply(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => JsonSerializer.SerializeToElement(Fill(value.GetString()!)),
            JsonValueKind.Array => JsonSerializer.SerializeToElement(value.EnumerateArray().Select(Apply).ToList()),
            _ => value,
        };
        return graph with { Nodes = graph.Nodes.Select(node => node with { Params = node.Params?.ToDictionary(p => p.Key, p => Apply(p.Value)) }).ToList() };
    }

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}")]
    private static partial Regex Placeholder();

    /// <summary>The elements a fanned-out node iterates: an array as is, or a script's <c>scenes</c>, or <c>items</c>.</summary>
    public static IReadOnlyList<JsonElement> FanOutItems(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().ToList(),
        JsonValueKind.Object when value.TryGetProperty("scenes", out var scenes) && scenes.ValueKind == JsonValueKind.Array => scenes.EnumerateArray().ToList(),
        JsonValueKind.Object when value.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array => items.EnumerateArray().ToList(),
        _ => [value],
    };

    /// <summary>A fanned-out node's value: its items' outputs in order, flattened when each is itself a list (media).</summary>
    public static JsonElement Aggregate(IReadOnlyList<JsonElement> itemOutputs)
    {
        var flatten = itemOutputs.Count > 0 && itemOutputs.All(o => o.ValueKind == JsonValueKind.Array);
        var all = flatten ? itemOutputs.SelectMany(o => o.EnumerateArray()).ToList() : itemOutputs.ToList();
        return JsonSerializer.SerializeToElement(all, FentaJson.Options);
    }

    /// <summary>Several edges into one port: concatenate list values in edge order; one edge passes its value through.</summary>
    public static JsonElement Combine(IReadOnlyList<JsonElement> values) =>
        values.Count == 1 ? values[0] : Aggregate(values);
}
