using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Npgsql;

namespace FentaWeb.Api.Kie;

/// <param name="AssetIds">
/// The one file of the org to work from: for edit-video the clip to edit; for generate-image (an image edit) and
/// generate-video (image-to-video) an image, which the model must take.
/// </param>
/// <param name="Instrumental">For generate-music: no vocals (default true).</param>
/// <param name="DurationSeconds">For generate-music: the target length (the offline bed is this long; Suno makes what it makes).</param>
/// <param name="Style">For generate-music: Suno's custom mode style.</param>
/// <param name="Title">For generate-music: the track's title in custom mode (needs a style).</param>
public sealed record KieGenerateRequest(string? Model, string? Prompt, string? AspectRatio, int? Duration, string? Resolution, int? Count,
    JsonElement? ModelParams, string? Provider, string? Operation, IReadOnlyList<string>? AssetIds, bool? Reuse,
    bool? Instrumental = null, int? DurationSeconds = null, string? Style = null, string? Title = null);

/// <summary>
/// Direct generations (seed 000): each runs as a single-node job on the same engine as workflows, recorded as a
/// <c>kai_generations</c> row; and KIE's callback endpoint, which only wakes the waiting node.
/// </summary>
[Tags("Generations")]
public sealed partial class KieFunctions(FentaDb db, KieGenerations generations, JobStarter jobs)
{
    [Function(nameof(GenerateImage)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Generate images (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> GenerateImage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/generate-image")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.GenerateImage", "image", body, caller, runs, ct);

    [Function(nameof(GenerateVideo)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Generate a video clip (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> GenerateVideo(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/generate-video")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.GenerateVideo", "video", body, caller, runs, ct);

    [Function(nameof(EditVideo)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Edit a clip of the org (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> EditVideo(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/edit-video")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.EditVideo", "edit", body, caller, runs, ct);

    [Function(nameof(GenerateMusic)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Generate a music track (Suno on KIE.ai, an instrumental bed drawn locally offline; runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> GenerateMusic(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/generate-music")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.GenerateMusic", "audio", body, caller, runs, ct);

    private async Task<Accepted<KieGenerationDto>> StartAsync(string nodeType, string kind, KieGenerateRequest body, Caller caller, DurableTaskClient runs,
        CancellationToken ct)
    {
        var parameters = new Dictionary<string, JsonElement>();
        void Set<T>(string name, T? value)
        {
            if (value is not null) parameters[name] = JsonSerializer.SerializeToElement(value);
        }
        Set("model", body.Model);
        Set("prompt", body.Prompt);
        Set("aspect_ratio", body.AspectRatio);
        Set("duration", body.Duration);
        Set("resolution", body.Resolution);
        Set("count", body.Count);
        Set("provider", body.Provider);
        Set("operation", body.Operation);
        Set("reuse", body.Reuse);
        Set("instrumental", body.Instrumental);
        Set("duration_seconds", body.DurationSeconds);
        Set("style", body.Style);
        Set("title", body.Title);
        if (body.ModelParams is { } mp) parameters["model_params"] = mp;
        if (nodeType == "Input.KAI.GenerateMusic" && body.AssetIds is not null) throw new ValidationFailedException("asset_ids", "is not for generate-music");
        // One generation works from one file; a workflow's node fans out over several, one generation each, in parallel.
        if (nodeType == "Input.KAI.EditVideo" && body.AssetIds is not { Count: 1 })
            throw new ValidationFailedException("asset_ids", "must name exactly one clip to edit (a workflow's Input.KAI.EditVideo edits several, in parallel)");
        if (body.AssetIds is { Count: not 1 })
            throw new ValidationFailedException("asset_ids", "must name exactly one image to work from (a workflow's node fed several images makes one generation from each, in parallel)");
        if (body.AssetIds is [var assetId])
            await CheckInputAsync(nodeType, assetId, caller, ct);

        var nodes = new List<GraphNode> { new("generate", nodeType, parameters) };
        var edges = new List<GraphEdge>();
        if (body.AssetIds is { Count: > 0 } ids)
        {
            nodes.Insert(0, new GraphNode("source", "Input.Upload", new Dictionary<string, JsonElement> { ["asset_ids"] = JsonSerializer.SerializeToElement(ids) }));
            edges.Add(new GraphEdge("source", "generate"));
        }
        var graph = new WorkflowGraph(nodes, edges);
        try
        {
            await GraphChecks.ValidateAsync(graph, caller, db, ct);
        }
        catch (ValidationFailedException e)
        {
            // Name the request's own fields, not the positions in the one-node graph built from it.
            throw new ValidationFailedException([.. e.Errors.Select(f => f with { Field = NodeParamPrefix().Replace(f.Field, ""), NodeId = null })]);
        }
        var empty = JsonDocument.Parse("{}").RootElement;
        var (jobId, _) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, new JobConfig(graph, empty), null), ct);

        var id = Ids.New("gen");
        await generations.RecordDirectAsync(id, caller.OrgId, jobId, kind, body.Model ?? NodeCatalog.DefaultModel(nodeType), body.Prompt ?? "",
            JsonSerializer.Serialize(parameters), ct);
        return TypedResults.Accepted($"/v1/kai/generations/{id}", await FindAsync(caller.OrgId, id, ct));
    }

    /// <summary>
    /// The file a direct generation works from: a ready asset of the caller's org of the kind the node's media input takes
    /// (another org's asset does not exist here, as everywhere). Whether the model takes it is the graph's rule
    /// (NodeCatalog's generation check), refused on <c>model</c> when the one-node graph is validated.
    /// </summary>
    private async Task CheckInputAsync(string nodeType, string assetId, Caller caller, CancellationToken ct)
    {
        var wanted = nodeType == "Input.KAI.EditVideo" ? "video" : "image";
        var type = await db.Assets.Where(a => a.Id == assetId && a.OrgId == caller.OrgId && a.DeletedAt == null && a.Status == "ready")
            .Select(a => a.Type).FirstOrDefaultAsync(ct);
        if (type != wanted)
            throw new ValidationFailedException("asset_ids[0]", type is null
                ? $"no ready asset '{assetId}' in this organization"
                : $"'{assetId}' is a{(type == "image" ? "n" : "")} {type}; this generation works from a{(wanted == "image" ? "n" : "")} {wanted}");
    }

    [Function(nameof(ListGenerations)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Generations, newest first; filter by status and type.")]
    public async Task<Ok<Page<KieGenerationDto>>> ListGenerations(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/kai/generations")] HttpRequest request, Caller caller, [AsParameters] PageQuery page,
        string? status, string? type, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (status is not null && status is not ("queued" or "processing" or "completed" or "failed"))
            errors.Add("status", "must be one of: queued, processing, completed, failed");
        if (type is not null && type is not ("image" or "video" or "edit" or "audio")) errors.Add("type", "must be one of: image, video, edit, audio");
        errors.ThrowIfAny();
        var (limit, after) = page.Parse();
        var rows = await generations.ListAsync(caller.OrgId, after, status, type, limit + 1, ct);
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(limit);
        return TypedResults.Ok(new Page<KieGenerationDto>(rows, hasMore ? PageQuery.Encode(rows[^1].Id) : null, hasMore));
    }

    [Function(nameof(GetGeneration)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("A generation's status, model, cost and result assets.")]
    public async Task<Ok<KieGenerationDto>> GetGeneration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/kai/generations/{generationId}")] HttpRequest request, string generationId,
        Caller caller, CancellationToken ct) =>
        TypedResults.Ok(await FindAsync(caller.OrgId, generationId, ct));

    // KIE signs nothing: the unguessable token in the URL is the authentication, so there is no bearer check here.
    [Function(nameof(KieCallback)), Anonymous, RateLimit(RateLimitClass.Unlimited),
     EndpointSummary("Where KIE.ai reports a finished task. Answers at once; the waiting node reads the result back from KIE.")]
    public async Task<IResult> KieCallback([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/callbacks/{token}")] HttpRequest request,
        string token, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        JsonElement payload;
        try
        {
            payload = (await JsonDocument.ParseAsync(request.Body, cancellationToken: ct)).RootElement.Clone();
        }
        catch (JsonException)
        {
            payload = JsonDocument.Parse("{}").RootElement;
        }
        if (await generations.CalledBackAsync(token, ct) is not { } item) throw new NotFoundException("callback", "token");
        // Only a wake-up: the generation reads the task back from KIE (KIE signs nothing). A generation that has ended drops it.
        await runs.RaiseEventAsync(RunNames.KieItemInstance(item.JobId, item.NodeId, item.Item), RunNames.KieCallbackEvent, payload.GetRawText(), ct);
        return Results.Ok(new { code = 200, msg = "success" });
    }

    private async Task<KieGenerationDto> FindAsync(string orgId, string id, CancellationToken ct) =>
        await generations.FindAsync(orgId, id, ct) ?? throw new NotFoundException("generation", id);

    // "graph.nodes[1].params.model" is the request's "model": both prefixes go, not only the first.
    [GeneratedRegex(@"^(?:graph\.)?(?:nodes\[\d+\]\.params\.)?")]
    private static partial Regex NodeParamPrefix();
}
