using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace FentaWeb.Api.Kai;

/// <param name="Multipliers">Param → value → factor applied to <paramref name="BaseCredits"/>.</param>
/// <param name="CountParam">When set, the price is also multiplied by this param's value (outputs per run).</param>
public sealed record ModelDto(string Id, string Name, string Family, string Variant, string Provider, string ContentType, string Output,
    string KieApi, int BaseCredits, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Multipliers, string? CountParam,
    int EstimatedSeconds, bool Active, bool Locked, IReadOnlyList<ParamDto> Params)
{
    public static ModelDto From(ModelDefinition m) => new(m.Id, m.Name, m.Family, m.Variant, m.Provider, m.ContentType, m.Output,
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(m.Api.ToString()), m.BaseCredits,
        m.Multipliers ?? new Dictionary<string, IReadOnlyDictionary<string, double>>(), m.CountParam, m.EstimatedSeconds, m.Active, m.Locked,
        [.. m.Params.Select(NodeCatalogDto.Param)]);
}

/// <summary>The model registry, with each model's input schema and pricing, so clients can render forms and show costs.</summary>
public static class ModelEndpoints
{
    public static void MapModels(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/models").WithTags("Models").RequireAuthorization().RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer);
        group.MapGet("/", List).WithSummary("Generative models, optionally of one content type.");
        group.MapGet("/{modelId}", Get).WithSummary("One model with its input schema and pricing.");
    }

    private static Ok<IReadOnlyList<ModelDto>> List([FromQuery(Name = "content_type")] string? contentType)
    {
        if (contentType is not null && !ModelRegistry.ContentTypes.Contains(contentType))
            throw new ValidationFailedException("content_type", $"must be one of: {string.Join(", ", ModelRegistry.ContentTypes)}");
        return TypedResults.Ok<IReadOnlyList<ModelDto>>([.. ModelRegistry.All.Where(m => contentType is null || m.ContentType == contentType).Select(ModelDto.From)]);
    }

    private static Ok<ModelDto> Get(string modelId) =>
        TypedResults.Ok(ModelDto.From(ModelRegistry.Find(modelId) ?? throw new NotFoundException("model", modelId)));
}
