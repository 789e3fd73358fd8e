using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FentaWeb.Api.Kie;

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
[Tags("Models")]
public sealed class ModelFunctions
{
    [Function(nameof(ListModels)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Generative models, optionally of one content type.")]
    public Ok<IReadOnlyList<ModelDto>> ListModels([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/models")] HttpRequest request,
        [FromQuery(Name = "content_type")] string? contentType)
    {
        if (contentType is not null && !ModelRegistry.ContentTypes.Contains(contentType))
            throw new ValidationFailedException("content_type", $"must be one of: {string.Join(", ", ModelRegistry.ContentTypes)}");
        return TypedResults.Ok<IReadOnlyList<ModelDto>>([.. ModelRegistry.All.Where(m => contentType is null || m.ContentType == contentType).Select(ModelDto.From)]);
    }

    [Function(nameof(GetModel)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One model with its input schema and pricing.")]
    public Ok<ModelDto> GetModel([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/models/{modelId}")] HttpRequest request, string modelId) =>
        TypedResults.Ok(ModelDto.From(ModelRegistry.Find(modelId) ?? throw new NotFoundException("model", modelId)));
}
