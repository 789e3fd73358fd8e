using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Workflows;
using FentaWeb.Integrations.Kie;
using FentaWeb.Runs.Assets;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Kie;

public sealed record KieArgs(string Model, string? Prompt, string Provider, string Operation = "restyle", bool Reuse = false);

/// <summary>KIE's client with what a generation needs around it: where callbacks and input files are reachable.</summary>
/// <param name="PublicUrl">Where KIE reaches the API for callbacks (FENTA_PUBLIC_URL).</param>
public sealed record KieRuntime(KieClient Client, KieOptions Options, Uri PublicUrl);

/// <summary>A KIE task this node item waits on: its id, when it was created, when to give up and how soon to look first.</summary>
public sealed record KieTask(string TaskId, DateTime SubmittedUtc, double DeadlineSeconds, double PollSeconds);

/// <summary>What KIE says of a task: still pending (look again after <paramref name="NextPollSeconds"/>), failed, or done with files.</summary>
public sealed record KieProgress(KieState State, IReadOnlyList<string> ResultUrls, double NextPollSeconds, ActivityResult.Failed? Failure = null);

/// <summary>
/// Input.KAI.GenerateImage / GenerateVideo / EditVideo. Without a key (or with provider local) the local generator
/// draws stand-ins in one activity. On KIE, the <c>KieItem</c> sub-orchestration drives the steps here:
/// <see cref="CreateAsync"/> records the task id in <c>kai_generations</c> before returning (a repeated create finds
/// it and never pays twice), <see cref="CheckAsync"/> reads the task back (a callback is only a wake-up: KIE signs
/// nothing), <see cref="CollectAsync"/> downloads the results into the blob store at once (KIE's URLs expire).
/// Every generation is a <c>kai_generations</c> row.
/// </summary>
public sealed class KieGenerationActivity(string nodeType, NpgsqlDataSource db, AssetStore assets, KieRuntime? kie = null) : NodeActivity<KieArgs>
{
    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(30);

    public override string NodeType => nodeType;

    private KieRuntime Kie => kie ?? throw new InvalidOperationException("KIE is not configured (FENTA_KIE_API_KEY).");

    private string Kind => nodeType switch { "Input.KAI.GenerateImage" => "image", "Input.KAI.EditVideo" => "edit", _ => "video" };

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, KieArgs args, CancellationToken ct)
    {
        if (Resolve(context, args, out var refused) is not var (model, prompt, settings, input)) return refused!;
        if (args.Provider == "kie" && kie is null)
            return new ActivityResult.Failed("KIE_NOT_CONFIGURED", "This node asks for KIE.ai but FENTA_KIE_API_KEY is not set.", Permanent: true);
        if (UsesKie(context.Params))
            return new ActivityResult.Failed("KIE_NEEDS_ORCHESTRATION", "KIE generations run as their own sub-orchestration, not as one activity.", Permanent: true);
        if (string.IsNullOrWhiteSpace(prompt)) prompt = "untitled scene";
        var reuseKey = ReuseKey(context, "local", model, prompt, settings, input);
        return await ReusedAsync(context, args, "local", model, prompt, input, reuseKey, ct)
               ?? await GenerateLocallyAsync(context, model, prompt, settings, input, reuseKey, args.Operation, ct);
    }

    /// <summary>Whether this node's generations go to KIE (configured, and not asked for local stand-ins).</summary>
    public bool UsesKie(IReadOnlyDictionary<string, JsonElement> parameters) => kie is not null && ArgsOf(parameters).Provider != "local";

    /// <summary>The model, prompt and model input of a generation, or why it cannot be made.</summary>
    private (ModelDefinition Model, string Prompt, GenerationSettings Settings, JsonObject Input)? Resolve(ActivityContext context, KieArgs args, out ActivityResult.Failed? refused)
    {
        refused = null;
        var model = ModelRegistry.Find(args.Model);
        if (model is null || !ModelRegistry.Fits(model, nodeType))
        {
            refused = new ActivityResult.Failed("MODEL_NOT_AVAILABLE", $"{nodeType} cannot use the model '{args.Model}'.", Permanent: true);
            return null;
        }
        var scene = Kind == "edit" ? null : context.Item?.Deserialize<Scene>(FentaJson.Options);
        var prompt = string.Join(". ", new[] { scene?.VisualPrompt, args.Prompt }.Where(p => !string.IsNullOrWhiteSpace(p)));
        if (Kind == "edit") prompt = $"{args.Operation}: {prompt}";
        var settings = NodeCatalog.GenerationSettingsOf(context.Params);
        var errors = new FieldErrors();
        var input = model.Resolve(settings, context.Params.TryGetValue("model_params", out var mp) ? mp : null, "params.model_params", errors);
        if (errors.Any)
        {
            refused = new ActivityResult.Failed("MODEL_PARAMS_INVALID", string.Join("; ", errors.All.Select(e => $"{e.Field} {e.Message}")), Permanent: true);
            return null;
        }
        return (model, prompt, settings, input);
    }

    /// <summary>
    /// The KIE task of this attempt: the one recorded for it (a repeated create), or a new one, recorded before this
    /// returns. Otherwise the result to report instead (refused input, a rate limit to wait out).
    /// </summary>
    public async Task<(KieTask? Task, ActivityResult? Instead)> CreateAsync(ActivityContext context, CancellationToken ct)
    {
        var args = ArgsOf(context.Params);
        if (Resolve(context, args, out var refused) is not var (model, prompt, settings, input)) return (null, refused);
        var deadline = (Kie.Options.Deadline ?? TimeSpan.FromSeconds(Math.Max(600, model.EstimatedSeconds * 10))).TotalSeconds;
        await using (var cmd = GenerationCommand(context, """
            SELECT external_id, updated_at FROM kai_generations
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3 AND attempt = $4 AND status = 'processing' AND external_id IS NOT NULL
            """, context.Attempt))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            if (await reader.ReadAsync(ct))
                return (new KieTask(reader.GetString(0), reader.GetFieldValue<DateTimeOffset>(1).UtcDateTime, deadline, Kie.Options.PollInterval.TotalSeconds), null);
        var reuseKey = ReuseKey(context, "kie", model, prompt, settings, input);
        if (await ReusedAsync(context, args, "kie", model, prompt, input, reuseKey, ct) is { } reused) return (null, reused);
        return await SubmitAsync(context, Kie, model, prompt, input, reuseKey, deadline, ct);
    }

    /// <summary>
    /// What makes a generation from a prompt alone, as a digest: kind, model, provider, prompt, the model's input and the
    /// node's settings. None for a generation from input media (edits, image-to-video): their links differ every time.
    /// </summary>
    private string? ReuseKey(ActivityContext context, string provider, ModelDefinition model, string prompt, GenerationSettings settings, JsonObject input)
    {
        if (Kind == "edit" || InputAssetIds(context).Count > 0) return null;
        var made = JsonSerializer.Serialize(new { kind = Kind, model = model.Id, provider, prompt, input, settings }, FentaJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(made)));
    }

    /// <summary>
    /// With <c>reuse</c> on: the org's latest completed generation with the same key whose files are all still kept, taken
    /// as this item's at no charge (recorded as its own generation with 0 credits); null when there is none.
    /// </summary>
    private async Task<ActivityResult?> ReusedAsync(ActivityContext context, KieArgs args, string provider, ModelDefinition model, string prompt,
        JsonObject input, string? reuseKey, CancellationToken ct)
    {
        if (!args.Reuse || reuseKey is null) return null;
        await using var cmd = GenerationCommand(context, """
            WITH source AS (
              SELECT g.id, g.result_asset_ids FROM kai_generations g
              WHERE g.org_id = $4 AND g.reuse_key = $5 AND g.status = 'completed' AND cardinality(g.result_asset_ids) > 0
                AND g.job_id IS DISTINCT FROM $1
                AND NOT EXISTS (SELECT 1 FROM unnest(g.result_asset_ids) r(asset_id)
                                WHERE NOT EXISTS (SELECT 1 FROM assets a WHERE a.id = r.asset_id AND a.deleted_at IS NULL))
              ORDER BY g.completed_at DESC LIMIT 1)
            SELECT s.id, a.id, a.type, a.duration_seconds, a.width, a.height
            FROM source s, unnest(s.result_asset_ids) WITH ORDINALITY r(asset_id, n) JOIN assets a ON a.id = r.asset_id
            ORDER BY r.n
            """, context.OrgId, reuseKey);
        string? source = null;
        var media = new List<MediaItem>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
            {
                source = reader.GetString(0);
                media.Add(StoredItem(reader, ["generated", model.Family.ToLowerInvariant(), "reused"]));
            }
        if (source is null) return null;
        await UpsertAsync(context, provider, model, prompt, input, reuseKey, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), ct);
        await FinishAsync(context, media, 0, ct);
        await context.LogAsync("info", $"Reused generation {source} ({model.Id}, same prompt and settings): no credits spent", new { reused_generation_id = source }, ct);
        return ActivityResult.Done(media);
    }

    /// <summary>Reads a task back from KIE. A failed query says nothing about the generation: it is asked again later.</summary>
    public async Task<KieProgress> CheckAsync(ActivityContext context, KieTask task, CancellationToken ct)
    {
        var model = ModelRegistry.Find(ArgsOf(context.Params).Model)!;
        var age = DateTime.UtcNow - task.SubmittedUtc;
        KieStatus status;
        try
        {
            status = await Kie.Client.StatusAsync(model, task.TaskId, ct);
        }
        catch (ProviderException e) when (!e.Permanent)
        {
            await context.LogAsync("warn", $"KIE status query failed, will ask again: {e.Message}", new { task_id = task.TaskId }, ct);
            return new KieProgress(KieState.Pending, [], (e.RetryAfter ?? NextPoll(Kie, age)).TotalSeconds);
        }
        return status.State switch
        {
            KieState.Pending => new KieProgress(KieState.Pending, [], NextPoll(Kie, age).TotalSeconds),
            // A failed generation fails this attempt; the node's retry policy decides whether to try again.
            KieState.Failed => new KieProgress(KieState.Failed, [], 0, await FailAsync(context, "KIE_GENERATION_FAILED",
                $"KIE could not generate this ({status.FailCode ?? "no code"}): {status.FailMessage ?? "no reason given"}", false, ct)),
            _ when status.ResultUrls.Count == 0 => new KieProgress(KieState.Failed, [], 0,
                await FailAsync(context, "KIE_NO_RESULT", $"KIE reported task {task.TaskId} done without result files.", false, ct)),
            _ => new KieProgress(status.State, status.ResultUrls, 0),
        };
    }

    /// <summary>Past the task's deadline: the generation is given up.</summary>
    public async Task<ActivityResult.Failed> ExpireAsync(ActivityContext context, KieTask task, CancellationToken ct)
    {
        var model = ModelRegistry.Find(ArgsOf(context.Params).Model)!;
        return await FailAsync(context, "KIE_DEADLINE", $"{model.Name} did not finish within {task.DeadlineSeconds:0} s; the generation was given up.", true, ct);
    }

    /// <summary>Downloads a finished task's files into the blob store as assets (once: a repeat finds them recorded).</summary>
    public async Task<ActivityResult> CollectAsync(ActivityContext context, KieTask task, IReadOnlyList<string> resultUrls, CancellationToken ct)
    {
        if (Resolve(context, ArgsOf(context.Params), out var refused) is not var (model, prompt, _, input)) return refused!;
        // A collect that ran before (its worker died after finishing) left its assets recorded: report those.
        var (recorded, results) = await RecordedAsync(context, task.TaskId, ct);
        if (recorded == "completed") return ActivityResult.Done(results);
        var taskId = task.TaskId;
        var media = new List<MediaItem>();
        foreach (var (url, i) in resultUrls.Select((u, i) => (u, i)))
        {
            var extension = Path.GetExtension(new Uri(url).AbsolutePath) is { Length: > 1 and < 6 } ext ? ext : model.Output == "image" ? ".png" : ".mp4";
            var path = Path.Combine(Path.GetTempPath(), $"fenta-kie-{Guid.NewGuid():N}{extension}");
            try
            {
                await Kie.Client.DownloadAsync(url, path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", ContentTypeOf(extension), $"{model.Id}-{context.ItemIndex}-{i}{extension}",
                    context.JobId, context.NodeId, Metadata: new { provider = "kie", model = model.Id, prompt, task_id = taskId, source_url = url }), path, ct);
                media.Add(Item(asset, model));
            }
            finally
            {
                File.Delete(path);
            }
        }
        await FinishAsync(context, media, model.Credits(input), ct);
        return ActivityResult.Done(media);
    }

    private async Task<(KieTask? Task, ActivityResult? Instead)> SubmitAsync(ActivityContext context, KieRuntime kie, ModelDefinition model, string prompt,
        JsonObject input, string? reuseKey, double deadlineSeconds, CancellationToken ct)
    {
        if (model.ImageParam is { } imageParam && input[imageParam] is null)
        {
            var sources = await InputFileUrlsAsync(context, ct);
            if (sources.Count > 0) input[imageParam] = imageParam.EndsWith('s') ? new JsonArray([.. sources.Select(s => JsonValue.Create(s))]) : sources[0];
            else if (model.Params.First(p => p.Name == imageParam).Required || Kind == "edit")
                return (null, new ActivityResult.Failed("MODEL_INPUT_MISSING", $"{model.Id} needs {imageParam}: connect media or set model_params.{imageParam}.", Permanent: true));
        }
        // The credits are reserved before KIE is asked, so parallel items and concurrent runs cannot spend past the run's
        // budget or a free org's allowance together; the reservation is settled in FinishAsync or refunded in FailAsync.
        var call = new NodeCall(context.JobId, context.NodeId, context.ItemIndex, context.Attempt);
        if (await Reservations.ReserveAsync(db, call, new Spend(0, model.Credits(input), 0), ct) is { } refused)
            return (null, await FailAsync(context, refused.Code, refused.Message, true, ct));
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        await UpsertAsync(context, "kie", model, prompt, input, reuseKey, token, ct);
        var callback = new Uri(kie.PublicUrl, $"v1/kai/callbacks/{token}").ToString();
        string taskId;
        try
        {
            taskId = await kie.Client.SubmitAsync(model, prompt, input, callback, ct);
        }
        catch (ProviderException e) when (e.Permanent)
        {
            return (null, await FailAsync(context, e.Code, e.Message, true, ct));
        }
        catch (ProviderException e) when (e.RetryAfter is { } wait)
        {
            // Rate limits and maintenance are waited out without using an attempt; say so, or the job just looks stuck.
            await context.LogAsync("warn", $"{e.Message} Trying again in {wait.TotalSeconds:0} s.", new { code = e.Code }, ct);
            return (null, new ActivityResult.RetryLater(wait, e.Code));
        }
        var submitted = DateTime.UtcNow;
        await context.RecordExternalRefAsync(taskId, ct);
        await using (var cmd = GenerationCommand(context, """
            UPDATE kai_generations SET external_id = $4, status = 'processing', updated_at = $5
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3
            """, taskId, new DateTimeOffset(submitted)))
            await cmd.ExecuteNonQueryAsync(ct);
        await context.LogAsync("info", $"KIE task {taskId} created for {model.Id}", new { task_id = taskId, model = model.Id }, ct);
        return (new KieTask(taskId, submitted, deadlineSeconds, kie.Options.PollInterval.TotalSeconds), null);
    }

    private async Task<ActivityResult> GenerateLocallyAsync(ActivityContext context, ModelDefinition model, string prompt, GenerationSettings settings,
        JsonObject input, string? reuseKey, string operation, CancellationToken ct)
    {
        await UpsertAsync(context, "local", model, prompt, input, reuseKey, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), ct);
        if (Kind == "edit") return await EditLocallyAsync(context, model, prompt, settings, operation, ct);
        var media = new List<MediaItem>();
        var count = model.Output == "image" ? Math.Max(1, settings.Count) : 1;
        for (var i = 0; i < count; i++)
        {
            var image = model.Output == "image";
            var path = Path.Combine(Path.GetTempPath(), $"fenta-local-{Guid.NewGuid():N}{(image ? ".png" : ".mp4")}");
            try
            {
                var variant = count > 1 ? $"{prompt} ({i + 1})" : prompt;
                if (image) await LocalGenerator.DrawStillAsync(variant, settings.AspectRatio, path, ct);
                else await LocalGenerator.DrawClipAsync(variant, settings.AspectRatio, Math.Clamp(settings.DurationSeconds ?? 5, 2, 20), path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", image ? "image/png" : "video/mp4", $"{model.Id}-local-{context.ItemIndex}-{i}{Path.GetExtension(path)}",
                    context.JobId, context.NodeId, Metadata: new { provider = "local", model = model.Id, prompt, note = "drawn locally: FENTA_KIE_API_KEY is not set" }), path, ct);
                media.Add(Item(asset, model));
            }
            finally
            {
                File.Delete(path);
            }
        }
        await FinishAsync(context, media, 0, ct);
        return ActivityResult.Done(media);
    }

    /// <summary>Each input clip edited with ffmpeg by the node's operation (see <see cref="LocalGenerator.EditClipAsync"/>).</summary>
    private async Task<ActivityResult> EditLocallyAsync(ActivityContext context, ModelDefinition model, string prompt, GenerationSettings settings,
        string operation, CancellationToken ct)
    {
        var clips = InputAssetIds(context);
        using var paths = await assets.LocalFilesAsync(context.OrgId, clips, ct);
        var media = new List<MediaItem>();
        foreach (var clip in clips.Where(paths.ContainsKey))
        {
            var path = Path.Combine(Path.GetTempPath(), $"fenta-edit-{Guid.NewGuid():N}.mp4");
            try
            {
                await LocalGenerator.EditClipAsync(paths[clip], operation, settings.AspectRatio, path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", "video/mp4", $"{model.Id}-local-{operation}-{media.Count}.mp4",
                    context.JobId, context.NodeId, Metadata: new { provider = "local", model = model.Id, prompt, operation, source_asset_id = clip,
                        note = "edited locally: FENTA_KIE_API_KEY is not set" }), path, ct);
                media.Add(Item(asset, model));
            }
            finally
            {
                File.Delete(path);
            }
        }
        if (media.Count == 0) return await FailAsync(context, "MODEL_INPUT_MISSING", "Input.KAI.EditVideo needs clips of this organization on its media input.", true, ct);
        await FinishAsync(context, media, 0, ct);
        return ActivityResult.Done(media);
    }

    /// <summary>The clips this run works on: its own clip when the node fans out over its media, else all of them.</summary>
    private static List<string> InputAssetIds(ActivityContext context)
    {
        if (context.Item is { ValueKind: JsonValueKind.Object } item && item.TryGetProperty("asset_id", out var own)) return [own.GetString()!];
        return context.Inputs.TryGetValue("media", out var media) && media.ValueKind == JsonValueKind.Array
            ? [.. media.EnumerateArray().Select(m => m.GetProperty("asset_id").GetString()!)]
            : [];
    }

    /// <summary>Read-only links straight to the node's input media in Blob Storage (the clip to edit, or reference images), for KIE to fetch.</summary>
    private async Task<List<string>> InputFileUrlsAsync(ActivityContext context, CancellationToken ct)
    {
        var ids = InputAssetIds(context);
        if (ids.Count == 0) return [];
        await using var cmd = db.CreateCommand("SELECT id, storage_key, content_type FROM assets WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL");
        cmd.Parameters.Add(new() { Value = context.OrgId });
        cmd.Parameters.Add(new() { Value = ids.ToArray() });
        var files = new Dictionary<string, (string Key, string? ContentType)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) files[reader.GetString(0)] = (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        var urls = new List<string>();
        // A generation may wait in KIE's queue for a while before it fetches its inputs.
        foreach (var id in ids.Where(files.ContainsKey))
            urls.Add((await assets.Blobs.ReadLinkAsync(files[id].Key, TimeSpan.FromHours(24), files[id].ContentType, null, ct)).Url.ToString());
        return urls;
    }

    private async Task UpsertAsync(ActivityContext context, string provider, ModelDefinition model, string prompt, JsonObject input, string? reuseKey,
        string token, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO kai_generations (id, org_id, job_id, node_id, item_index, type, model, provider, prompt, params, status, attempt, callback_token, credits_used, reuse_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', $11, $12, $13, $14)
            ON CONFLICT (job_id, node_id, item_index) DO UPDATE
              SET provider = EXCLUDED.provider, prompt = EXCLUDED.prompt, params = EXCLUDED.params, status = 'queued', attempt = EXCLUDED.attempt,
                  callback_token = EXCLUDED.callback_token, reuse_key = EXCLUDED.reuse_key,
                  external_id = NULL, error = NULL, updated_at = now()
            """);
        foreach (var value in new object[] { Ids.New("gen"), context.OrgId, context.JobId, context.NodeId, context.ItemIndex, Kind, model.Id, provider, prompt })
            cmd.Parameters.Add(new() { Value = value });
        cmd.Parameters.Add(new() { Value = input.ToJsonString(), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new() { Value = context.Attempt });
        cmd.Parameters.Add(new() { Value = token });
        cmd.Parameters.Add(new() { Value = provider == "kie" ? model.Credits(input) : 0 });
        cmd.Parameters.Add(new() { Value = (object?)reuseKey ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>A command on this node item's generation row: $1-$3 are job, node and item; <paramref name="values"/> follow as $4….</summary>
    private NpgsqlCommand GenerationCommand(ActivityContext context, string sql, params object[] values)
    {
        var cmd = db.CreateCommand(sql);
        foreach (var value in new object[] { context.JobId, context.NodeId, context.ItemIndex }.Concat(values))
            cmd.Parameters.Add(new() { Value = value });
        return cmd;
    }

    /// <summary>
    /// What this node item's row says of the task: its status, and its result media when completed (a worker died
    /// after finishing but before completing the node).
    /// </summary>
    private async Task<(string? Status, List<MediaItem> Results)> RecordedAsync(ActivityContext context, string taskId, CancellationToken ct)
    {
        await using var cmd = GenerationCommand(context, """
            SELECT g.status, a.id, a.type, a.duration_seconds, a.width, a.height
            FROM kai_generations g
            LEFT JOIN LATERAL unnest(g.result_asset_ids) WITH ORDINALITY AS r(asset_id, n) ON g.status = 'completed'
            LEFT JOIN assets a ON a.id = r.asset_id
            WHERE g.job_id = $1 AND g.node_id = $2 AND g.item_index = $3 AND g.external_id = $4
            ORDER BY r.n
            """, taskId);
        string? status = null;
        var media = new List<MediaItem>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            status = reader.GetString(0);
            if (!reader.IsDBNull(1)) media.Add(StoredItem(reader, ["generated"]));
        }
        return (status, media);
    }

    private async Task FinishAsync(ActivityContext context, List<MediaItem> media, int credits, CancellationToken ct)
    {
        // The generation's credits are metered once, as the org's usage record of this node item (a worker that died
        // after finishing runs this again and finds the record there), priced at the org's plan, and only then added to
        // the job's: an increment under the job row's lock, so parallel items of one node all count. The credits'
        // reservation is settled in the same statement.
        var perCredit = credits > 0 ? (await Metering.PricesOfJobAsync(db, context.JobId, ct)).PerKaiCredit : 0;
        await using var cmd = GenerationCommand(context, $"""
            WITH done AS (
              UPDATE kai_generations SET status = 'completed', result_asset_ids = $4, credits_used = $5, completed_at = now(), updated_at = now()
              WHERE job_id = $1 AND node_id = $2 AND item_index = $3 RETURNING model),
            settled AS ({Reservations.ReleaseItemSql}),
            recorded AS (
              INSERT INTO usage_records (id, org_id, user_id, job_id, node_id, item_index, resource_type, kai_credits, kai_model, cost_usd)
              SELECT fenta_id('usage'), j.org_id, j.created_by, j.id, $2, $3, 'kai_credits', $5, (SELECT model FROM done), $5 * $6
              FROM jobs j WHERE j.id = $1 AND $5 > 0 AND EXISTS (SELECT 1 FROM done)
              ON CONFLICT (job_id, node_id, item_index, resource_type) WHERE job_id IS NOT NULL DO NOTHING
              RETURNING cost_usd),
            {Metering.CostFollowsUsageSql}
            UPDATE jobs j SET cost_kai_credits = j.cost_kai_credits + $5, cost_total_usd = j.cost_total_usd + r.cost_usd FROM recorded r WHERE j.id = $1
            """, media.Select(m => m.AssetId).ToArray(), credits, perCredit);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<ActivityResult.Failed> FailAsync(ActivityContext context, string code, string message, bool permanent, CancellationToken ct)
    {
        // A failed generation costs nothing: its reserved credits are refunded with the failure.
        await using var cmd = GenerationCommand(context, $"""
            WITH refunded AS ({Reservations.ReleaseItemSql})
            UPDATE kai_generations SET status = 'failed', error = jsonb_build_object('code', $4::text, 'message', $5::text), updated_at = now()
            WHERE job_id = $1 AND node_id = $2 AND item_index = $3
            """, code, message);
        await cmd.ExecuteNonQueryAsync(ct);
        return new ActivityResult.Failed(code, message, permanent);
    }

    /// <summary>Polls start at the configured interval and slow down to a quarter of the generation's age, at most 30 s.</summary>
    private static TimeSpan NextPoll(KieRuntime kie, TimeSpan age) =>
        TimeSpan.FromTicks(Math.Clamp(age.Ticks / 4, kie.Options.PollInterval.Ticks, Math.Max(kie.Options.PollInterval.Ticks, MaxPoll.Ticks)));

    private static string ContentTypeOf(string extension) => extension.ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        ".mp3" => "audio/mpeg",
        ".wav" => "audio/wav",
        _ => "video/mp4",
    };

    /// <summary>A stored asset as a media item, from columns 1-5: id, type, duration_seconds, width, height.</summary>
    private static MediaItem StoredItem(NpgsqlDataReader reader, string[] tags) =>
        new(reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : (double)reader.GetDecimal(3),
            reader.IsDBNull(4) ? null : reader.GetInt32(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), tags);

    private static MediaItem Item(Asset asset, ModelDefinition model) =>
        new(asset.Id, asset.Type, (double?)asset.DurationSeconds, asset.Width, asset.Height, ["generated", model.Family.ToLowerInvariant()]);
}
