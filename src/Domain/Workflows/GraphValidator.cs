using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Workflows;

/// <summary>An edge with both ports known (given or inferred).</summary>
public sealed record ResolvedEdge(string Id, string From, string FromPort, string To, string ToPort, PortType Type);

/// <summary>A param value that names something outside the graph (a template, an asset).</summary>
public sealed record ExternalReference(ParamReference Kind, string Id, string Field, string NodeId);

/// <summary>A graph that passed validation: edges resolved, nodes in a topological order.</summary>
public sealed record ValidatedGraph(
    WorkflowGraph Graph,
    IReadOnlyList<ResolvedEdge> Edges,
    IReadOnlyList<string> TopologicalOrder,
    IReadOnlyList<ExternalReference> References);

public static partial class GraphValidator
{
    public const int MaxNodes = 200;
    public const int MaxEdges = 1000;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();

    /// <summary>Validates <paramref name="graph"/>; throws <see cref="ValidationFailedException"/> listing every problem.</summary>
    public static ValidatedGraph Validate(WorkflowGraph graph, string path = "graph")
    {
        var errors = new FieldErrors();
        var nodes = graph.Nodes ?? [];
        var edges = graph.Edges ?? [];
        if (graph.Edges is null) errors.Add($"{path}.edges", "is required: send [] for a graph without edges");
        if (nodes.Count == 0) errors.Add($"{path}.nodes", "a workflow needs at least one node");
        for (var i = 0; i < nodes.Count; i++)
            if (nodes[i] is null) errors.Add($"{path}.nodes[{i}]", "must be a node object, not null");
        for (var i = 0; i < edges.Count; i++)
            if (edges[i] is null) errors.Add($"{path}.edges[{i}]", "must be an edge object, not null");
        if (nodes.Count > MaxNodes) errors.Add($"{path}.nodes", $"at most {MaxNodes} nodes are allowed");
        if (edges.Count > MaxEdges) errors.Add($"{path}.edges", $"at most {MaxEdges} edges are allowed");
        errors.ThrowIfAny();

        var definitions = new Dictionary<string, (NodeDefinition Def, int Index)>(StringComparer.Ordinal);
        for (var i = 0; i < nodes.Count; i++)
        {
            var node = nodes[i];
            var nodePath = $"{path}.nodes[{i}]";
            if (string.IsNullOrEmpty(node.Id) || !IdPattern().IsMatch(node.Id))
            {
                errors.Add($"{nodePath}.id", "must be 1-64 letters, digits, '_' or '-'", node.Id);
                continue;
            }
            if (definitions.ContainsKey(node.Id) || nodes.Take(i).Any(n => n.Id == node.Id))
            {
                errors.Add($"{nodePath}.id", $"duplicate node id '{node.Id}'", node.Id);
                continue;
            }
            var definition = NodeCatalog.Find(node.Type);
            if (definition is null)
            {
                errors.Add($"{nodePath}.type", $"unknown node type '{node.Type}'; known types: {string.Join(", ", NodeCatalog.All.Select(d => d.Type))}", node.Id);
                continue;
            }
            definitions[node.Id] = (definition, i);
        }

        var resolved = ResolveEdges(edges, definitions, path, errors);
        var connected = resolved.GroupBy(e => e.To).ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(e => e.ToPort).ToHashSet());
        var references = new List<ExternalReference>();

        foreach (var (nodeId, (definition, index)) in definitions)
        {
            var node = nodes[index];
            var nodePath = $"{path}.nodes[{index}]";
            var inputs = connected.GetValueOrDefault(nodeId) ?? new HashSet<string>();
            foreach (var port in definition.Inputs.Where(p => p.Required && !inputs.Contains(p.Name)))
                errors.Add($"{nodePath}.inputs.{port.Name}", $"required input '{port.Name}' ({port.Type}) is not connected", nodeId);
            foreach (var port in definition.Inputs.Where(p => !p.Multiple))
            {
                var feeding = resolved.Count(e => e.To == nodeId && e.ToPort == port.Name);
                if (feeding > 1) errors.Add($"{nodePath}.inputs.{port.Name}", $"input '{port.Name}' accepts one edge but {feeding} are connected", nodeId);
            }
            CheckRetry(node, nodePath, errors);
            var effective = CheckParams(node, definition, nodePath, errors, references);
            definition.Check?.Invoke(new NodeCheck(node, nodePath, effective, inputs), errors);
        }

        var order = TopologicalOrder(nodes.Where(n => definitions.ContainsKey(n.Id ?? "")).DistinctBy(n => n.Id).ToList(), resolved, path, errors);
        if (definitions.Values.Count(d => d.Def.Type == "Schedule.Cron") > 1)
            errors.Add($"{path}.nodes", "a workflow can have at most one Schedule.Cron node");
        errors.ThrowIfAny();
        return new ValidatedGraph(graph, resolved, order, references);
    }

    /// <summary>Params as the activity will see them: supplied values, then defaults.</summary>
    public static Dictionary<string, JsonElement> EffectiveParams(GraphNode node, NodeDefinition definition)
    {
        var effective = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var spec in definition.Params)
        {
            if (node.Params is not null && node.Params.TryGetValue(spec.Name, out var value) && value.ValueKind != JsonValueKind.Null)
                effective[spec.Name] = value;
            else if (spec.Default is { } fallback)
                effective[spec.Name] = fallback;
        }
        return effective;
    }

    private static void CheckRetry(GraphNode node, string nodePath, FieldErrors errors)
    {
        if (node.Retry is not { } retry) return;
        var path = $"{nodePath}.retry";
        if (retry.MaxAttempts is { } attempts && attempts is < 1 or > 20) errors.Add($"{path}.max_attempts", "must be between 1 and 20", node.Id);
        if (retry.FirstIntervalSeconds is { } first && first is < 0.01 or > 3600) errors.Add($"{path}.first_interval_seconds", "must be between 0.01 and 3600", node.Id);
        if (retry.BackoffCoefficient is { } coefficient && coefficient is < 1 or > 10) errors.Add($"{path}.backoff_coefficient", "must be between 1 and 10", node.Id);
        if (retry.MaxIntervalSeconds is { } max && max is < 0.01 or > 86400) errors.Add($"{path}.max_interval_seconds", "must be between 0.01 and 86400", node.Id);
        if (retry.TimeoutSeconds is { } timeout && timeout is < 0.1 or > 6 * 3600) errors.Add($"{path}.timeout_seconds", "must be between 0.1 and 21600", node.Id);
    }

    private static Dictionary<string, JsonElement> CheckParams(
        GraphNode node, NodeDefinition definition, string nodePath, FieldErrors errors, List<ExternalReference> references)
    {
        foreach (var name in (node.Params?.Keys ?? []).Where(k => definition.Params.All(p => p.Name != k)))
            errors.Add($"{nodePath}.params.{name}",
                $"unknown param for {definition.Type}; known params: {string.Join(", ", definition.Params.Select(p => p.Name))}", node.Id);

        var effective = EffectiveParams(node, definition);
        foreach (var spec in definition.Params)
        {
            var field = $"{nodePath}.params.{spec.Name}";
            if (!effective.TryGetValue(spec.Name, out var value))
            {
                if (spec.Required) errors.Add(field, "is required", node.Id);
                continue;
            }
            var before = errors.All.Count;
            spec.Check(value, field, node.Id, errors);
            if (errors.All.Count == before && spec.Reference != ParamReference.None)
            {
                if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } id)
                    references.Add(new ExternalReference(spec.Reference, id, field, node.Id));
                else if (value.ValueKind == JsonValueKind.Array)
                    references.AddRange(value.EnumerateArray().Select((item, i) =>
                        new ExternalReference(spec.Reference, item.GetString()!, $"{field}[{i}]", node.Id)));
            }
        }
        return effective;
    }

    private static List<ResolvedEdge> ResolveEdges(
        IReadOnlyList<GraphEdge> edges, Dictionary<string, (NodeDefinition Def, int Index)> definitions, string path, FieldErrors errors)
    {
        var resolved = new List<ResolvedEdge>();
        var edgeIds = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < edges.Count; i++)
        {
            var edge = edges[i];
            var edgePath = $"{path}.edges[{i}]";
            var id = edge.Id ?? $"e{i + 1}";
            if (!edgeIds.Add(id)) errors.Add($"{edgePath}.id", $"duplicate edge id '{id}'");
            var fromOk = Lookup(edge.From, $"{edgePath}.from", definitions, errors, out var source);
            var toOk = Lookup(edge.To, $"{edgePath}.to", definitions, errors, out var target);
            if (!fromOk || !toOk) continue;
            if (edge.From == edge.To)
            {
                errors.Add(edgePath, $"node '{edge.From}' cannot feed itself", edge.From);
                continue;
            }

            if (edge.FromPort is not null && source.Outputs.All(p => p.Name != edge.FromPort))
            {
                errors.Add($"{edgePath}.fromPort", $"{source.Type} has no output '{edge.FromPort}'; outputs: {Ports(source.Outputs)}", edge.From);
                continue;
            }
            if (edge.ToPort is not null && target.Inputs.All(p => p.Name != edge.ToPort))
            {
                errors.Add($"{edgePath}.toPort", $"{target.Type} has no input '{edge.ToPort}'; inputs: {Ports(target.Inputs)}", edge.To);
                continue;
            }

            var candidates = (
                from output in source.Outputs
                where edge.FromPort is null || output.Name == edge.FromPort
                from input in target.Inputs
                where edge.ToPort is null || input.Name == edge.ToPort
                where input.Type == output.Type
                select (output, input)).ToList();

            if (candidates.Count == 1)
            {
                var (output, input) = candidates[0];
                resolved.Add(new ResolvedEdge(id, edge.From, output.Name, edge.To, input.Name, output.Type));
            }
            else if (candidates.Count == 0)
            {
                var field = edge.ToPort is not null ? $"{edgePath}.toPort" : edge.FromPort is not null ? $"{edgePath}.fromPort" : edgePath;
                errors.Add(field,
                    $"no output of '{edge.From}' ({source.Type}: {Ports(source.Outputs)}) fits an input of '{edge.To}' ({target.Type}: {Ports(target.Inputs)})",
                    edge.To);
            }
            else
            {
                errors.Add(edgePath,
                    $"ambiguous: set fromPort/toPort to one of {string.Join("; ", candidates.Select(c => $"{c.output.Name} -> {c.input.Name}"))}",
                    edge.To);
            }
        }
        return resolved;
    }

    private static bool Lookup(string nodeId, string field, Dictionary<string, (NodeDefinition Def, int Index)> definitions,
        FieldErrors errors, out NodeDefinition definition)
    {
        if (definitions.TryGetValue(nodeId ?? "", out var found))
        {
            definition = found.Def;
            return true;
        }
        errors.Add(field, $"no node with id '{nodeId}'");
        definition = null!;
        return false;
    }

    private static List<string> TopologicalOrder(IReadOnlyList<GraphNode> nodes, List<ResolvedEdge> edges, string path, FieldErrors errors)
    {
        var indegree = nodes.ToDictionary(n => n.Id, _ => 0, StringComparer.Ordinal);
        foreach (var edge in edges) indegree[edge.To]++;
        // Kahn's algorithm, seeded in declaration order so the order is stable for a given graph.
        var ready = new Queue<string>(nodes.Select(n => n.Id).Where(id => indegree[id] == 0));
        var order = new List<string>(nodes.Count);
        while (ready.TryDequeue(out var id))
        {
            order.Add(id);
            foreach (var edge in edges.Where(e => e.From == id))
                if (--indegree[edge.To] == 0) ready.Enqueue(edge.To);
        }
        if (order.Count < nodes.Count)
        {
            var cyclic = nodes.Select(n => n.Id).Where(id => indegree[id] > 0).ToList();
            errors.Add($"{path}.edges", $"the graph has a cycle; these nodes are on it or wait on it: {string.Join(", ", cyclic)}", cyclic[0]);
        }
        return order;
    }

    private static string Ports(IReadOnlyList<PortSpec> ports) =>
        ports.Count == 0 ? "none" : string.Join(", ", ports.Select(p => $"{p.Name}:{p.Type}"));
}
