using System.Security.Cryptography;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Media;
using FentaWeb.Runs.Assets;

namespace FentaWeb.Runs.Kie;

/// <summary>
/// Input.KAI.GenerateImage / GenerateVideo / EditVideo / GenerateMusic drawn locally, in one activity: the offline default without
/// FENTA_KIE_API_KEY, or with provider local. A node whose generations go to KIE (<see cref="PaidProviders.KieRouteOf"/>)
/// runs as the <c>KieItem</c> sub-orchestration's steps instead (<see cref="KieGeneration"/>). Every generation is a
/// <c>kai_generations</c> row, here at no credits.
/// </summary>
public sealed class LocalGenerationActivity(string nodeType, PaidProviders providers, KieGenerations generations, AssetStore assets) : NodeActivity<KieArgs>
{
    public override string NodeType => nodeType;

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, KieArgs args, CancellationToken ct)
    {
        if (GenerationRequest.Resolve(context, out var refused) is not { } request) return refused!;
        switch (providers.KieRouteOf(nodeType, context.Params))
        {
            case KieRoute.KieNotConfigured:
                return new ActivityResult.Failed("KIE_NOT_CONFIGURED", "This node asks for KIE.ai but FENTA_KIE_API_KEY is not set.", Permanent: true);
            case KieRoute.Kie:
                return new ActivityResult.Failed("KIE_NEEDS_ORCHESTRATION", "KIE generations run as their own sub-orchestration, not as one activity.", Permanent: true);
        }
        if (string.IsNullOrWhiteSpace(request.Prompt)) request = request with { Prompt = "untitled scene" };
        var reuseKey = request.ReuseKey(context, "local");
        return await request.ReusedAsync(context, generations, "local", reuseKey, ct)
               ?? await GenerateAsync(context, request, reuseKey, ct);
    }

    private async Task<ActivityResult> GenerateAsync(ActivityContext context, GenerationRequest request, string? reuseKey, CancellationToken ct)
    {
        var (model, call) = (request.Model, GenerationRequest.CallOf(context));
        await generations.StartAsync(call, context.OrgId, request, "local", reuseKey, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), ct);
        if (request.Kind == "edit") return await EditAsync(context, request, ct);
        if (request.Kind == "audio") return await ComposeAsync(context, request, ct);
        // From input images (image-to-video, image edit): each output is made from its image, so a chain shows offline too.
        var sources = model.Takes == "image" ? GenerationRequest.InputAssetIds(context) : [];
        using var files = await assets.LocalFilesAsync(context.OrgId, sources, ct);
        if (sources.Count > 0 && files.Count == 0)
            return await generations.FailAsync(call, "MODEL_INPUT_MISSING", $"{model.Id} needs images of this organization on its media input.", true, ct);
        var media = new List<MediaItem>();
        var image = model.Output == "image";
        var count = image ? Math.Max(1, request.Settings.Count) : 1;
        for (var i = 0; i < count; i++)
        {
            var source = sources.FirstOrDefault(files.ContainsKey);
            var path = Path.Combine(Path.GetTempPath(), $"fenta-local-{Guid.NewGuid():N}{(image ? ".png" : ".mp4")}");
            try
            {
                await DrawAsync(request, count > 1 ? $"{request.Prompt} ({i + 1})" : request.Prompt, source is null ? null : files[source], path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", image ? "image/png" : "video/mp4", $"{model.Id}-local-{context.ItemIndex}-{i}{Path.GetExtension(path)}",
                    context.JobId, context.NodeId, Metadata: new { provider = "local", model = model.Id, prompt = request.Prompt, source_asset_id = source,
                        note = "drawn locally: FENTA_KIE_API_KEY is not set" }), path, ct);
                media.Add(request.MediaOf(asset));
            }
            finally
            {
                File.Delete(path);
            }
        }
        await generations.CompleteAsync(call, media, 0, ct);
        return ActivityResult.Done(media);
    }

    private static Task DrawAsync(GenerationRequest request, string prompt, string? source, string path, CancellationToken ct)
    {
        var (aspect, seconds) = (request.Settings.AspectRatio, Math.Clamp(request.Settings.DurationSeconds ?? 5, 2, 20));
        return (request.Model.Output == "image", source) switch
        {
            (true, null) => LocalGenerator.DrawStillAsync(prompt, aspect, path, ct),
            (true, { } image) => LocalGenerator.DeriveStillAsync(image, prompt, aspect, path, ct),
            (false, null) => LocalGenerator.DrawClipAsync(prompt, aspect, seconds, path, ct),
            (false, { } image) => LocalGenerator.AnimateStillAsync(image, aspect, seconds, path, ct),
        };
    }

    /// <summary>Music drawn locally: an instrumental bed of the node's duration (see <see cref="LocalGenerator.DrawMusicBedAsync"/>).</summary>
    private async Task<ActivityResult> ComposeAsync(ActivityContext context, GenerationRequest request, CancellationToken ct)
    {
        var (model, call) = (request.Model, GenerationRequest.CallOf(context));
        var seconds = Math.Clamp(request.Settings.DurationSeconds ?? 30, 5, 240);
        var path = Path.Combine(Path.GetTempPath(), $"fenta-bed-{Guid.NewGuid():N}.mp3");
        try
        {
            await LocalGenerator.DrawMusicBedAsync(request.Prompt, seconds, path, ct);
            var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", "audio/mpeg", $"{model.Id}-local-{context.ItemIndex}.mp3",
                context.JobId, context.NodeId, Metadata: new { provider = "local", model = model.Id, prompt = request.Prompt, duration_seconds = seconds,
                    note = "an instrumental bed drawn locally: FENTA_KIE_API_KEY is not set" }), path, ct);
            var media = new List<MediaItem> { request.MediaOf(asset) };
            await generations.CompleteAsync(call, media, 0, ct);
            return request.OutputOf(media, "local");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Each input clip edited with ffmpeg by the node's operation (see <see cref="LocalGenerator.EditClipAsync"/>).</summary>
    private async Task<ActivityResult> EditAsync(ActivityContext context, GenerationRequest request, CancellationToken ct)
    {
        var (model, operation, call) = (request.Model, request.Args.Operation, GenerationRequest.CallOf(context));
        var clips = GenerationRequest.InputAssetIds(context);
        using var paths = await assets.LocalFilesAsync(context.OrgId, clips, ct);
        var media = new List<MediaItem>();
        foreach (var clip in clips.Where(paths.ContainsKey))
        {
            var path = Path.Combine(Path.GetTempPath(), $"fenta-edit-{Guid.NewGuid():N}.mp4");
            try
            {
                await LocalGenerator.EditClipAsync(paths[clip], operation, request.Settings.AspectRatio, path, ct);
                var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "kai", "video/mp4", $"{model.Id}-local-{operation}-{media.Count}.mp4",
                    context.JobId, context.NodeId, Metadata: new { provider = "local", model = model.Id, prompt = request.Prompt, operation, source_asset_id = clip,
                        note = "edited locally: FENTA_KIE_API_KEY is not set" }), path, ct);
                media.Add(request.MediaOf(asset));
            }
            finally
            {
                File.Delete(path);
            }
        }
        if (media.Count == 0)
            return await generations.FailAsync(call, "MODEL_INPUT_MISSING", "Input.KAI.EditVideo needs clips of this organization on its media input.", true, ct);
        await generations.CompleteAsync(call, media, 0, ct);
        return ActivityResult.Done(media);
    }
}
