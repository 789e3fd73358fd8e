using System.Text.Json;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Api.Workflows;

public sealed record PortDto(string Name, string Type, string Description, bool Required, bool Multiple);
public sealed record ParamDto(string Name, string Kind, string Description, bool Required, JsonElement? Default, double? Min, double? Max,
    int? MaxLength, IReadOnlyList<string>? Values, string? References);
public sealed record RetryDto(int MaxAttempts, double FirstIntervalSeconds, double BackoffCoefficient, double MaxIntervalSeconds, double TimeoutSeconds);
/// <param name="FanOutPorts">
/// The inputs the node can fan out over, in order of preference: fed a list on the first of them that is connected (input
/// images, else a script's scenes), the node runs once per element in parallel. Empty: it always runs once.
/// </param>
public sealed record NodeTypeDto(string Type, string Category, string Description, IReadOnlyList<PortDto> Inputs, IReadOnlyList<PortDto> Outputs,
    IReadOnlyList<ParamDto> Params, RetryDto Retry, IReadOnlyList<string> FanOutPorts, string Queue);

/// <summary>The node catalog as clients see it, so an editor can draw ports and render param forms.</summary>
public static class NodeCatalogDto
{
    public static readonly IReadOnlyList<NodeTypeDto> All = NodeCatalog.All.Select(d => new NodeTypeDto(
        d.Type, d.Category, d.Description, d.Inputs.Select(Port).ToList(), d.Outputs.Select(Port).ToList(),
        d.Params.Select(Param).ToList(),
        new RetryDto(d.Retry.MaxAttempts, d.Retry.FirstInterval.TotalSeconds, d.Retry.BackoffCoefficient, d.Retry.MaxInterval.TotalSeconds,
            d.Retry.Timeout.TotalSeconds), d.FanOutPorts ?? [], d.Queue)).ToList();

    public static ParamDto Param(ParamSpec p) => new(p.Name, Snake(p.Kind.ToString()), p.Description, p.Required, p.Default, p.Min, p.Max, p.MaxLength,
        p.Values, p.Reference == ParamReference.None ? null : p.Reference.ToString().ToLowerInvariant());

    private static PortDto Port(PortSpec p) => new(p.Name, p.Type.ToString(), p.Description, p.Required, p.Multiple);

    private static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
