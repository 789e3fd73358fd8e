using FentaWeb.Domain.Common;
using FentaWeb.Domain.Rendering;
using FentaWeb.Domain.Scheduling;

namespace FentaWeb.Domain.Workflows;

/// <summary>What flows along an edge.</summary>
public enum PortType
{
    /// <summary>A script: title, hook, scenes with narration and visual terms.</summary>
    Script,
    /// <summary>An audio asset with timed segments (sentence and word level).</summary>
    Audio,
    /// <summary>Subtitle cues plus the narration audio they were timed against.</summary>
    Subtitles,
    /// <summary>An ordered list of image/video assets.</summary>
    Media,
    /// <summary>A render spec built from a template.</summary>
    Timeline,
    /// <summary>A rendered video asset.</summary>
    Video,
}

/// <param name="Multiple">Whether several edges may feed this input; their values are concatenated in edge order.</param>
public sealed record PortSpec(string Name, PortType Type, string Description, bool Required = true, bool Multiple = false);

/// <summary>How the engine retries a failing activity of this node type (Durable Functions' RetryOptions).</summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan FirstInterval, double BackoffCoefficient, TimeSpan MaxInterval, TimeSpan Timeout)
{
    public static readonly RetryPolicy Local = new(3, TimeSpan.FromSeconds(2), 2, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5));
    public static readonly RetryPolicy Remote = new(5, TimeSpan.FromSeconds(5), 2, TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10));
    public static readonly RetryPolicy Generation = new(3, TimeSpan.FromSeconds(15), 2, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30));
    public static readonly RetryPolicy Render = new(2, TimeSpan.FromSeconds(10), 2, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(30));

    /// <summary>
    /// The wait after failed attempt <paramref name="attempt"/>: first × coefficient^(attempt-1), capped, with ±10 % jitter
    /// so retries of many items spread out. The jitter comes from <paramref name="seed"/> (instance, node, item, attempt),
    /// not from a random generator, so an orchestrator replaying its history computes the same wait.
    /// </summary>
    public TimeSpan Backoff(int attempt, string seed)
    {
        var seconds = Math.Min(MaxInterval.TotalSeconds, FirstInterval.TotalSeconds * Math.Pow(BackoffCoefficient, attempt - 1));
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{seed}:{attempt}"));
        var unit = BitConverter.ToUInt32(hash, 0) / (double)uint.MaxValue;
        return TimeSpan.FromSeconds(seconds * (0.9 + unit * 0.2));
    }
}

/// <summary>The rules of one node type, checked when a workflow is saved.</summary>
/// <param name="Trigger">Says when the workflow runs (a schedule); a run treats it as already done.</param>
/// <param name="FanOutPorts">
/// The inputs the node may fan out over, in order of preference: fed a list on the first of them that is connected, it
/// runs once per element in parallel (a generation over its input images when they are connected, else over a script's scenes).
/// </param>
public sealed record NodeDefinition(
    string Type,
    string Category,
    string Description,
    IReadOnlyList<PortSpec> Inputs,
    IReadOnlyList<PortSpec> Outputs,
    IReadOnlyList<ParamSpec> Params,
    RetryPolicy Retry,
    Action<NodeCheck, FieldErrors>? Check = null,
    IReadOnlyList<string>? FanOutPorts = null,
    string Queue = NodeQueues.Default,
    bool Trigger = false)
{
    /// <summary>The port a node with these inputs connected fans out over, or null when it runs once.</summary>
    public string? FanOutPortOf(IEnumerable<string> connectedInputs)
    {
        var connected = connectedInputs.ToHashSet(StringComparer.Ordinal);
        return FanOutPorts?.FirstOrDefault(connected.Contains);
    }
}

public static class NodeQueues
{
    public const string Default = "default";
    /// <summary>FFmpeg renders: CPU-heavy, so they get their own, small concurrency.</summary>
    public const string Render = "render";
}

/// <summary>What a node-specific rule sees: the node, its params with defaults applied, and its connected inputs.</summary>
public sealed record NodeCheck(GraphNode Node, string Path, IReadOnlyDictionary<string, System.Text.Json.JsonElement> Params, IReadOnlySet<string> ConnectedInputs)
{
    public string? Text(string name) => Params.TryGetValue(name, out var v) && v.ValueKind == System.Text.Json.JsonValueKind.String ? v.GetString() : null;
}

/// <summary>The 14 node types of seed 000, Output.Publish (seed 003) and Input.KAI.GenerateMusic (Suno, issue 29).</summary>
public static class NodeCatalog
{
    private static readonly string[] Orientations = ["portrait", "landscape", "square"];
    private static readonly string[] AspectRatios = ["9:16", "16:9", "1:1", "4:5"];
    private static readonly string[] Genres = ["news", "story", "review", "education", "promo", "comedy", "motivation"];
    private static readonly string[] SubtitleStyles = ["clean_box", "karaoke_bounce", "bold_outline", "minimal"];

    // Declared before All, which uses it (static fields initialise in order).
    private static readonly ParamSpec[] GenerationParams =
    [
        new("model_params", ParamKind.Object, "The model's own parameters (see its schema at /v1/models/{id}); they override the general ones."),
        ParamSpec.Choice("provider", "kie (needs FENTA_KIE_API_KEY), local (ffmpeg-drawn stand-ins) or auto (kie when configured).", ["auto", "kie", "local"], "auto"),
        ParamSpec.Flag("reuse", "Reuse the organization's latest identical generation (same model, provider, prompt and settings, its files still kept) at no charge instead of paying for a new one. Generations from input media are never reused.", false),
    ];

    private static PortSpec ScriptIn(bool required = true) => new("script", PortType.Script, "The script to work from.", required);
    private static PortSpec MediaOut => new("media", PortType.Media, "The produced images or clips, in order.");
    private static PortSpec MediaIn => new("media", PortType.Media,
        "Images in, for image-to-video and image edit: one generation per image, each given a short-lived read link to it.", Required: false);

    public static readonly IReadOnlyList<NodeDefinition> All =
    [
        new("Input.Upload", "input", "Uses assets the organization already uploaded.",
            [], [MediaOut],
            [ParamSpec.List("asset_ids", "Ids of the org's assets, in the order to use them.", 50, required: true, reference: ParamReference.Asset)],
            RetryPolicy.Local),

        new("Input.Stock", "input", "Finds stock clips (Pexels, or the local stock library without a key). Fed a script, searches per scene.",
            [ScriptIn(required: false)], [MediaOut],
            [
                ParamSpec.Choice("provider", "Stock source; 'auto' uses Pexels when configured.", ["auto", "pexels", "local"], "auto"),
                ParamSpec.Text("query", "Search terms; optional when a script supplies per-scene terms.", maxLength: 200),
                ParamSpec.Choice("orientation", "Clip orientation.", Orientations, "portrait"),
                ParamSpec.Int("count", "How many clips to fetch.", 1, 20, 5),
                ParamSpec.Number("min_duration", "Shortest clip to accept, seconds.", 0, 60, 3),
                ParamSpec.List("stock_ids", "Exactly these clips (stock_id from GET /v1/assets/stock/search); fed a script, scene i takes the i-th.", 50),
            ],
            RetryPolicy.Remote,
            (n, errors) =>
            {
                var picked = n.Node.Params?.TryGetValue("stock_ids", out var ids) == true && ids.ValueKind == System.Text.Json.JsonValueKind.Array ? ids.EnumerateArray().ToList() : [];
                if (string.IsNullOrWhiteSpace(n.Text("query")) && !n.ConnectedInputs.Contains("script") && picked.Count == 0)
                    errors.Add($"{n.Path}.params.query", "is required unless a script supplies per-scene search terms or stock_ids name the clips", n.Node.Id);
                for (var i = 0; i < picked.Count; i++)
                    if (picked[i].ValueKind != System.Text.Json.JsonValueKind.String || picked[i].GetString() is not { } id || !(id.StartsWith("local:stock-", StringComparison.Ordinal)
                                                                  || (id.StartsWith("pexels:", StringComparison.Ordinal) && long.TryParse(id["pexels:".Length..], out _))))
                        errors.Add($"{n.Path}.params.stock_ids[{i}]", "must be a stock_id from stock search: local:stock-NN.mp4 or pexels:<video id>", n.Node.Id);
            },
            FanOutPorts: ["script"]),

        new("Input.KAI.GenerateImage", "input",
            "Generates images on KIE.ai. Fed images on 'media', edits each in parallel (a model that takes images); else fed a script, generates one per scene in parallel.",
            [ScriptIn(required: false), MediaIn], [MediaOut],
            [
                ParamSpec.Text("model", "Model id from /v1/models.", @default: "flux-kontext-pro", maxLength: 100),
                ParamSpec.Text("prompt", "What to draw; optional when a script supplies per-scene prompts.", maxLength: 4000),
                ParamSpec.Choice("aspect_ratio", "Image aspect.", AspectRatios, "9:16"),
                ParamSpec.Int("count", "Images per prompt.", 1, 4, 1),
                .. GenerationParams,
            ],
            RetryPolicy.Generation, CheckGeneration, FanOutPorts: ["media", "script"]),

        new("Input.KAI.GenerateVideo", "input",
            "Generates video clips on KIE.ai. Fed images on 'media', makes one clip from each in parallel (image-to-video; with a script too, item i gets scene i's prompt); else fed a script, one per scene.",
            [ScriptIn(required: false), MediaIn], [MediaOut],
            [
                ParamSpec.Text("model", "Model id from /v1/models.", @default: "veo-3.1-fast", maxLength: 100),
                ParamSpec.Text("prompt", "What to film; optional when a script supplies per-scene prompts.", maxLength: 4000),
                ParamSpec.Choice("aspect_ratio", "Clip aspect.", AspectRatios, "9:16"),
                ParamSpec.Int("duration", "Clip length, seconds.", 2, 20, 5),
                ParamSpec.Choice("resolution", "Clip resolution.", ["720p", "1080p"], "720p"),
                .. GenerationParams,
            ],
            RetryPolicy.Generation, CheckGeneration, FanOutPorts: ["media", "script"]),

        new("Input.KAI.EditVideo", "input", "Edits clips on KIE.ai (restyle, inpaint, extend): one edit per clip, in parallel.",
            [new("media", PortType.Media, "The clips to edit.")], [MediaOut],
            [
                ParamSpec.Text("model", "Model id from /v1/models.", @default: "runway-aleph", maxLength: 100),
                ParamSpec.Text("prompt", "The edit to make.", required: true, maxLength: 4000),
                ParamSpec.Choice("operation", "Kind of edit.", ["restyle", "inpaint", "extend"], "restyle"),
                ParamSpec.Choice("aspect_ratio", "Output aspect.", AspectRatios, "9:16"),
                .. GenerationParams,
            ],
            RetryPolicy.Generation, CheckGeneration, FanOutPorts: ["media"]),

        new("Input.KAI.GenerateMusic", "audio",
            "Generates a music track on KIE.ai (Suno; an instrumental bed drawn locally offline) for Audio.Mix's 'music' input, where it is ducked under the narration.",
            [], [new("audio", PortType.Audio, "The track (the first Suno makes): connect it to Audio.Mix's 'music' (toPort \"music\").")],
            [
                ParamSpec.Text("model", "Model id from /v1/models (prompt_to_audio).", @default: "suno-v4.5", maxLength: 100),
                ParamSpec.Text("prompt", "What the music is like (mood, instruments, tempo).", required: true, maxLength: 500),
                ParamSpec.Flag("instrumental", "No vocals.", true),
                ParamSpec.Int("duration_seconds", "Target length; the offline bed is this long, Suno's track is as long as Suno makes it (Audio.Mix loops or cuts it to the narration).", 5, 240, 30),
                ParamSpec.Text("style", "Suno's custom mode: the style (e.g. 'lo-fi, warm piano'); with it, a title is made from the prompt unless given.", maxLength: 200),
                ParamSpec.Text("title", "Suno's custom mode: the track's title (needs a style).", maxLength: 80),
                .. GenerationParams,
            ],
            RetryPolicy.Generation, CheckGeneration),

        new("Script.Generate", "script", "Writes a script with an LLM (or the offline writer without a key).",
            [], [new("script", PortType.Script, "The script.")],
            [
                ParamSpec.Text("prompt", "Topic and angle; required unless 'script' gives the script.", maxLength: 4000),
                ParamSpec.Choice("genre", "Tone and structure.", Genres, "story"),
                ParamSpec.Text("lang", "Language (BCP 47, e.g. en, de, pt-BR).", @default: "en", maxLength: 16),
                ParamSpec.Int("duration_seconds", "Target narration length.", 5, 180, 30),
                ParamSpec.Int("scenes", "Number of scenes; 0 picks from the duration.", 0, 20, 0),
                ParamSpec.Text("model", "LLM model when one is configured.", maxLength: 100),
                new("script", ParamKind.Object,
                    "A finished script to pass through as is, with no LLM: {\"title\", \"scenes\": [{\"narration\", \"visual_prompt\"?, \"search_terms\"?}]} (1-20 scenes)."),
            ],
            RetryPolicy.Remote,
            (n, errors) =>
            {
                // A given script replaces the writer, so the topic is then not needed.
                if (n.Params.TryGetValue("script", out var given)) Scripts.GivenScript.Check(given, $"{n.Path}.params.script", n.Node.Id, errors);
                else if (string.IsNullOrWhiteSpace(n.Text("prompt"))) errors.Add($"{n.Path}.params.prompt", "is required unless 'script' gives the script", n.Node.Id);
            }),

        new("Script.Transform", "script", "Translates, compresses or adapts a script.",
            [ScriptIn()], [new("script", PortType.Script, "The transformed script.")],
            [
                ParamSpec.Choice("operation", "What to do.", ["translate", "compress", "adapt"], required: true),
                ParamSpec.Text("target_lang", "Language to translate into.", maxLength: 16),
                ParamSpec.Int("target_duration_seconds", "Length to compress to.", 5, 180),
                ParamSpec.Text("instructions", "Audience or tone to adapt to.", maxLength: 2000),
            ],
            RetryPolicy.Remote,
            (n, errors) =>
            {
                if (n.Text("operation") == "translate" && string.IsNullOrWhiteSpace(n.Text("target_lang")))
                    errors.Add($"{n.Path}.params.target_lang", "is required when operation is 'translate'", n.Node.Id);
            }),

        new("Voice.TTS", "audio", "Reads the script aloud (espeak-ng offline, OpenAI speech when configured, ElevenLabs through KIE.ai on request).",
            [ScriptIn()], [new("audio", PortType.Audio, "Narration with sentence and word timings.")],
            [
                ParamSpec.Choice("provider", "Speech engine; 'auto' uses OpenAI when configured; 'elevenlabs' (KIE credits by the character) needs an ElevenLabs voice of GET /v1/voices.",
                    ["auto", "espeak", "openai", "elevenlabs"], "auto"),
                ParamSpec.Text("voice", "Voice name of the provider.", @default: "alloy", maxLength: 64),
                ParamSpec.Number("speed", "Speaking rate multiplier.", 0.5, 2.0, 1.0),
                ParamSpec.Text("lang", "Language override; defaults to the script's.", maxLength: 16),
                ParamSpec.Number("loudness_lufs", "Integrated loudness of the narration (short-form platforms play at about -14).", -30, -8, -14),
            ],
            RetryPolicy.Remote,
            (n, errors) =>
            {
                // Refused when saved, not when the run reaches the node: ElevenLabs has voices of its own (the default 'alloy' is OpenAI's).
                if (n.Text("provider") == "elevenlabs" && !Models.ModelRegistry.ElevenLabsVoices.Contains(n.Text("voice") ?? "", StringComparer.OrdinalIgnoreCase))
                    errors.Add($"{n.Path}.params.voice", $"is not an ElevenLabs voice; one of: {string.Join(", ", Models.ModelRegistry.ElevenLabsVoices)}", n.Node.Id);
            }),

        new("Audio.Mix", "audio", "Mixes narration with music, ducking the music under speech, normalized to about -14 LUFS.",
            [new("voice", PortType.Audio, "Narration."), new("music", PortType.Audio, "Background music.", Required: false)],
            [new("audio", PortType.Audio, "The mix, keeping the narration's timings.")],
            [
                ParamSpec.Text("music_asset_id", "An uploaded music asset, when no music input is connected.", maxLength: 100, reference: ParamReference.Asset),
                ParamSpec.Number("music_volume", "Music gain before ducking (0-1).", 0, 1, 0.25),
                ParamSpec.Flag("ducking", "Lower the music while someone speaks.", true),
                ParamSpec.Number("target_lufs", "Integrated loudness target.", -30, -8, -14),
            ],
            RetryPolicy.Local),

        new("Subtitle.Auto", "subtitle", "Makes subtitle cues from narration timings, or transcribes uploaded media.",
            [new("audio", PortType.Audio, "Narration with timings.", Required: false),
             new("media", PortType.Media, "Uploaded clips to transcribe.", Required: false)],
            [new("subtitles", PortType.Subtitles, "Cues (SRT/ASS) plus the narration they follow.")],
            [
                ParamSpec.Choice("style", "Subtitle look.", SubtitleStyles, "clean_box"),
                ParamSpec.Int("max_chars_per_line", "Line length limit.", 10, 80, 32),
                ParamSpec.Int("max_lines", "Lines per cue.", 1, 3, 2),
                ParamSpec.Number("min_cue_seconds", "Shortest cue.", 0.3, 5, 0.8),
                ParamSpec.Number("max_cue_seconds", "Longest cue.", 1, 10, 4),
            ],
            RetryPolicy.Local,
            (n, errors) =>
            {
                if (!n.ConnectedInputs.Contains("audio") && !n.ConnectedInputs.Contains("media"))
                    errors.Add($"{n.Path}.inputs", "connect 'audio' (narration) or 'media' (clips to transcribe)", n.Node.Id);
            }),

        new("Edit.Timeline", "edit", "Lays media, narration, subtitles and overlays on a template's timeline.",
            [
                new("media", PortType.Media, "Clips and images for the scenes.", Multiple: true),
                new("subtitles", PortType.Subtitles, "Subtitles (and the narration they carry).", Required: false),
                new("audio", PortType.Audio, "Narration or mix, when not carried by the subtitles.", Required: false),
                new("script", PortType.Script, "Script for titles and overlays.", Required: false),
            ],
            [new("timeline", PortType.Timeline, "The render spec.")],
            [
                ParamSpec.Text("template_id", "Template to follow.", @default: "tmpl_shorts_v1", maxLength: 100, reference: ParamReference.Template),
                ParamSpec.Choice("transition", "Between scenes.", ["cut", "fade", "crossfade"], "crossfade"),
                ParamSpec.Number("min_scene", "Overrides the template's shortest scene, seconds.", 0.5, 60),
                ParamSpec.Number("max_scene", "Overrides the template's longest scene, seconds.", 0.5, 120),
                ParamSpec.Flag("overlays", "Show the template's text overlays (a headline, a title card).", true),
            ],
            RetryPolicy.Local),

        new("Output.Render", "output", "Renders the timeline to MP4 with FFmpeg.",
            [new("timeline", PortType.Timeline, "What to render.")],
            [new("video", PortType.Video, "The MP4, its thumbnail and SRT.")],
            [
                ParamSpec.Choice("profile", "Aspect and resolution.", OutputProfiles.All.Select(p => p.Id).ToArray(), "9x16_1080p"),
                ParamSpec.Choice("quality", "Encoder effort; preview is a quick draft: 540 px on the short side, the fastest preset, no thumbnail, metered at a quarter of a render second.",
                    [.. RenderQualities.All], RenderQualities.Standard),
                ParamSpec.Int("fps", "Frames per second.", 24, 60, 30),
            ],
            RetryPolicy.Render, Queue: NodeQueues.Render),

        new("Output.Download", "output", "Publishes a time-limited signed download link to the render.",
            [new("video", PortType.Video, "The render.")], [],
            [
                ParamSpec.Int("expires_in_seconds", "Link lifetime.", 60, 7 * 24 * 3600, 24 * 3600),
                ParamSpec.Text("filename", "Download file name.", maxLength: 200),
            ],
            RetryPolicy.Local),

        new("Output.Publish", "output",
            "Publishes the render to connected YouTube, TikTok and Instagram accounts (GET /v1/integrations) as a publication of its own; the node finishes when every account has the post.",
            [
                new("video", PortType.Video, "The render."),
                new("script", PortType.Script, "Its title and summary caption the post when no title or description is given.", Required: false),
            ], [],
            [
                ParamSpec.List("integration_ids", "Connected accounts to publish to.", 10, required: true, maxLength: 100, reference: ParamReference.Integration),
                ParamSpec.Text("title", "Title (YouTube), caption opening (TikTok, Instagram); the script's title when empty.", maxLength: 100),
                ParamSpec.Text("description", "Description or caption; the script's hook when empty.", maxLength: 5000),
                ParamSpec.List("hashtags", "Hashtags, without '#'.", 30, maxLength: 100),
                ParamSpec.Choice("privacy", "Who may watch: each platform takes its own level for it (TikTok: PUBLIC_TO_EVERYONE, SELF_ONLY; Instagram: public only).",
                    ["public", "unlisted", "private"], "public"),
                ParamSpec.Text("publish_at", "YouTube: when a private upload goes public (ISO 8601, in the future).", maxLength: 40),
                ParamSpec.Flag("ai_generated", "Declares the video as AI-generated or altered content (YouTube, TikTok).", true),
                ParamSpec.Flag("made_for_kids", "YouTube: made for kids (COPPA).", false),
                ParamSpec.Choice("mode", "TikTok: post directly, or send to the account's inbox as a draft to finish there.", ["direct", "draft"], "direct"),
            ],
            RetryPolicy.Remote,
            (n, errors) =>
            {
                if (n.Text("publish_at") is { Length: > 0 } at && !DateTimeOffset.TryParse(at, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
                    errors.Add($"{n.Path}.params.publish_at", "must be an ISO 8601 date and time, e.g. 2026-12-24T18:00:00Z", n.Node.Id);
            }),

        new("Schedule.Cron", "schedule", "Runs the workflow on a cron schedule.",
            [], [],
            [
                ParamSpec.Text("cron", "Five-field cron expression, e.g. '0 10 * * *'.", required: true, maxLength: 100),
                ParamSpec.Text("timezone", "IANA time zone.", @default: "UTC", maxLength: 64),
            ],
            RetryPolicy.Local,
            (n, errors) =>
            {
                if (n.Text("cron") is { Length: > 0 } cron && !CronSchedule.TryParse(cron, n.Text("timezone") ?? "UTC", out _, out var error))
                    errors.Add(error!.StartsWith("unknown time zone", StringComparison.Ordinal) ? $"{n.Path}.params.timezone" : $"{n.Path}.params.cron", error, n.Node.Id);
            },
            Trigger: true),
    ];

    private static readonly Dictionary<string, NodeDefinition> ByType = All.ToDictionary(d => d.Type, StringComparer.Ordinal);

    public static NodeDefinition? Find(string? type) => type is null ? null : ByType.GetValueOrDefault(type);

    /// <summary>A generation node: a prompt or a script, and a model of the right kind whose own parameters validate.</summary>
    private static void CheckGeneration(NodeCheck n, FieldErrors errors)
    {
        if (n.Node.Type is not ("Input.KAI.EditVideo" or "Input.KAI.GenerateMusic") && string.IsNullOrWhiteSpace(n.Text("prompt")) && !n.ConnectedInputs.Contains("script"))
            errors.Add($"{n.Path}.params.prompt", "is required unless a script is connected to supply per-scene prompts", n.Node.Id);
        var id = n.Text("model") ?? DefaultModel(n.Node.Type);
        var model = Models.ModelRegistry.Find(id);
        if (model is null || !Models.ModelRegistry.Fits(model, n.Node.Type))
        {
            var fitting = Models.ModelRegistry.All.Where(m => Models.ModelRegistry.Fits(m, n.Node.Type)).Select(m => m.Id);
            errors.Add($"{n.Path}.params.model", $"must be a model this node can use: {string.Join(", ", fitting)}", n.Node.Id);
            return;
        }
        var modelParams = ModelParamsOf(n.Params);
        var wanted = n.Node.Type == "Input.KAI.EditVideo" ? "video" : "image";
        if (n.ConnectedInputs.Contains("media") && model.Takes != wanted)
        {
            var taking = Models.ModelRegistry.All.Where(m => Models.ModelRegistry.Fits(m, n.Node.Type) && m.Takes == wanted).Select(m => m.Id);
            errors.Add($"{n.Path}.params.model", $"{model.Id} cannot take {wanted}s on 'media'; models of {n.Node.Type} that can: {string.Join(", ", taking)}", n.Node.Id);
            return;
        }
        if (!n.ConnectedInputs.Contains("media") && model.NeedsInput
            && !(modelParams is { ValueKind: System.Text.Json.JsonValueKind.Object } given && given.TryGetProperty(model.ImageParam!, out _)))
        {
            errors.Add($"{n.Path}.params.model", $"{model.Id} ({model.ContentType}) needs an input {wanted}: connect one to 'media' or set model_params.{model.ImageParam}", n.Node.Id);
            return;
        }
        model.Resolve(GenerationSettingsOf(n.Params), modelParams, $"{n.Path}.params.model_params", errors, n.Node.Id);
    }

    /// <summary>
    /// A generation node's model_params, with the music node's own params (instrumental, style, title) merged in: they
    /// are Suno's parameters, given a place of their own on the node.
    /// </summary>
    public static System.Text.Json.JsonElement? ModelParamsOf(IReadOnlyDictionary<string, System.Text.Json.JsonElement> p)
    {
        var given = p.TryGetValue("model_params", out var mp) && mp.ValueKind == System.Text.Json.JsonValueKind.Object ? mp : (System.Text.Json.JsonElement?)null;
        var own = new[] { "instrumental", "style", "title" }.Where(p.ContainsKey).ToList();
        if (own.Count == 0) return p.TryGetValue("model_params", out var raw) ? raw : null;
        var merged = given is { } g ? System.Text.Json.Nodes.JsonNode.Parse(g.GetRawText())!.AsObject() : new System.Text.Json.Nodes.JsonObject();
        foreach (var name in own) merged[name] ??= System.Text.Json.Nodes.JsonNode.Parse(p[name].GetRawText());
        return System.Text.Json.JsonSerializer.SerializeToElement(merged);
    }

    /// <summary>The model a generation node uses when its params name none.</summary>
    public static string DefaultModel(string nodeType) => Find(nodeType)!.Params.First(p => p.Name == "model").Default!.Value.GetString()!;

    /// <summary>The general settings of a generation node's params (defaults where absent).</summary>
    public static Models.GenerationSettings GenerationSettingsOf(IReadOnlyDictionary<string, System.Text.Json.JsonElement> p) => new(
        p.TryGetValue("aspect_ratio", out var a) && a.ValueKind == System.Text.Json.JsonValueKind.String ? a.GetString()! : "9:16",
        p.TryGetValue("duration", out var d) && d.ValueKind == System.Text.Json.JsonValueKind.Number ? d.GetInt32()
        : p.TryGetValue("duration_seconds", out var ds) && ds.ValueKind == System.Text.Json.JsonValueKind.Number ? ds.GetInt32() : null,
        p.TryGetValue("resolution", out var r) && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString() : null,
        p.TryGetValue("count", out var c) && c.ValueKind == System.Text.Json.JsonValueKind.Number ? c.GetInt32() : 1);
}
