using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Models;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Storyboards;
using FentaWeb.Domain.Workflows;
using FentaWeb.Integrations.Blob;
using FentaWeb.Runs;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs.Storyboards;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Storyboards;

/// <param name="Duration">Seconds the scene lasts (1-60); from its narration when left out.</param>
public sealed record GivenSceneRequest(string? Narration, string? ImagePrompt, double? Duration);

/// <param name="Script">Instead of a prompt: the script as text (paragraphs become scenes, or its sentences are shared over
/// scene_count), or as {"title"?, "scenes": [{"narration", "image_prompt"?, "duration"?}]}. Used as is: no LLM.</param>
public sealed record CreateStoryboardRequest(string? Prompt, JsonElement? Script, string? Title, string? Style, int? SceneCount, string? AspectRatio,
    string? Voice, string? ImageModel, string? Provider, string? Lang);

public sealed record StoryboardPatch(string? Title, IReadOnlyList<string>? SceneOrder);

/// <param name="Index">Move the scene to this 1-based position.</param>
public sealed record ScenePatch(string? Narration, string? ImagePrompt, double? DurationSeconds, int? Index);

public sealed record RegenerateSceneRequest(string? ImagePrompt);

/// <param name="AssetId">An uploaded audio asset of the org.</param>
/// <param name="Prompt">Instead: music generated from this prompt (Input.KAI.GenerateMusic: Suno on KIE, an instrumental bed offline).</param>
public sealed record StoryboardMusic(string? AssetId, string? Prompt, double? Volume);

/// <param name="Model">An image_to_video model of /v1/models.</param>
/// <param name="Duration">Clip length, seconds (the model's default when left out).</param>
public sealed record StoryboardImageToVideo(string? Model, int? Duration);

/// <param name="Subtitles">A subtitle style (clean_box, karaoke_bounce, bold_outline, minimal; clean_box when left out), or false for none.</param>
/// <param name="Music">An uploaded audio asset, ducked under the narration; volume 0-1 (0.25).</param>
/// <param name="Quality">Encoder effort, as Output.Render's quality (standard).</param>
/// <param name="Resolution">720p or 1080p (1080p).</param>
/// <param name="TemplateId">A template of the storyboard's aspect (the built-in one of that aspect by default).</param>
/// <param name="Overlays">Show the template's text overlays (its headline or title card); false by default: the scenes are the person's own.</param>
/// <param name="ImageToVideo">Animate each scene's image into a clip (one image-to-video generation per scene, charged as such) instead of showing the still.</param>
public sealed record RenderStoryboardRequest(JsonElement? Subtitles, StoryboardMusic? Music, string? Quality, string? Resolution, string? TemplateId, bool? Overlays,
    StoryboardImageToVideo? ImageToVideo);

/// <param name="Index">1-based position: the {n} of the scene routes.</param>
/// <param name="ImageUrl">A short-lived read link to the image (as an asset's download_url).</param>
public sealed record StoryboardSceneDto(string Id, int Index, string Narration, string ImagePrompt, double DurationSeconds, string Status, string? ImageAssetId,
    string? ImageUrl, DateTimeOffset? ImageUrlExpiresAt, string? GenerationId, string? JobId, string? Error);

/// <param name="Status">processing, completed or failed.</param>
public sealed record StoryboardRenderDto(string JobId, string Status, string? VideoAssetId, string? VideoUrl, DateTimeOffset? VideoUrlExpiresAt, string? Error);

/// <param name="Estimate">What the work this answer started is expected to use (on create, regenerate and render).</param>
public sealed record StoryboardDto(string Id, string Title, string Description, string Status, string? Error, StoryboardSettings Settings,
    IReadOnlyList<StoryboardSceneDto> Scenes, double DurationSeconds, string? JobId, StoryboardRenderDto? Render, int TotalCreditsUsed, CostEstimate? Estimate,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>
/// Storyboards (seed 004): a video planned as scenes — narration, image prompt, duration and an image each — that a
/// person edits, reorders and redraws scene by scene before rendering it. Planning, each redraw and the render run as
/// jobs (so credits are reserved before KIE is asked and refunded on failure, and quotas and budgets apply as to any
/// run); the storyboard takes each job's outcome when it is next read after the job ended.
/// </summary>
[Tags("Storyboards")]
public sealed partial class StoryboardFunctions(FentaDb db, StoryboardStore store, JobStarter jobs, KieGenerations generations, AssetBlobs blobs, AuditTrail audit)
{
    private static readonly string[] AspectRatios = ["9:16", "16:9", "1:1", "4:5"];
    private static readonly string[] Providers = ["auto", "kie", "local"];
    private const string DefaultImageModel = "flux-kontext-pro";

    [Function(nameof(CreateStoryboard)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Plan a storyboard from a prompt (an LLM writes scene_count scenes) or from a script used as is, and draw one image per scene, as a job. Answers 202 with the storyboard (generating) and the job's estimate; poll it until ready.")]
    public async Task<Accepted<StoryboardDto>> CreateStoryboard([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/storyboards")] HttpRequest request,
        [FromBody] CreateStoryboardRequest body, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        var (settings, given, givenTitle) = Checked(body);
        var title = (body.Title ?? givenTitle ?? "").Trim();
        var graph = StoryboardGraphs.Plan(settings, title, body.Prompt?.Trim(), given);
        await ValidateAsync(graph, caller, ct);
        var estimate = await jobs.EstimateAsync(caller.OrgId, graph, ct);
        var storyboard = new Storyboard
        {
            Id = Ids.New("sb"), OrgId = caller.OrgId, CreatedBy = caller.UserId, Title = title, Description = body.Prompt?.Trim() ?? "",
            Settings = settings, Status = StoryboardStatus.Generating, Scenes = given?.Select(g => g with { Status = SceneStatus.Generating }).ToList() ?? [],
        };
        // Stored before its plan starts, and the plan keyed by it: a plan started but not recorded is found by its key.
        await store.InsertAsync(storyboard, ct);
        var (jobId, _) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, new JobConfig(graph, Empty), storyboard.PlanKey), ct);
        await using (var locked = await LockAsync(caller, storyboard.Id, ct))
        {
            locked.Storyboard.JobId = jobId;
            await locked.SaveAsync(ct);
        }
        audit.Record(caller, "create", "storyboard", storyboard.Id, new { job_id = jobId, scene_count = settings.SceneCount });
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/storyboards/{storyboard.Id}", await DtoAsync(await FindAsync(caller, storyboard.Id, ct), estimate, ct));
    }

    [Function(nameof(ListStoryboards)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Storyboards, newest first (each scene's image link only on GET of one).")]
    public async Task<Ok<Page<StoryboardDto>>> ListStoryboards([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/storyboards")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct)
    {
        var (limit, after) = page.Parse();
        var rows = await store.ListAsync(caller.OrgId, after, limit + 1, ct);
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(limit);
        // The first scene's image signed as the cover; the rest only on GET of one.
        var data = new List<StoryboardDto>();
        foreach (var row in rows) data.Add(await DtoAsync(row, null, ct, coverOnly: true));
        return TypedResults.Ok(new Page<StoryboardDto>(data, hasMore ? PageQuery.Encode(rows[^1].Id) : null, hasMore));
    }

    [Function(nameof(GetStoryboard)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("One storyboard: its scenes in order with short-lived image links, its status, and its last render (the video's link once done).")]
    public async Task<Ok<StoryboardDto>> GetStoryboard([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/storyboards/{storyboardId}")] HttpRequest request,
        string storyboardId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(await DtoAsync(await FindAsync(caller, storyboardId, ct), null, ct));

    [Function(nameof(UpdateStoryboard)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Rename a storyboard, or put its scenes in a new order (scene_order: every scene id once). 409 while it is generating or rendering.")]
    public async Task<Ok<StoryboardDto>> UpdateStoryboard([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/storyboards/{storyboardId}")] HttpRequest request,
        string storyboardId, [FromBody] StoryboardPatch body, Caller caller, CancellationToken ct)
    {
        await using var locked = await LockAsync(caller, storyboardId, ct);
        var s = locked.Storyboard;
        s.EnsureEditable();
        if (body.Title is { } title)
        {
            if (title.Trim().Length is 0 or > 200) throw new ValidationFailedException("title", "must be 1 to 200 characters");
            s.Title = title.Trim();
        }
        if (body.SceneOrder is { } order) s.Reorder(order);
        await locked.SaveAsync(ct);
        return TypedResults.Ok(await DtoAsync(s, null, ct));
    }

    [Function(nameof(DeleteStoryboard)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Delete a storyboard (its images and videos stay assets of the org). 409 while it is generating or rendering.")]
    public async Task<NoContent> DeleteStoryboard([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/storyboards/{storyboardId}")] HttpRequest request,
        string storyboardId, Caller caller, CancellationToken ct)
    {
        await using (var locked = await LockAsync(caller, storyboardId, ct))
        {
            locked.Storyboard.EnsureEditable();
            await locked.SaveAsync(ct);
        }
        await store.DeleteAsync(caller.OrgId, storyboardId, ct);
        audit.Record(caller, "delete", "storyboard", storyboardId);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    [Function(nameof(AddStoryboardScene)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Add a scene (narration, image_prompt, duration_seconds; at 1-based index, else last). It has no image until regenerated.")]
    public async Task<Created<StoryboardDto>> AddStoryboardScene(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/storyboards/{storyboardId}/scenes")] HttpRequest request,
        string storyboardId, [FromBody] ScenePatch body, Caller caller, CancellationToken ct)
    {
        await using var locked = await LockAsync(caller, storyboardId, ct);
        locked.Storyboard.AddScene(body.Narration, body.ImagePrompt, body.DurationSeconds, body.Index);
        await locked.SaveAsync(ct);
        return TypedResults.Created($"/v1/storyboards/{storyboardId}", await DtoAsync(locked.Storyboard, null, ct));
    }

    [Function(nameof(UpdateStoryboardScene)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Edit scene n (1-based): narration, image_prompt, duration_seconds; index moves it. 409 while the storyboard is generating or rendering, or this scene's image is being drawn.")]
    public async Task<Ok<StoryboardDto>> UpdateStoryboardScene(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/storyboards/{storyboardId}/scenes/{n:int}")] HttpRequest request,
        string storyboardId, string n, [FromBody] ScenePatch body, Caller caller, CancellationToken ct)
    {
        await using var locked = await LockAsync(caller, storyboardId, ct);
        locked.Storyboard.EditScene(Position(n), body.Narration, body.ImagePrompt, body.DurationSeconds, body.Index);
        await locked.SaveAsync(ct);
        return TypedResults.Ok(await DtoAsync(locked.Storyboard, null, ct));
    }

    [Function(nameof(DeleteStoryboardScene)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Remove scene n (1-based); the others move up.")]
    public async Task<Ok<StoryboardDto>> DeleteStoryboardScene(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/storyboards/{storyboardId}/scenes/{n:int}")] HttpRequest request,
        string storyboardId, string n, Caller caller, CancellationToken ct)
    {
        await using var locked = await LockAsync(caller, storyboardId, ct);
        locked.Storyboard.RemoveScene(Position(n));
        await locked.SaveAsync(ct);
        return TypedResults.Ok(await DtoAsync(locked.Storyboard, null, ct));
    }

    [Function(nameof(RegenerateStoryboardScene)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Draw scene n's image again (with a new image_prompt, if given) as a one-image generation job: only its cost is reserved and charged, refunded if it fails. Answers 202 with the storyboard (the scene generating) and the estimate.")]
    public async Task<Accepted<StoryboardDto>> RegenerateStoryboardScene(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/storyboards/{storyboardId}/scenes/{n:int}/regenerate")] HttpRequest request,
        string storyboardId, string n, [FromBody] RegenerateSceneRequest? body, Caller caller,
        [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        await using var locked = await LockAsync(caller, storyboardId, ct);
        var s = locked.Storyboard;
        var position = Position(n);
        s.EnsureRegenerable(position, body?.ImagePrompt);
        var prompt = body?.ImagePrompt?.Trim() ?? s.Scene(position).ImagePrompt;
        var graph = StoryboardGraphs.Regenerate(s.Settings, prompt);
        await ValidateAsync(graph, caller, ct);
        var estimate = await jobs.EstimateAsync(caller.OrgId, graph, ct);
        // Started under the row lock, so a second request for the scene waits and then finds it generating (409).
        var (jobId, _) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, new JobConfig(graph, Empty), s.RegenerationKey(position)), ct);
        var generationId = Ids.New("gen");
        var node = graph.Nodes[0];
        await generations.RecordDirectAsync(generationId, caller.OrgId, jobId, "image", s.Settings.ImageModel, PromptOf(node),
            JsonSerializer.Serialize(node.Params, FentaJson.Options), ct);
        s.StartRegeneration(position, body?.ImagePrompt, jobId, generationId);
        await locked.SaveAsync(ct);
        return TypedResults.Accepted($"/v1/storyboards/{storyboardId}", await DtoAsync(s, estimate, ct));
    }

    [Function(nameof(RenderStoryboard)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Render the storyboard to MP4 as a job: the scene images in order, each shown while its narration is spoken (read in the storyboard's voice), subtitles, optional music ducked under it. Every scene needs its image (409 otherwise). Answers 202 with the storyboard (rendering, its render's job) and the estimate.")]
    public async Task<Accepted<StoryboardDto>> RenderStoryboard(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/storyboards/{storyboardId}/render")] HttpRequest request,
        string storyboardId, [FromBody] RenderStoryboardRequest? body, Caller caller,
        [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        body ??= new RenderStoryboardRequest(null, null, null, null, null, null, null);
        await using var locked = await LockAsync(caller, storyboardId, ct);
        var s = locked.Storyboard;
        var choices = await RenderChoicesAsync(body, s.Settings.AspectRatio, caller, ct);
        s.EnsureRenderable();
        var graph = StoryboardGraphs.Render(s, choices);
        await ValidateAsync(graph, caller, ct);
        var estimate = await jobs.EstimateAsync(caller.OrgId, graph, ct);
        var (jobId, _) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, new JobConfig(graph, Empty), s.RenderKey), ct);
        s.StartRender(jobId);
        await locked.SaveAsync(ct);
        audit.Record(caller, "render", "storyboard", storyboardId, new { job_id = jobId });
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/storyboards/{storyboardId}", await DtoAsync(s, estimate, ct));
    }

    private static readonly JsonElement Empty = JsonDocument.Parse("{}").RootElement;

    /// <summary>The {n} of a scene route (its int constraint already matched it).</summary>
    private static int Position(string n) => int.Parse(n, System.Globalization.CultureInfo.InvariantCulture);

    private static string PromptOf(GraphNode node) => node.Params!.TryGetValue("prompt", out var p) ? p.GetString() ?? "" : "";

    /// <summary>The create request checked, all problems at once: its settings, and the given script's scenes (null for a prompt).</summary>
    private static (StoryboardSettings Settings, List<StoryboardScene>? Given, string? Title) Checked(CreateStoryboardRequest body)
    {
        var errors = new FieldErrors();
        var prompt = body.Prompt?.Trim();
        var hasScript = body.Script is { ValueKind: not (JsonValueKind.Null or JsonValueKind.Undefined) };
        if (prompt is { Length: > 0 } && hasScript) errors.Add("script", "give a prompt or a script, not both");
        else if (prompt is not { Length: > 0 } && !hasScript) errors.Add("prompt", "is required unless a script is given");
        if (prompt is { Length: > 4000 }) errors.Add("prompt", "must be at most 4000 characters");
        if (body.SceneCount is { } count && count is < Storyboard.MinScenes or > Storyboard.MaxScenes)
            errors.Add("scene_count", $"must be {Storyboard.MinScenes} to {Storyboard.MaxScenes}");
        else if (body.SceneCount is null && !hasScript) errors.Add("scene_count", $"is required with a prompt ({Storyboard.MinScenes} to {Storyboard.MaxScenes})");
        var aspect = body.AspectRatio ?? "9:16";
        if (!AspectRatios.Contains(aspect)) errors.Add("aspect_ratio", $"must be one of: {string.Join(", ", AspectRatios)}");
        var provider = body.Provider ?? "auto";
        if (!Providers.Contains(provider)) errors.Add("provider", $"must be one of: {string.Join(", ", Providers)}");
        var modelId = body.ImageModel ?? DefaultImageModel;
        if (ModelRegistry.Find(modelId) is not { ContentType: "prompt_to_image" })
            errors.Add("image_model", $"must be an image model of /v1/models: {string.Join(", ", ModelRegistry.All.Where(m => m.ContentType == "prompt_to_image").Select(m => m.Id))}");
        if (body.Title is { } t && t.Trim().Length > 200) errors.Add("title", "must be at most 200 characters");
        if (body.Style is { Length: > 200 }) errors.Add("style", "must be at most 200 characters");
        if (body.Voice is { } voice && (voice.Trim().Length is 0 or > 64)) errors.Add("voice", "must be 1 to 64 characters (a voice of GET /v1/voices)");
        var lang = body.Lang ?? "en";
        if (lang.Length is 0 or > 16) errors.Add("lang", "must be a BCP 47 language tag, e.g. en");

        List<StoryboardScene>? given = null;
        string? title = null;
        if (hasScript && !errors.All.Any(e => e.Field == "script"))
        {
            (given, title) = GivenScenes(body.Script!.Value, body.SceneCount, errors);
        }
        errors.ThrowIfAny();
        var settings = new StoryboardSettings(string.IsNullOrWhiteSpace(body.Style) ? null : body.Style.Trim(), given?.Count ?? body.SceneCount!.Value, aspect,
            body.Voice?.Trim(), modelId, provider, lang);
        return (settings, given, title);
    }

    /// <summary>A given script's scenes: text split into scenes, or its scenes as listed.</summary>
    private static (List<StoryboardScene>? Scenes, string? Title) GivenScenes(JsonElement script, int? sceneCount, FieldErrors errors)
    {
        static StoryboardScene Scene(int i, string narration, string? prompt, double? duration) => new($"scene-{i + 1}", narration.Trim(),
            string.IsNullOrWhiteSpace(prompt) ? narration.Trim() : prompt.Trim(), duration ?? Storyboard.PlannedSeconds(narration), SceneStatus.Generating);
        if (script.ValueKind == JsonValueKind.String)
        {
            var text = script.GetString()!;
            if (text.Trim().Length == 0) { errors.Add("script", "must not be empty"); return (null, null); }
            if (text.Length > Storyboard.MaxScenes * GivenScript.MaxNarrationChars) { errors.Add("script", "is too long"); return (null, null); }
            var parts = Storyboard.ScenesOfText(text, sceneCount);
            if (parts.Count > Storyboard.MaxScenes) { errors.Add("script", $"makes {parts.Count} scenes; at most {Storyboard.MaxScenes}"); return (null, null); }
            return ([.. parts.Select((p, i) => Scene(i, p, null, null))], null);
        }
        if (script.ValueKind != JsonValueKind.Object || !script.TryGetProperty("scenes", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            errors.Add("script", "must be text, or {\"title\"?, \"scenes\": [{\"narration\", \"image_prompt\"?, \"duration\"?}]}");
            return (null, null);
        }
        GivenSceneRequest[] scenes;
        string? title;
        try
        {
            scenes = list.Deserialize<GivenSceneRequest[]>(FentaJson.Options)!;
            title = script.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            foreach (var property in script.EnumerateObject())
                if (property.Name is not ("title" or "scenes")) errors.Add($"script.{property.Name}", "is not a field of a script (title, scenes)");
        }
        catch (JsonException e)
        {
            errors.Add("script.scenes", $"must be a list of {{\"narration\", \"image_prompt\"?, \"duration\"?}}: {e.Message}");
            return (null, null);
        }
        if (scenes.Length is < Storyboard.MinScenes or > Storyboard.MaxScenes) errors.Add("script.scenes", $"must have {Storyboard.MinScenes} to {Storyboard.MaxScenes} scenes");
        if (sceneCount is { } count && count != scenes.Length) errors.Add("scene_count", $"is {count} but the script has {scenes.Length} scenes (leave it out)");
        for (var i = 0; i < scenes.Length; i++)
        {
            var narration = scenes[i].Narration;
            if (string.IsNullOrWhiteSpace(narration)) errors.Add($"script.scenes[{i}].narration", "is required");
            Storyboard.CheckScene(string.IsNullOrWhiteSpace(narration) ? null : narration, scenes[i].ImagePrompt, null, errors, $"script.scenes[{i}].");
            if (scenes[i].Duration is { } d && (double.IsNaN(d) || d < Storyboard.MinSceneSeconds || d > Storyboard.MaxSceneSeconds))
                errors.Add($"script.scenes[{i}].duration", $"must be {Storyboard.MinSceneSeconds:0} to {Storyboard.MaxSceneSeconds:0} seconds");
        }
        if (title is { Length: > 200 }) errors.Add("script.title", "must be at most 200 characters");
        return errors.Any ? (null, null) : ([.. scenes.Select((s, i) => Scene(i, s.Narration!, s.ImagePrompt, s.Duration))], title);
    }

    private async Task<RenderChoices> RenderChoicesAsync(RenderStoryboardRequest body, string aspect, Caller caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        var styles = NodeCatalog.Find("Subtitle.Auto")!.Params.Single(p => p.Name == "style").Values!;
        string? style = "clean_box";
        switch (body.Subtitles)
        {
            case null or { ValueKind: JsonValueKind.Null or JsonValueKind.True }: break;
            case { ValueKind: JsonValueKind.False }: style = null; break;
            case { ValueKind: JsonValueKind.String } s when styles.Contains(s.GetString()!): style = s.GetString(); break;
            default: errors.Add("subtitles", $"must be false or a style: {string.Join(", ", styles)}"); break;
        }
        var qualities = NodeCatalog.Find("Output.Render")!.Params.Single(p => p.Name == "quality").Values!;
        var quality = body.Quality ?? "standard";
        if (!qualities.Contains(quality)) errors.Add("quality", $"must be one of: {string.Join(", ", qualities)}");
        var resolution = body.Resolution ?? "1080p";
        if (resolution is not ("720p" or "1080p")) errors.Add("resolution", "must be 720p or 1080p");
        string? music = null;
        if (body.Music is { } m)
        {
            if (m.AssetId is not null && m.Prompt is not null) errors.Add("music", "give an asset_id or a prompt, not both");
            else if (m.Prompt is { } prompt)
            {
                if (prompt.Trim().Length is 0 or > 500) errors.Add("music.prompt", "must be 1 to 500 characters");
            }
            else if (m.AssetId is null) errors.Add("music.asset_id", "is required unless a prompt is given: an uploaded audio asset (POST /v1/assets/init)");
            else if (!await db.Assets.AnyAsync(a => a.Id == m.AssetId && a.OrgId == caller.OrgId && a.DeletedAt == null && a.Status == "ready" && a.Type == "audio", ct))
                errors.Add("music.asset_id", $"no ready audio asset '{m.AssetId}' in this organization");
            else music = m.AssetId;
            if (m.Volume is { } v && (double.IsNaN(v) || v < 0 || v > 1)) errors.Add("music.volume", "must be 0 to 1");
        }
        var template = body.TemplateId ?? StoryboardGraphs.TemplateOf(aspect);
        if (body.TemplateId is not null && await db.ReadableTemplates(caller.OrgId).Where(t => t.Id == template).Select(t => t.Aspect).SingleOrDefaultAsync(ct) is var found
            && found != aspect)
            errors.Add("template_id", found is null ? $"no template '{template}' in this organization or the built-in set" : $"is a {found} template; this storyboard is {aspect}");
        if (body.ImageToVideo is { } i2v && (i2v.Model is null || ModelRegistry.Find(i2v.Model) is not { ContentType: "image_to_video" }))
            errors.Add("image_to_video.model", $"must be an image_to_video model of /v1/models: {string.Join(", ", ModelRegistry.All.Where(m => m.ContentType == "image_to_video").Select(m => m.Id))}");
        errors.ThrowIfAny();
        return new RenderChoices(style, music, body.Music?.Prompt?.Trim(), body.Music?.Volume, quality, resolution, template, body.Overlays ?? false,
            body.ImageToVideo?.Model, body.ImageToVideo?.Duration);
    }

    /// <summary>The graph's rules, naming the request's fields rather than the built graph's (a bug if anything else is named).</summary>
    private async Task ValidateAsync(WorkflowGraph graph, Caller caller, CancellationToken ct)
    {
        try
        {
            await GraphChecks.ValidateAsync(graph, caller, db, ct);
        }
        catch (ValidationFailedException e)
        {
            throw new ValidationFailedException([.. e.Errors.Select(f => f with { Field = RequestField(graph, f), NodeId = null })]);
        }
    }

    private static string RequestField(WorkflowGraph graph, FieldError error)
    {
        var match = NodeParam().Match(error.Field);
        if (!match.Success) return error.Field;
        var node = graph.Nodes[int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)];
        return (node.Type, match.Groups[2].Value) switch
        {
            ("Input.KAI.GenerateImage", "model" or "model_params") => "image_model",
            ("Input.KAI.GenerateImage", "aspect_ratio") => "aspect_ratio",
            ("Input.KAI.GenerateImage", "prompt") => "image_prompt",
            ("Script.Generate", "prompt") => "prompt",
            ("Script.Generate", "script") => "script",
            ("Script.Generate", "lang") => "lang",
            ("Voice.TTS", "voice") => "voice",
            ("Input.KAI.GenerateVideo", "model" or "model_params") => "image_to_video.model",
            ("Input.KAI.GenerateVideo", "duration") => "image_to_video.duration",
            ("Input.KAI.GenerateMusic", var param) => $"music.{(param == "prompt" ? "prompt" : "volume")}",
            ("Audio.Mix", "music_volume") => "music.volume",
            ("Edit.Timeline", "template_id") => "template_id",
            _ => error.Field,
        };
    }

    [GeneratedRegex(@"^graph\.nodes\[(\d+)\]\.params\.([a-z_]+)")]
    private static partial Regex NodeParam();

    private async Task<StoryboardLock> LockAsync(Caller caller, string id, CancellationToken ct) =>
        await store.LockAsync(caller.OrgId, id, ct) ?? throw new NotFoundException("storyboard", id);

    private async Task<Storyboard> FindAsync(Caller caller, string id, CancellationToken ct) =>
        await store.FindAsync(caller.OrgId, id, ct) ?? throw new NotFoundException("storyboard", id);

    /// <summary>The storyboard with short-lived read links to its images and video (only the cover's with <paramref name="coverOnly"/>).</summary>
    private async Task<StoryboardDto> DtoAsync(Storyboard s, CostEstimate? estimate, CancellationToken ct, bool coverOnly = false)
    {
        var wanted = (coverOnly ? s.Scenes.Take(1) : s.Scenes).Select(x => x.ImageAssetId).Append(coverOnly ? null : s.Render?.VideoAssetId).OfType<string>().ToList();
        var assets = wanted.Count == 0 ? [] : await db.Assets.AsNoTracking()
            .Where(a => wanted.Contains(a.Id) && a.OrgId == s.OrgId && a.DeletedAt == null && a.Status == "ready").ToListAsync(ct);
        var links = new Dictionary<string, SignedLink>();
        foreach (var a in assets) links[a.Id] = await blobs.ReadLinkAsync(a.StorageKey, blobs.Options.DownloadLinkLifetime, a.ContentType, a.Filename, ct);
        SignedLink? Link(string? id) => id is not null && links.TryGetValue(id, out var link) ? link : null;
        var scenes = s.Scenes.Select((x, i) => new StoryboardSceneDto(x.Id, i + 1, x.Narration, x.ImagePrompt, x.DurationSeconds, x.Status, x.ImageAssetId,
            Link(x.ImageAssetId)?.Url.ToString(), Link(x.ImageAssetId)?.ExpiresAt, x.GenerationId, x.JobId, x.Error)).ToList();
        var render = s.Render is { } r ? new StoryboardRenderDto(r.JobId, r.Status, r.VideoAssetId, Link(r.VideoAssetId)?.Url.ToString(), Link(r.VideoAssetId)?.ExpiresAt, r.Error) : null;
        return new StoryboardDto(s.Id, s.Title, s.Description, s.Status, s.Error, s.Settings, scenes, Math.Round(s.Scenes.Sum(x => x.DurationSeconds), 1), s.JobId, render,
            s.TotalCreditsUsed, estimate, s.CreatedAt, s.UpdatedAt);
    }
}
