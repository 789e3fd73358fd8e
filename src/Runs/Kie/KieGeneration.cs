using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Integrations.Kie;
using FentaWeb.Runs.Assets;
using Npgsql;

namespace FentaWeb.Runs.Kie;

/// <summary>A KIE task this node item waits on: its id, when it was created, when to give up and how soon to look first.</summary>
public sealed record KieTask(string TaskId, DateTime SubmittedUtc, double DeadlineSeconds, double PollSeconds);

/// <summary>What KIE says of a task: still pending (look again after <paramref name="NextPollSeconds"/>), failed, or done with files.</summary>
public sealed record KieProgress(KieState State, IReadOnlyList<string> ResultUrls, double NextPollSeconds, ActivityResult.Failed? Failure = null);

/// <summary>
/// KIE's side of one generation item, the work of the <c>KieItem</c> sub-orchestration's steps: <see cref="CreateAsync"/>
/// records the task id in <c>kai_generations</c> before returning (a repeated create finds it and never pays twice),
/// <see cref="CheckAsync"/> reads the task back (a callback is only a wake-up: KIE signs nothing),
/// <see cref="CollectAsync"/> downloads the results into the blob store at once (KIE's URLs expire), and
/// <see cref="ExpireAsync"/> gives up past the deadline.
/// </summary>
public sealed class KieGeneration(KieClient client, KieOptions options, KieGenerations generations, AssetStore assets, NpgsqlDataSource db)
{
    /// <summary>What an input link lives past the generation's deadline: the time KIE's own download of it may take.</summary>
    private static readonly TimeSpan LinkMargin = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The KIE task of this attempt: the one recorded for it (a repeated create), or a new one, recorded before this
    /// returns. Otherwise the result to report instead (refused input, a rate limit to wait out).
    /// </summary>
    public async Task<(KieTask? Task, ActivityResult? Instead)> CreateAsync(ActivityContext context, CancellationToken ct)
    {
        if (GenerationRequest.Resolve(context, out var refused) is not { } request) return (null, refused);
        var deadline = (options.Deadline ?? TimeSpan.FromSeconds(Math.Max(600, request.Model.EstimatedSeconds * 10))).TotalSeconds;
        if (await generations.OpenTaskAsync(GenerationRequest.CallOf(context), ct) is var (taskId, submitted))
            return (new KieTask(taskId, submitted, deadline, options.PollInterval.TotalSeconds), null);
        var reuseKey = request.ReuseKey(context, "kie");
        if (await request.ReusedAsync(context, generations, "kie", reuseKey, ct) is { } reused) return (null, reused);
        return await SubmitAsync(context, request, reuseKey, deadline, ct);
    }

    /// <summary>Reads a task back from KIE. A failed query says nothing about the generation: it is asked again later.</summary>
    public async Task<KieProgress> CheckAsync(ActivityContext context, KieTask task, CancellationToken ct)
    {
        var model = ModelOf(context);
        var age = DateTime.UtcNow - task.SubmittedUtc;
        KieStatus status;
        try
        {
            status = await client.StatusAsync(model, task.TaskId, ct);
        }
        catch (ProviderException e) when (!e.Permanent)
        {
            await context.LogAsync("warn", $"KIE status query failed, will ask again: {e.Message}", new { task_id = task.TaskId }, ct);
            return new KieProgress(KieState.Pending, [], (e.RetryAfter ?? options.NextPoll(age)).TotalSeconds);
        }
        var call = GenerationRequest.CallOf(context);
        return status.State switch
        {
            KieState.Pending => new KieProgress(KieState.Pending, [], options.NextPoll(age).TotalSeconds),
            // A failed generation fails this attempt; the node's retry policy decides whether to try again.
            KieState.Failed => new KieProgress(KieState.Failed, [], 0, await generations.FailAsync(call, "KIE_GENERATION_FAILED",
                $"KIE could not generate this ({status.FailCode ?? "no code"}): {status.FailMessage ?? "no reason given"}", false, ct)),
            _ when status.ResultUrls.Count == 0 => new KieProgress(KieState.Failed, [], 0,
                await generations.FailAsync(call, "KIE_NO_RESULT", $"KIE reported task {task.TaskId} done without result files.", false, ct)),
            _ => new KieProgress(status.State, status.ResultUrls, 0),
        };
    }

    /// <summary>Past the task's deadline: the generation is given up.</summary>
    public Task<ActivityResult.Failed> ExpireAsync(ActivityContext context, KieTask task, CancellationToken ct) =>
        generations.FailAsync(GenerationRequest.CallOf(context), "KIE_DEADLINE",
            $"{ModelOf(context).Name} did not finish within {task.DeadlineSeconds:0} s; the generation was given up.", true, ct);

    /// <summary>Downloads a finished task's files into the blob store as assets (once: a repeat finds them recorded).</summary>
    public async Task<ActivityResult> CollectAsync(ActivityContext context, KieTask task, IReadOnlyList<string> resultUrls, CancellationToken ct)
    {
        if (GenerationRequest.Resolve(context, out var refused) is not { } request) return refused!;
        var (model, call) = (request.Model, GenerationRequest.CallOf(context));
        // A collect that ran before (its worker died after finishing) left its assets recorded: report those.
        var (recorded, results) = await generations.RecordedAsync(call, task.TaskId, ct);
        if (recorded == "completed") return request.OutputOf(results, "kie");
        var media = new List<MediaItem>();
        // Suno makes two tracks per task; a music node takes the first (both are paid for either way).
        foreach (var (url, i) in resultUrls.Take(model.Output == "audio" ? 1 : resultUrls.Count).Select((u, i) => (u, i)))
        {
            var extension = Path.GetExtension(new Uri(url).AbsolutePath) is { Length: > 1 and < 6 } ext ? ext
                : model.Output switch { "image" => ".png", "audio" => ".mp3", _ => ".mp4" };
            var path = Path.Combine(Path.GetTempPath(), $"fenta-kie-{Guid.NewGuid():N}{extension}");
            try
            {
                await client.DownloadAsync(url, path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", ContentTypeOf(extension), $"{model.Id}-{context.ItemIndex}-{i}{extension}",
                    context.JobId, context.NodeId, Metadata: new { provider = "kie", model = model.Id, prompt = request.Prompt, task_id = task.TaskId, source_url = url }),
                    path, ct);
                media.Add(request.MediaOf(asset));
            }
            finally
            {
                File.Delete(path);
            }
        }
        await generations.CompleteAsync(call, media, model.Credits(request.Input), ct);
        return request.OutputOf(media, "kie");
    }

    private async Task<(KieTask? Task, ActivityResult? Instead)> SubmitAsync(ActivityContext context, GenerationRequest request, string? reuseKey,
        double deadlineSeconds, CancellationToken ct)
    {
        var (model, input, call) = (request.Model, request.Input, GenerationRequest.CallOf(context));
        if (model.ImageParam is { } imageParam && input[imageParam] is null)
        {
            var sources = await InputFileUrlsAsync(context, TimeSpan.FromSeconds(deadlineSeconds) + LinkMargin, ct);
            if (sources.Count > 0) model.AddMedia(input, sources, context.Params.TryGetValue("model_params", out var mp) ? mp : null);
            else if (model.NeedsInput)
                return (null, await generations.FailAsync(call, "MODEL_INPUT_MISSING",
                    $"{model.Id} needs {imageParam}: connect media of this organization or set model_params.{imageParam}.", true, ct));
        }
        // The credits are reserved before KIE is asked, so parallel items and concurrent runs cannot spend past the run's
        // budget or a free org's allowance together; the reservation is settled when the generation completes or refunded when it fails.
        if (await Reservations.ReserveAsync(db, call, new Spend(0, model.Credits(input), 0), ct) is { } refused)
            return (null, await generations.FailAsync(call, refused.Code, refused.Message, true, ct));
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        await generations.StartAsync(call, context.OrgId, request, "kie", reuseKey, token, ct);
        var callback = options.PublicUrl is { } publicUrl ? new Uri(publicUrl, $"v1/kai/callbacks/{token}").ToString() : null;
        string taskId;
        try
        {
            taskId = await client.SubmitAsync(model, request.Prompt, input, callback, ct);
        }
        catch (ProviderException e) when (e.Permanent)
        {
            return (null, await generations.FailAsync(call, e.Code, e.Message, true, ct));
        }
        catch (ProviderException e) when (e.RetryAfter is { } wait)
        {
            // Rate limits and maintenance are waited out without using an attempt; say so, or the job just looks stuck.
            await context.LogAsync("warn", $"{e.Message} Trying again in {wait.TotalSeconds:0} s.", new { code = e.Code }, ct);
            return (null, new ActivityResult.RetryLater(wait, e.Code));
        }
        var submitted = DateTime.UtcNow;
        await context.RecordExternalRefAsync(taskId, ct);
        await generations.SubmittedAsync(call, taskId, submitted, ct);
        await context.LogAsync("info", $"KIE task {taskId} created for {model.Id}", new { task_id = taskId, model = model.Id }, ct);
        return (new KieTask(taskId, submitted, deadlineSeconds, options.PollInterval.TotalSeconds), null);
    }

    /// <summary>
    /// Read-only links straight to the node's input media in Blob Storage (the image to animate or edit, the clip to edit),
    /// for KIE to fetch, valid for <paramref name="lifetime"/>: the generation's deadline and a margin. KIE may hold a task
    /// in its queue for a while before it fetches its inputs, but once the generation is given up nobody needs the file,
    /// and a link that outlives it would be a read grant to the org's file with no purpose (a retry signs new links).
    /// </summary>
    private async Task<List<string>> InputFileUrlsAsync(ActivityContext context, TimeSpan lifetime, CancellationToken ct)
    {
        var ids = GenerationRequest.InputAssetIds(context);
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
            urls.Add((await assets.Blobs.ReadLinkAsync(files[id].Key, lifetime, files[id].ContentType, null, ct)).Url.ToString());
        return urls;
    }

    private static ModelDefinition ModelOf(ActivityContext context) => ModelRegistry.Find(NodeActivity<KieArgs>.ArgsOf(context.Params).Model)!;

    private static string ContentTypeOf(string extension) => extension.ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        ".mp3" => "audio/mpeg",
        ".wav" => "audio/wav",
        _ => "video/mp4",
    };
}
