using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Runs.Kie;

public sealed record KieArgs(string Model, string? Prompt, string Provider, string Operation = "restyle", bool Reuse = false);

/// <summary>
/// One node item's generation as its node asks for it, whether KIE makes it or it is drawn locally: the model, the
/// prompt (the scene's visual prompt and the node's own), the node's settings and the model's input.
/// </summary>
/// <param name="Kind">The <c>kai_generations</c> type: image, video or edit.</param>
public sealed record GenerationRequest(KieArgs Args, string Kind, ModelDefinition Model, string Prompt, GenerationSettings Settings, JsonObject Input)
{
    /// <summary>The request of this node item, or why it cannot be made (<paramref name="refused"/>).</summary>
    public static GenerationRequest? Resolve(ActivityContext context, out ActivityResult.Failed? refused)
    {
        refused = null;
        var args = NodeActivity<KieArgs>.ArgsOf(context.Params);
        var kind = KindOf(context.NodeType);
        var model = ModelRegistry.Find(args.Model);
        if (model is null || !ModelRegistry.Fits(model, context.NodeType))
        {
            refused = new ActivityResult.Failed("MODEL_NOT_AVAILABLE", $"{context.NodeType} cannot use the model '{args.Model}'.", Permanent: true);
            return null;
        }
        if (model.Takes is { } takes && MediaItemOf(context) is { } source && source.Type != takes)
        {
            refused = new ActivityResult.Failed("MODEL_INPUT_MISMATCH", $"{model.Id} takes {takes}s on 'media', not the {source.Type} {source.AssetId}.", Permanent: true);
            return null;
        }
        var scene = kind is "edit" or "audio" ? null : SceneOf(context);
        var prompt = string.Join(". ", new[] { scene?.VisualPrompt, args.Prompt }.Where(p => !string.IsNullOrWhiteSpace(p)));
        if (kind == "edit") prompt = $"{args.Operation}: {prompt}";
        var settings = NodeCatalog.GenerationSettingsOf(context.Params);
        var errors = new FieldErrors();
        var input = model.Resolve(settings, NodeCatalog.ModelParamsOf(context.Params), "params.model_params", errors);
        if (errors.Any)
        {
            refused = new ActivityResult.Failed("MODEL_PARAMS_INVALID", string.Join("; ", errors.All.Select(e => $"{e.Field} {e.Message}")), Permanent: true);
            return null;
        }
        return new GenerationRequest(args, kind, model, prompt, settings, input);
    }

    /// <summary>The <c>kai_generations</c> type a node type's generations have.</summary>
    public static string KindOf(string nodeType) => nodeType switch
    {
        "Input.KAI.GenerateImage" => "image",
        "Input.KAI.EditVideo" => "edit",
        "Input.KAI.GenerateMusic" => "audio",
        _ => "video",
    };

    /// <summary>The input image (or clip) this item works from, when the node fans out over its media.</summary>
    private static MediaItem? MediaItemOf(ActivityContext context) =>
        context.Item is { ValueKind: JsonValueKind.Object } item && item.TryGetProperty("asset_id", out _) ? item.Deserialize<MediaItem>(FentaJson.Options) : null;

    /// <summary>
    /// The scene whose visual prompt this item draws: its own item when the node fans out over a script; when it fans out
    /// over media with a script connected too, the scene in the same place (item i of n images gets scene i·scenes/n, so
    /// one image per scene maps one to one, and two per scene pair up).
    /// </summary>
    private static Scene? SceneOf(ActivityContext context)
    {
        if (MediaItemOf(context) is null) return context.Item?.Deserialize<Scene>(FentaJson.Options);
        if (!context.Inputs.TryGetValue("script", out var script) || !context.Inputs.TryGetValue("media", out var media) || media.ValueKind != JsonValueKind.Array)
            return null;
        var scenes = CompiledGraph.FanOutItems(script);
        var count = media.GetArrayLength();
        if (scenes.Count == 0 || count == 0 || scenes[0].ValueKind != JsonValueKind.Object) return null;
        return scenes[Math.Min(scenes.Count - 1, (int)((long)context.ItemIndex * scenes.Count / count))].Deserialize<Scene>(FentaJson.Options);
    }

    /// <summary>The generation row's key: this item of this attempt.</summary>
    public static NodeCall CallOf(ActivityContext context) => new(context.JobId, context.NodeId, context.ItemIndex, context.Attempt);

    /// <summary>
    /// What makes a generation from a prompt alone, as a digest: kind, model, provider, prompt, the model's input and the
    /// node's settings. None for a generation from input media (edits, image-to-video): their links differ every time.
    /// </summary>
    public string? ReuseKey(ActivityContext context, string provider)
    {
        if (Kind == "edit" || InputAssetIds(context).Count > 0) return null;
        var made = JsonSerializer.Serialize(new { kind = Kind, model = Model.Id, provider, prompt = Prompt, input = Input, settings = Settings }, FentaJson.Options);
        return Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(made)));
    }

    /// <summary>
    /// With <c>reuse</c> on: the org's latest completed generation with the same key whose files are all still kept, taken
    /// as this item's at no charge (recorded as its own generation with 0 credits); null when there is none.
    /// </summary>
    public async Task<ActivityResult?> ReusedAsync(ActivityContext context, KieGenerations generations, string provider, string? reuseKey, CancellationToken ct)
    {
        if (!Args.Reuse || reuseKey is null) return null;
        if (await generations.ReusableAsync(CallOf(context), context.OrgId, reuseKey, ["generated", Model.Family.ToLowerInvariant(), "reused"], ct)
            is not var (source, media)) return null;
        await generations.StartAsync(CallOf(context), context.OrgId, this, provider, reuseKey, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), ct);
        await generations.CompleteAsync(CallOf(context), media, 0, ct);
        await context.LogAsync("info", $"Reused generation {source} ({Model.Id}, same prompt and settings): no credits spent", new { reused_generation_id = source }, ct);
        return OutputOf(media, provider);
    }

    /// <summary>
    /// The node item's output from its generated files: the media list for images and clips; for music, the first track
    /// as an audio value (what Audio.Mix's music input and the timeline's audio read: an asset and its length, no speech).
    /// </summary>
    public ActivityResult.Succeeded OutputOf(IReadOnlyList<MediaItem> media, string provider) => Kind == "audio" && media.Count > 0
        ? ActivityResult.Done(new Narration(media[0].AssetId, media[0].DurationSeconds ?? 0, [], Model.Id, "", $"{provider}:{Model.Id}"))
        : ActivityResult.Done(media);

    /// <summary>A generated asset as a media item of this request's model.</summary>
    public MediaItem MediaOf(Asset asset) =>
        new(asset.Id, asset.Type, (double?)asset.DurationSeconds, asset.Width, asset.Height, ["generated", Model.Family.ToLowerInvariant()]);

    /// <summary>The clips this run works on: its own clip when the node fans out over its media, else all of them.</summary>
    public static List<string> InputAssetIds(ActivityContext context)
    {
        if (context.Item is { ValueKind: JsonValueKind.Object } item && item.TryGetProperty("asset_id", out var own)) return [own.GetString()!];
        return context.Inputs.TryGetValue("media", out var media) && media.ValueKind == JsonValueKind.Array
            ? [.. media.EnumerateArray().Select(m => m.GetProperty("asset_id").GetString()!)]
            : [];
    }
}
