using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Models;

/// <summary>Which KIE.ai API a model is called through; each family has its own create and status endpoints.</summary>
public enum KieApi { Market, Veo, Runway, Aleph, Gpt4oImage, FluxKontext, Suno, Midjourney }

/// <summary>What a node asks for in general terms; each model turns it into its own parameters.</summary>
public sealed record GenerationSettings(string AspectRatio, int? DurationSeconds, string? Resolution, int Count);

/// <summary>
/// One generative model (seed 004's registry as code): identity, what it makes, the KIE API and model name behind
/// it, an input schema (the same <see cref="ParamSpec"/> node params use, so clients render forms from it), and
/// its price in credits: <see cref="BaseCredits"/> times a factor for each priced parameter value, times the
/// number of outputs when <see cref="CountParam"/> is set.
/// </summary>
public sealed record ModelDefinition(
    string Id,
    string Name,
    string Family,
    string Variant,
    string ContentType,
    KieApi Api,
    string KieModel,
    IReadOnlyList<ParamSpec> Params,
    int BaseCredits,
    int EstimatedSeconds,
    Func<GenerationSettings, Dictionary<string, object>> FromSettings,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>>? Multipliers = null,
    string? CountParam = null,
    string? ImageParam = null,
    bool Active = true,
    bool Locked = false,
    Func<JsonObject, (string Param, string Message)?>? Rule = null,
    IReadOnlyDictionary<string, string>? WithMedia = null)
{
    public string Provider => "kie_ai";

    /// <summary>
    /// What input media the model takes through <see cref="ImageParam"/> ("image", or "video" for video edits), or null
    /// when it takes none: a node's 'media' input may only feed a model that takes it.
    /// </summary>
    public string? Takes => ImageParam is null ? null : ContentType == "video_editing" ? "video" : "image";

    /// <summary>Image-to-video, image edits and video edits make nothing without their input (connected media or the param set by hand).</summary>
    public bool NeedsInput => ContentType is "image_to_video" or "image_editing" or "video_editing";

    /// <summary>
    /// The input with the node's media links put in <see cref="ImageParam"/>, and the params the model needs to use
    /// them (<see cref="WithMedia"/>, e.g. Veo's generationType) unless the node's model_params set them.
    /// </summary>
    public void AddMedia(JsonObject input, IReadOnlyList<string> links, JsonElement? modelParams)
    {
        if (ImageParam is null || links.Count == 0) return;
        var list = Params.First(p => p.Name == ImageParam).Kind == ParamKind.StringList;
        var max = (int?)Params.First(p => p.Name == ImageParam).Max ?? links.Count;
        input[ImageParam] = list ? new JsonArray([.. links.Take(max).Select(l => JsonValue.Create(l))]) : links[0];
        foreach (var (name, value) in WithMedia ?? new Dictionary<string, string>())
            if (modelParams is not { ValueKind: JsonValueKind.Object } given || !given.TryGetProperty(name, out _)) input[name] = value;
    }

    /// <summary>"image", "video" or "audio": what the generation's result files are.</summary>
    public string Output => ContentType switch
    {
        "prompt_to_image" or "image_editing" => "image",
        "prompt_to_audio" or "text_to_speech" => "audio",
        _ => "video",
    };

    /// <summary>
    /// The model's input: the node's general settings translated, overridden by explicit <paramref name="modelParams"/>,
    /// defaults filled in; errors name <paramref name="field"/>.&lt;param&gt;.
    /// </summary>
    public JsonObject Resolve(GenerationSettings settings, JsonElement? modelParams, string field, FieldErrors errors, string? nodeId = null)
    {
        var input = new JsonObject();
        var earlier = errors.All.Count;
        foreach (var spec in Params)
            if (spec.Default is { } d) input[spec.Name] = JsonNode.Parse(d.GetRawText());
        foreach (var (name, value) in FromSettings(settings)) input[name] = JsonSerializer.SerializeToNode(value);
        if (modelParams is { ValueKind: JsonValueKind.Object } given)
            foreach (var p in given.EnumerateObject())
            {
                if (Params.All(s => s.Name != p.Name))
                    errors.Add($"{field}.{p.Name}", $"is not a parameter of {Id}; known: {string.Join(", ", Params.Select(s => s.Name))}", nodeId);
                else input[p.Name] = JsonNode.Parse(p.Value.GetRawText());
            }
        foreach (var spec in Params)
        {
            if (input[spec.Name] is { } value) spec.Check(JsonSerializer.SerializeToElement(value), $"{field}.{spec.Name}", nodeId ?? "", errors);
            else if (spec.Required && spec.Name != ImageParam) errors.Add($"{field}.{spec.Name}", "is required", nodeId);
        }
        if (errors.All.Count == earlier && Rule?.Invoke(input) is { } broken) errors.Add($"{field}.{broken.Param}", broken.Message, nodeId);
        return input;
    }

    /// <summary>Where the market API takes the node's text: a speech model reads it aloud as <c>text</c>; the others take a <c>prompt</c>.</summary>
    public string PromptParam => ContentType == "text_to_speech" ? "text" : "prompt";

    /// <summary>
    /// A speech model's price for <paramref name="characters"/> of text: <see cref="BaseCredits"/> is per
    /// <see cref="ModelRegistry.SpeechPriceCharacters"/> characters (KIE charges by the character), rounded up once for
    /// the whole narration.
    /// </summary>
    public int SpeechCredits(int characters) =>
        (int)Math.Ceiling(Math.Round(characters * (double)BaseCredits / ModelRegistry.SpeechPriceCharacters, 6));

    public int Credits(JsonObject input)
    {
        var credits = (double)BaseCredits;
        foreach (var (param, factors) in Multipliers ?? new Dictionary<string, IReadOnlyDictionary<string, double>>())
            if (input[param] is { } v && factors.TryGetValue(v.ToString().ToLowerInvariant(), out var factor)) credits *= factor;
        if (CountParam is not null && input[CountParam] is { } n && int.TryParse(n.ToString(), out var count)) credits *= Math.Max(1, count);
        // Factors such as 14/30 are not exact in binary: 30 × (14/30) must be 14, not 15 after rounding up.
        return (int)Math.Ceiling(Math.Round(credits, 6));
    }
}

/// <summary>The models FentaWeb can run on KIE.ai.</summary>
public static class ModelRegistry
{
    private static readonly string[] Wide = ["16:9", "9:16"];
    private static readonly string[] Square = ["16:9", "9:16", "1:1"];

    private static Dictionary<string, object> None(GenerationSettings _) => [];

    private static string Nearest(int? seconds, params string[] allowed) =>
        allowed.OrderBy(a => Math.Abs(int.Parse(a, System.Globalization.CultureInfo.InvariantCulture) - (seconds ?? 0))).First();

    private static string Aspect(string wanted, string[] allowed) =>
        allowed.Contains(wanted) ? wanted : wanted is "4:5" or "9:16" ? "9:16" : allowed[0];

    private static IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Priced(string param, params (string Value, double Factor)[] factors) =>
        new Dictionary<string, IReadOnlyDictionary<string, double>> { [param] = factors.ToDictionary(f => f.Value, f => f.Factor) };

    private static ParamSpec Image(string name, bool required = true) =>
        new(name, ParamKind.String, "Public URL of the input image (filled from the node's input image when connected).", required, MaxLength: 2000);

    private static ParamSpec Images(string name, bool required = true) =>
        ParamSpec.List(name, "Public URLs of the reference images (filled from the node's input image when connected).", 5, required, 2000);

    // Declared before All, which uses them (static fields initialise in order).
    /// <summary>The premade ElevenLabs voices KIE accepts for this model, by name (it refuses any other, and lower case).</summary>
    public static readonly IReadOnlyList<string> ElevenLabsVoices =
    [
        "Rachel", "Alice", "Aria", "Charlotte", "Jessica", "Laura", "Lily", "Matilda", "Sarah",
        "Bill", "Brian", "Callum", "Charlie", "Chris", "Daniel", "Eric", "George", "Liam", "Roger", "Will",
    ];
    private static readonly string[] SeedanceAspects = ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"];
    private static readonly string[] FluxTwoAspects = ["1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3"];

    /// <summary>Seedance 1.0 Pro: 30 credits for 5 s at 720p; 14 at 480p, 70 at 1080p; twice that for 10 s.</summary>
    private static readonly IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> SeedancePrices =
        new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["resolution"] = new Dictionary<string, double> { ["480p"] = 14 / 30.0, ["1080p"] = 70 / 30.0 },
            ["duration"] = new Dictionary<string, double> { ["10"] = 2 },
        };

    /// <summary>Veo reads its imageUrls only when told how: one image is the first frame (two: first and last).</summary>
    private static readonly Dictionary<string, string> VeoFromFrames = new() { ["generationType"] = "FIRST_AND_LAST_FRAMES_2_VIDEO" };

    private static readonly ParamSpec[] VeoParams =
    [
        ParamSpec.Choice("aspectRatio", "Clip aspect.", Wide, "9:16"),
        ParamSpec.Choice("generationType", "How the images are used.", ["TEXT_2_VIDEO", "FIRST_AND_LAST_FRAMES_2_VIDEO", "REFERENCE_2_VIDEO"], "TEXT_2_VIDEO"),
        Images("imageUrls", required: false),
        ParamSpec.Flag("enableTranslation", "Translate the prompt to English first.", true),
    ];

    private static readonly ParamSpec[] FluxParams =
    [
        ParamSpec.Choice("aspectRatio", "Image aspect.", ["21:9", "16:9", "4:3", "1:1", "3:4", "9:16"], "9:16"),
        ParamSpec.Choice("outputFormat", "Image format.", ["jpeg", "png"], "jpeg"),
        ParamSpec.Flag("promptUpsampling", "Let the model refine the prompt.", false),
        ParamSpec.Text("inputImage", "An image to edit (filled from the node's input image when connected).", maxLength: 2000),
    ];

    public static readonly IReadOnlyList<ModelDefinition> All =
    [
        // Video
        new("veo-3.1-fast", "Veo 3.1 Fast", "Veo", "3.1 Fast", "prompt_to_video", KieApi.Veo, "veo3_fast",
            VeoParams,
            60, 90, s => new() { ["aspectRatio"] = Aspect(s.AspectRatio, Wide) }, ImageParam: "imageUrls",
            WithMedia: VeoFromFrames),
        new("veo-3.1-quality", "Veo 3.1 Quality", "Veo", "3.1 Quality", "prompt_to_video", KieApi.Veo, "veo3",
            VeoParams,
            250, 240, s => new() { ["aspectRatio"] = Aspect(s.AspectRatio, Wide) }, ImageParam: "imageUrls",
            WithMedia: VeoFromFrames),
        new("sora-2-text-to-video", "Sora 2", "Sora", "2 Text to Video", "prompt_to_video", KieApi.Market, "sora-2-text-to-video",
            [
                ParamSpec.Choice("aspect_ratio", "Clip orientation.", ["portrait", "landscape"], "portrait"),
                ParamSpec.Choice("n_frames", "Clip length in seconds.", ["10", "15"], "10"),
                ParamSpec.Flag("remove_watermark", "Remove the Sora watermark.", true),
            ],
            20, 180, s => new() { ["aspect_ratio"] = s.AspectRatio == "16:9" ? "landscape" : "portrait", ["n_frames"] = Nearest(s.DurationSeconds, "10", "15") },
            Priced("n_frames", ("15", 1.25))),
        new("sora-2-image-to-video", "Sora 2 Image to Video", "Sora", "2 Image to Video", "image_to_video", KieApi.Market, "sora-2-image-to-video",
            [
                Images("image_urls"),
                ParamSpec.Choice("aspect_ratio", "Clip orientation.", ["portrait", "landscape"], "portrait"),
                ParamSpec.Choice("n_frames", "Clip length in seconds.", ["10", "15"], "10"),
                ParamSpec.Flag("remove_watermark", "Remove the Sora watermark.", true),
            ],
            20, 180, s => new() { ["aspect_ratio"] = s.AspectRatio == "16:9" ? "landscape" : "portrait", ["n_frames"] = Nearest(s.DurationSeconds, "10", "15") },
            Priced("n_frames", ("15", 1.25)), ImageParam: "image_urls"),
        new("kling-2.6-text-to-video", "Kling 2.6", "Kling", "2.6 Text to Video", "prompt_to_video", KieApi.Market, "kling-2.6/text-to-video",
            [
                ParamSpec.Choice("aspect_ratio", "Clip aspect.", Square, "9:16"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Flag("sound", "Generate sound with the clip.", false),
            ],
            55, 120, s => new() { ["aspect_ratio"] = Aspect(s.AspectRatio, Square), ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2 }, ["sound"] = new Dictionary<string, double> { ["true"] = 2 } }),
        new("kling-2.6-image-to-video", "Kling 2.6 Image to Video", "Kling", "2.6 Image to Video", "image_to_video", KieApi.Market, "kling-2.6/image-to-video",
            [
                Images("image_urls"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Flag("sound", "Generate sound with the clip.", false),
            ],
            55, 120, s => new() { ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2 }, ["sound"] = new Dictionary<string, double> { ["true"] = 2 } },
            ImageParam: "image_urls"),
        new("wan-2.5-text-to-video", "Wan 2.5", "Wan", "2.5 Text to Video", "prompt_to_video", KieApi.Market, "wan/2-5-text-to-video",
            [
                ParamSpec.Choice("aspect_ratio", "Clip aspect.", Square, "9:16"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Choice("resolution", "Clip resolution.", ["720p", "1080p"], "720p"),
                ParamSpec.Text("negative_prompt", "What to avoid.", maxLength: 500),
                ParamSpec.Int("seed", "Random seed, for repeatable results.", 0, int.MaxValue),
            ],
            60, 150, s => new() { ["aspect_ratio"] = Aspect(s.AspectRatio, Square), ["duration"] = Nearest(s.DurationSeconds, "5", "10"), ["resolution"] = s.Resolution ?? "720p" },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2 }, ["resolution"] = new Dictionary<string, double> { ["1080p"] = 100 / 60.0 } }),
        new("hailuo-2.3-image-to-video-pro", "Hailuo 2.3 Pro", "Hailuo", "2.3 Image to Video Pro", "image_to_video", KieApi.Market, "hailuo/2-3-image-to-video-pro",
            [
                Image("image_url"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["6", "10"], "6"),
                ParamSpec.Choice("resolution", "Clip resolution.", ["768P", "1080P"], "768P"),
            ],
            45, 150, s => new() { ["duration"] = Nearest(s.DurationSeconds, "6", "10"), ["resolution"] = s.Resolution == "1080p" ? "1080P" : "768P" },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2 }, ["resolution"] = new Dictionary<string, double> { ["1080p"] = 80 / 45.0 } },
            ImageParam: "image_url",
            Rule: input => input["resolution"]?.ToString() == "1080P" && input["duration"]?.ToString() == "10" ? ("resolution", "1080P is only available for 6 s clips") : null),
        new("runway-gen4", "Runway Gen-4", "Runway", "Gen-4", "prompt_to_video", KieApi.Runway, "runway",
            [
                ParamSpec.Choice("aspectRatio", "Clip aspect.", ["16:9", "9:16", "1:1", "4:3", "3:4"], "9:16"),
                ParamSpec.Choice("duration", "Clip length in seconds (1080p only with 5).", ["5", "10"], "5"),
                ParamSpec.Choice("quality", "Clip resolution.", ["720p", "1080p"], "720p"),
                ParamSpec.Text("imageUrl", "A reference image URL (filled from the node's input image when connected).", maxLength: 2000),
            ],
            12, 120, s => new() { ["aspectRatio"] = Aspect(s.AspectRatio, Square), ["duration"] = Nearest(s.DurationSeconds, "5", "10"), ["quality"] = s.Resolution ?? "720p" },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2.5 }, ["quality"] = new Dictionary<string, double> { ["1080p"] = 2.5 } },
            ImageParam: "imageUrl",
            Rule: input => input["quality"]?.ToString() == "1080p" && input["duration"]?.ToString() == "10"
                ? ("quality", "1080p is only available for 5 s clips") : null),
        new("runway-aleph", "Runway Aleph", "Runway", "Aleph", "video_editing", KieApi.Aleph, "aleph",
            [
                ParamSpec.Text("videoUrl", "The clip to edit (filled from the node's input media).", maxLength: 2000),
                ParamSpec.Choice("aspectRatio", "Output aspect.", ["16:9", "9:16", "4:3", "3:4", "1:1", "21:9"], "9:16"),
                ParamSpec.Int("seed", "Random seed, for repeatable results.", 0, int.MaxValue),
            ],
            110, 240, s => new() { ["aspectRatio"] = Aspect(s.AspectRatio, Square) }, ImageParam: "videoUrl"),

        // Images
        new("gpt-4o-image", "GPT-4o Image", "GPT Image", "4o", "prompt_to_image", KieApi.Gpt4oImage, "gpt-4o-image",
            [
                ParamSpec.Choice("size", "Image aspect.", ["1:1", "3:2", "2:3"], "2:3"),
                ParamSpec.Choice("nVariants", "Images per prompt.", ["1", "2", "4"], "1"),
                Images("filesUrl", required: false),
                ParamSpec.Flag("isEnhance", "Let the model refine the prompt.", false),
            ],
            6, 60, s => new() { ["size"] = s.AspectRatio switch { "1:1" => "1:1", "16:9" => "3:2", _ => "2:3" }, ["nVariants"] = s.Count >= 4 ? "4" : s.Count >= 2 ? "2" : "1" },
            CountParam: "nVariants", ImageParam: "filesUrl"),
        new("flux-kontext-pro", "Flux Kontext Pro", "Flux Kontext", "Pro", "prompt_to_image", KieApi.FluxKontext, "flux-kontext-pro",
            FluxParams,
            4, 40, s => new() { ["aspectRatio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio }, ImageParam: "inputImage"),
        new("flux-kontext-max", "Flux Kontext Max", "Flux Kontext", "Max", "prompt_to_image", KieApi.FluxKontext, "flux-kontext-max",
            FluxParams,
            8, 60, s => new() { ["aspectRatio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio }, ImageParam: "inputImage"),
        new("seedream-4.0", "Seedream 4.0", "Seedream", "4.0", "prompt_to_image", KieApi.Market, "bytedance/seedream-v4-text-to-image",
            [
                ParamSpec.Choice("image_size", "Image shape.", ["square_hd", "portrait_16_9", "landscape_16_9", "portrait_4_3"], "portrait_16_9"),
                ParamSpec.Int("max_images", "Images per prompt.", 1, 6, 1),
            ],
            5, 40, s => new()
            {
                ["image_size"] = s.AspectRatio switch { "1:1" => "square_hd", "16:9" => "landscape_16_9", "4:5" => "portrait_4_3", _ => "portrait_16_9" },
                ["max_images"] = Math.Clamp(s.Count, 1, 6),
            },
            CountParam: "max_images"),
        new("nano-banana", "Nano Banana", "Nano Banana", "Standard", "prompt_to_image", KieApi.Market, "google/nano-banana",
            [
                ParamSpec.Choice("image_size", "Image aspect.", ["1:1", "9:16", "16:9", "3:4", "4:3", "4:5"], "9:16"),
                ParamSpec.Choice("output_format", "Image format.", ["png", "jpeg"], "png"),
            ],
            4, 30, s => new() { ["image_size"] = s.AspectRatio }),
        new("nano-banana-edit", "Nano Banana Edit", "Nano Banana", "Edit", "image_editing", KieApi.Market, "google/nano-banana-edit",
            [
                Images("image_urls"),
                ParamSpec.Choice("image_size", "Image aspect.", ["1:1", "9:16", "16:9", "3:4", "4:3", "4:5"], "9:16"),
            ],
            4, 30, s => new() { ["image_size"] = s.AspectRatio }, ImageParam: "image_urls"),

        // Kling 2.5 Turbo, Wan 2.5 image-to-video, Hailuo 02, Seedance 1.0 Pro (seed 000's "C-DANCE") on the market API
        new("kling-2.5-turbo-text-to-video", "Kling 2.5 Turbo", "Kling", "2.5 Turbo Text to Video", "prompt_to_video", KieApi.Market, "kling/v2-5-turbo-text-to-video-pro",
            [
                ParamSpec.Choice("aspect_ratio", "Clip aspect.", Square, "9:16"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Text("negative_prompt", "What to avoid.", maxLength: 2500),
                ParamSpec.Number("cfg_scale", "How closely to follow the prompt (0-1).", 0, 1, 0.5),
            ],
            42, 90, s => new() { ["aspect_ratio"] = Aspect(s.AspectRatio, Square), ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            Priced("duration", ("10", 2))),
        new("kling-2.5-turbo-image-to-video", "Kling 2.5 Turbo Image to Video", "Kling", "2.5 Turbo Image to Video", "image_to_video", KieApi.Market, "kling/v2-5-turbo-image-to-video-pro",
            [
                Image("image_url"),
                ParamSpec.Text("tail_image_url", "Public URL of an end frame.", maxLength: 2000),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Text("negative_prompt", "What to avoid.", maxLength: 2500),
                ParamSpec.Number("cfg_scale", "How closely to follow the prompt (0-1).", 0, 1, 0.5),
            ],
            42, 90, s => new() { ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            Priced("duration", ("10", 2)), ImageParam: "image_url"),
        new("wan-2.5-image-to-video", "Wan 2.5 Image to Video", "Wan", "2.5 Image to Video", "image_to_video", KieApi.Market, "wan/2-5-image-to-video",
            [
                Image("image_url"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Choice("resolution", "Clip resolution.", ["720p", "1080p"], "720p"),
                ParamSpec.Flag("enable_prompt_expansion", "Let the model expand the prompt.", true),
                ParamSpec.Int("seed", "Random seed, for repeatable results.", 0, int.MaxValue),
            ],
            60, 150, s => new() { ["duration"] = Nearest(s.DurationSeconds, "5", "10"), ["resolution"] = s.Resolution ?? "720p" },
            new Dictionary<string, IReadOnlyDictionary<string, double>> { ["duration"] = new Dictionary<string, double> { ["10"] = 2 }, ["resolution"] = new Dictionary<string, double> { ["1080p"] = 100 / 60.0 } },
            ImageParam: "image_url"),
        new("hailuo-02-text-to-video-standard", "Hailuo 02 Standard", "Hailuo", "02 Text to Video Standard", "prompt_to_video", KieApi.Market, "hailuo/02-text-to-video-standard",
            [
                ParamSpec.Choice("duration", "Clip length in seconds (768p).", ["6", "10"], "6"),
                ParamSpec.Flag("prompt_optimizer", "Let the model refine the prompt.", true),
            ],
            30, 150, s => new() { ["duration"] = Nearest(s.DurationSeconds, "6", "10") },
            Priced("duration", ("10", 50 / 30.0))),
        new("hailuo-02-text-to-video-pro", "Hailuo 02 Pro", "Hailuo", "02 Text to Video Pro", "prompt_to_video", KieApi.Market, "hailuo/02-text-to-video-pro",
            [ParamSpec.Flag("prompt_optimizer", "Let the model refine the prompt.", true)],
            57, 180, None),
        new("hailuo-02-image-to-video-pro", "Hailuo 02 Pro Image to Video", "Hailuo", "02 Image to Video Pro", "image_to_video", KieApi.Market, "hailuo/02-image-to-video-pro",
            [
                Image("image_url"),
                ParamSpec.Text("end_image_url", "Public URL of an end frame.", maxLength: 2000),
                ParamSpec.Flag("prompt_optimizer", "Let the model refine the prompt.", true),
            ],
            57, 180, None, ImageParam: "image_url"),
        new("seedance-1.0-pro-text-to-video", "Seedance 1.0 Pro", "Seedance", "1.0 Pro Text to Video", "prompt_to_video", KieApi.Market, "bytedance/v1-pro-text-to-video",
            [
                ParamSpec.Choice("aspect_ratio", "Clip aspect.", SeedanceAspects, "9:16"),
                ParamSpec.Choice("resolution", "Clip resolution.", ["480p", "720p", "1080p"], "720p"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Flag("camera_fixed", "Keep the camera still.", false),
                ParamSpec.Int("seed", "Random seed (-1: random).", -1, int.MaxValue, -1),
            ],
            30, 120, s => new() { ["aspect_ratio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio, ["resolution"] = s.Resolution ?? "720p", ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            SeedancePrices),
        new("seedance-1.0-pro-image-to-video", "Seedance 1.0 Pro Image to Video", "Seedance", "1.0 Pro Image to Video", "image_to_video", KieApi.Market, "bytedance/v1-pro-image-to-video",
            [
                Image("image_url"),
                ParamSpec.Choice("resolution", "Clip resolution.", ["480p", "720p", "1080p"], "720p"),
                ParamSpec.Choice("duration", "Clip length in seconds.", ["5", "10"], "5"),
                ParamSpec.Flag("camera_fixed", "Keep the camera still.", false),
                ParamSpec.Int("seed", "Random seed (-1: random).", -1, int.MaxValue, -1),
            ],
            30, 120, s => new() { ["resolution"] = s.Resolution ?? "720p", ["duration"] = Nearest(s.DurationSeconds, "5", "10") },
            SeedancePrices, ImageParam: "image_url"),

        // Images: Flux 2 Pro (seed 000's "Flux Pro"), Seedream 4.0 edits, Midjourney (its own API)
        new("flux-2-pro-text-to-image", "Flux 2 Pro", "Flux", "2 Pro Text to Image", "prompt_to_image", KieApi.Market, "flux-2/pro-text-to-image",
            [
                ParamSpec.Choice("aspect_ratio", "Image aspect.", FluxTwoAspects, "9:16"),
                ParamSpec.Choice("resolution", "Image resolution.", ["1K", "2K"], "1K"),
            ],
            5, 40, s => new() { ["aspect_ratio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio }, Priced("resolution", ("2k", 1.4))),
        new("flux-2-pro-image-to-image", "Flux 2 Pro Image to Image", "Flux", "2 Pro Image to Image", "image_editing", KieApi.Market, "flux-2/pro-image-to-image",
            [
                Images("input_urls"),
                ParamSpec.Choice("aspect_ratio", "Image aspect.", [.. FluxTwoAspects, "auto"], "9:16"),
                ParamSpec.Choice("resolution", "Image resolution.", ["1K", "2K"], "1K"),
            ],
            5, 40, s => new() { ["aspect_ratio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio }, Priced("resolution", ("2k", 1.4)), ImageParam: "input_urls"),
        new("seedream-4.0-edit", "Seedream 4.0 Edit", "Seedream", "4.0 Edit", "image_editing", KieApi.Market, "bytedance/seedream-v4-edit",
            [
                Images("image_urls"),
                ParamSpec.Choice("image_size", "Image shape.", ["square_hd", "portrait_16_9", "landscape_16_9", "portrait_4_3"], "portrait_16_9"),
                ParamSpec.Choice("image_resolution", "Image resolution.", ["1K", "2K", "4K"], "1K"),
                ParamSpec.Int("max_images", "Images per prompt.", 1, 6, 1),
            ],
            5, 40, s => new()
            {
                ["image_size"] = s.AspectRatio switch { "1:1" => "square_hd", "16:9" => "landscape_16_9", "4:5" => "portrait_4_3", _ => "portrait_16_9" },
                ["max_images"] = Math.Clamp(s.Count, 1, 6),
            },
            CountParam: "max_images", ImageParam: "image_urls"),
        new("midjourney-v7", "Midjourney V7", "Midjourney", "V7", "prompt_to_image", KieApi.Midjourney, "7",
            [
                ParamSpec.Choice("speed", "Queue: relaxed is cheapest and slowest.", ["relaxed", "fast", "turbo"], "fast"),
                ParamSpec.Choice("aspectRatio", "Image aspect.", ["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"], "9:16"),
                ParamSpec.Choice("version", "Midjourney version.", ["7", "6.1", "6"], "7"),
                ParamSpec.Int("stylization", "How strongly Midjourney's style applies.", 0, 1000, 100),
                ParamSpec.Int("weirdness", "How unusual the result may be.", 0, 3000, 0),
                ParamSpec.Int("variety", "How different the four images are.", 0, 100, 0),
                Images("fileUrls", required: false),
            ],
            8, 90, s => new() { ["aspectRatio"] = s.AspectRatio == "4:5" ? "3:4" : s.AspectRatio },
            Priced("speed", ("relaxed", 3 / 8.0), ("turbo", 2)), ImageParam: "fileUrls"),

        // Music
        Suno("suno-v4", "V4", "V4", 200),
        Suno("suno-v4.5", "V4.5", "V4_5", 1000),
        Suno("suno-v4.5-plus", "V4.5 Plus", "V4_5PLUS", 1000),
        Suno("suno-v5", "V5", "V5", 1000),

        // Speech: Voice.TTS's provider 'elevenlabs' speaks each sentence as a task of its own, so no generation node uses it.
        new(ElevenLabsSpeech, "ElevenLabs TTS Multilingual v2", "ElevenLabs", "Multilingual v2", "text_to_speech", KieApi.Market,
            "elevenlabs/text-to-speech-multilingual-v2",
            [
                ParamSpec.Choice("voice", "The ElevenLabs voice (KIE's names are case-sensitive).", ElevenLabsVoices, "Rachel"),
                ParamSpec.Number("stability", "Voice stability: lower is more expressive, higher more even.", 0, 1, 0.5),
                ParamSpec.Number("similarity_boost", "How closely the speech keeps to the original voice.", 0, 1, 0.75),
                ParamSpec.Number("style", "Style exaggeration.", 0, 1, 0),
                ParamSpec.Number("speed", "Speaking rate (KIE takes 0.7 to 1.2).", 0.7, 1.2, 1.0),
            ],
            12, 5, None),
    ];

    /// <summary>The registry id of the ElevenLabs speech model Voice.TTS uses through KIE.</summary>
    public const string ElevenLabsSpeech = "elevenlabs-tts-multilingual-v2";

    /// <summary>A speech model's <see cref="ModelDefinition.BaseCredits"/> are for this many characters of text.</summary>
    public const int SpeechPriceCharacters = 1000;

    /// <summary>The most text one ElevenLabs task takes (KIE refuses more).</summary>
    public const int SpeechMaxCharacters = 5000;


    /// <summary>
    /// A Suno model: two tracks per task (a node takes the first), a prompt describing the music, or in custom mode a style
    /// and a title (<paramref name="styleLength"/>: how long a style this version reads).
    /// </summary>
    private static ModelDefinition Suno(string id, string variant, string kieModel, int styleLength) =>
        new(id, $"Suno {variant}", "Suno", variant, "prompt_to_audio", KieApi.Suno, kieModel,
            [
                ParamSpec.Flag("instrumental", "No vocals.", true),
                ParamSpec.Text("style", "Custom mode: the music's style.", maxLength: styleLength),
                ParamSpec.Text("title", "Custom mode: the track's title (needs a style).", maxLength: 80),
                ParamSpec.Text("negativeTags", "Styles to keep out.", maxLength: 200),
            ],
            12, 120, None,
            Rule: input => input["title"] is not null && input["style"] is null ? ("style", "is required with a title (Suno's custom mode takes both)") : null);

    private static readonly Dictionary<string, ModelDefinition> ById = All.ToDictionary(m => m.Id, StringComparer.Ordinal);

    public static ModelDefinition? Find(string? id) => id is null ? null : ById.GetValueOrDefault(id);

    public static readonly IReadOnlyList<string> ContentTypes = ["prompt_to_image", "image_editing", "prompt_to_video", "image_to_video", "video_editing", "prompt_to_audio", "text_to_speech"];

    /// <summary>
    /// Which models a node type may use: what it makes must match what the node outputs. Speech models fit none:
    /// Voice.TTS speaks with them as its provider 'elevenlabs', sentence by sentence.
    /// </summary>
    public static bool Fits(ModelDefinition model, string nodeType) => nodeType switch
    {
        "Input.KAI.GenerateImage" => model.ContentType is "prompt_to_image" or "image_editing",
        "Input.KAI.GenerateVideo" => model.ContentType is "prompt_to_video" or "image_to_video",
        "Input.KAI.EditVideo" => model.ContentType is "video_editing",
        "Input.KAI.GenerateMusic" => model.ContentType is "prompt_to_audio",
        _ => false,
    };
}
