using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Npgsql;

namespace FentaWeb.Api.Kie;

/// <param name="AssetIds">For edit-video: the clips to edit (assets of the org).</param>
public sealed record KieGenerateRequest(string? Model, string? Prompt, string? AspectRatio, int? Duration, string? Resolution, int? Count,
    JsonElement? ModelParams, string? Provider, string? Operation, IReadOnlyList<string>? AssetIds, bool? Reuse);

public sealed record KieGenerationDto(string Id, string JobId, string Type, string Model, string? Provider, string Prompt, JsonElement Params,
    string Status, string? ExternalId, IReadOnlyList<string> ResultAssetIds, int CreditsUsed, JsonElement? Error, DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt);

/// <summary>
/// Direct generations (seed 000): each runs as a single-node job on the same engine as workflows, recorded as a
/// <c>kai_generations</c> row; and KIE's callback endpoint, which only wakes the waiting node.
/// </summary>
[Tags("Generations")]
public sealed partial class KieFunctions(FentaDb db, NpgsqlDataSource data, JobStarter jobs)
{
    [Function(nameof(GenerateImage)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Generate images (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> GenerateImage(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/generate-image")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.GenerateImage", "image", body, caller, db, data, jobs, runs, ct);

    [Function(nameof(GenerateVideo)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Generate a video clip (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> GenerateVideo(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/generate-video")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.GenerateVideo", "video", body, caller, db, data, jobs, runs, ct);

    [Function(nameof(EditVideo)), Access(OrgRole.Editor, Scopes.JobsExecute), EndpointSummary("Edit a clip of the org (runs as a job; poll the generation).")]
    public Task<Accepted<KieGenerationDto>> EditVideo(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/kai/edit-video")] HttpRequest request, [FromBody] KieGenerateRequest body,
        Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct) =>
        StartAsync("Input.KAI.EditVideo", "edit", body, caller, db, data, jobs, runs, ct);

    private static async Task<Accepted<KieGenerationDto>> StartAsync(string nodeType, string kind, KieGenerateRequest body, Caller caller, FentaDb db,
        NpgsqlDataSource data, JobStarter jobs, DurableTaskClient runs, CancellationToken ct)
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
        if (body.ModelParams is { } mp) parameters["model_params"] = mp;
        if (nodeType != "Input.KAI.EditVideo" && body.AssetIds is not null) throw new ValidationFailedException("asset_ids", "is only for edit-video");
        // One generation is one clip; a workflow's Input.KAI.EditVideo fans out over several.
        if (nodeType == "Input.KAI.EditVideo" && body.AssetIds is not { Count: 1 })
            throw new ValidationFailedException("asset_ids", "must name exactly one clip to edit (a workflow's Input.KAI.EditVideo edits several, in parallel)");

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
        await using (var cmd = data.CreateCommand("""
            INSERT INTO kai_generations (id, org_id, job_id, node_id, item_index, type, model, provider, prompt, params, callback_token)
            VALUES ($1, $2, $3, 'generate', 0, $4, $5, NULL, $6, $7::jsonb, $8)
            ON CONFLICT (job_id, node_id, item_index) DO UPDATE SET id = EXCLUDED.id
            """))
        {
            var model = body.Model ?? NodeCatalog.DefaultModel(nodeType);
            foreach (var value in new object[] { id, caller.OrgId, jobId, kind, model, body.Prompt ?? "", JsonSerializer.Serialize(parameters),
                         Convert.ToHexString(RandomNumberGenerator.GetBytes(16)) })
                cmd.Parameters.Add(new() { Value = value });
            await cmd.ExecuteNonQueryAsync(ct);
        }
        return TypedResults.Accepted($"/v1/kai/generations/{id}", await FindAsync(data, caller.OrgId, id, ct));
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
        await using var cmd = data.CreateCommand($"""
            {Select} WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR type = $4)
            ORDER BY id DESC LIMIT $5
            """);
        foreach (var value in new object?[] { caller.OrgId, after, status, type, limit + 1 })
            cmd.Parameters.Add(new() { Value = value ?? DBNull.Value });
        var rows = new List<KieGenerationDto>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) rows.Add(Read(reader));
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(limit);
        return TypedResults.Ok(new Page<KieGenerationDto>(rows, hasMore ? PageQuery.Encode(rows[^1].Id) : null, hasMore));
    }

    [Function(nameof(GetGeneration)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("A generation's status, model, cost and result assets.")]
    public async Task<Ok<KieGenerationDto>> GetGeneration(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/kai/generations/{generationId}")] HttpRequest request, string generationId,
        Caller caller, CancellationToken ct) =>
        TypedResults.Ok(await FindAsync(data, caller.OrgId, generationId, ct));

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
        await using var cmd = data.CreateCommand("""
            UPDATE kai_generations SET callback_at = now(), updated_at = now() WHERE callback_token = $1
            RETURNING job_id, node_id, item_index
            """);
        cmd.Parameters.Add(new() { Value = token });
        string? jobId = null, nodeId = null;
        var item = 0;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            if (await reader.ReadAsync(ct) && !reader.IsDBNull(0))
                (jobId, nodeId, item) = (reader.GetString(0), reader.GetString(1), reader.GetInt32(2));
        if (jobId is null) throw new NotFoundException("callback", "token");
        // Only a wake-up: the generation reads the task back from KIE (KIE signs nothing). A generation that has ended drops it.
        await runs.RaiseEventAsync(RunNames.KieItemInstance(jobId, nodeId!, item), RunNames.KieCallbackEvent, payload.GetRawText(), ct);
        return Results.Ok(new { code = 200, msg = "success" });
    }

    // A generation whose job failed or was cancelled before its activity recorded an outcome reports the job's.
    private const string Select = """
        SELECT * FROM (
          SELECT g.id, g.job_id, g.type, g.model, g.provider, g.prompt, g.params::text AS params,
                 CASE WHEN g.status IN ('queued', 'processing') AND j.status IN ('failed', 'cancelled') THEN 'failed' ELSE g.status END AS status,
                 g.external_id, g.result_asset_ids, g.credits_used,
                 coalesce(g.error, CASE WHEN j.status IN ('failed', 'cancelled') THEN j.error END)::text AS error, g.created_at, g.completed_at, g.org_id
          FROM kai_generations g LEFT JOIN jobs j ON j.id = g.job_id) generation
        """;

    private static async Task<KieGenerationDto> FindAsync(NpgsqlDataSource data, string orgId, string id, CancellationToken ct)
    {
        await using var cmd = data.CreateCommand($"{Select} WHERE id = $1 AND org_id = $2");
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : throw new NotFoundException("generation", id);
    }

    private static KieGenerationDto Read(NpgsqlDataReader reader) =>
        new(reader.GetString(0), reader.IsDBNull(1) ? "" : reader.GetString(1), reader.GetString(2), reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetString(5), JsonDocument.Parse(reader.GetString(6)).RootElement, reader.GetString(7),
            reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetFieldValue<string[]>(9), reader.GetInt32(10),
            reader.IsDBNull(11) ? null : JsonDocument.Parse(reader.GetString(11)).RootElement, reader.GetFieldValue<DateTimeOffset>(12),
            reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13));

    [GeneratedRegex(@"^graph\.|^nodes\[\d+\]\.params\.")]
    private static partial Regex NodeParamPrefix();
}
