using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Domain.Rendering;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Billing;

/// <summary>
/// Which paid services the workers call: the LLM (FENTA_LLM_BASE_URL), KIE.ai (FENTA_KIE_API_KEY) and OpenAI speech
/// (FENTA_TTS_BASE_URL). Without them the offline defaults run, which spend nothing metered but render seconds.
/// </summary>
public sealed record PaidProviders(bool Llm, bool Kie, bool OpenAiSpeech)
{
    public static PaidProviders FromSettings(Func<string, string?> setting) => new(
        setting("FENTA_LLM_BASE_URL") is { Length: > 0 }, setting("FENTA_KIE_API_KEY") is { Length: > 0 }, setting("FENTA_TTS_BASE_URL") is { Length: > 0 });

    /// <summary>The node types whose items are generated on KIE, or drawn locally in its stead.</summary>
    public static readonly IReadOnlySet<string> GenerationNodeTypes = new HashSet<string>(StringComparer.Ordinal)
    {
        "Input.KAI.GenerateImage", "Input.KAI.GenerateVideo", "Input.KAI.EditVideo", "Input.KAI.GenerateMusic",
    };

    /// <summary>
    /// Where a node's generations are made: the one decision behind both the estimate (KIE credits unless
    /// <see cref="KieRoute.Local"/>) and the run (a KIE item orchestration only for <see cref="KieRoute.Kie"/>).
    /// </summary>
    public KieRoute KieRouteOf(string nodeType, IReadOnlyDictionary<string, JsonElement> parameters)
    {
        if (!GenerationNodeTypes.Contains(nodeType)) return KieRoute.Local;
        return (parameters.TryGetValue("provider", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : "auto") switch
        {
            "kie" => Kie ? KieRoute.Kie : KieRoute.KieNotConfigured,
            "local" => KieRoute.Local,
            _ => Kie ? KieRoute.Kie : KieRoute.Local,
        };
    }
}

/// <summary>Where a node's generations are made (see <see cref="PaidProviders.KieRouteOf"/>).</summary>
public enum KieRoute
{
    /// <summary>Drawn locally (provider local, or auto without KIE), or not a generation node at all.</summary>
    Local,
    /// <summary>On KIE: provider kie, or auto with KIE configured.</summary>
    Kie,
    /// <summary>Provider kie without FENTA_KIE_API_KEY: counted at KIE's price, and the run refuses it.</summary>
    KieNotConfigured,
}

/// <summary>Units of the metered resources a node (or a job) uses.</summary>
public sealed record Spend(long Tokens, int KaiCredits, decimal RenderSeconds)
{
    public static readonly Spend None = new(0, 0, 0);

    public bool IsNone => Tokens == 0 && KaiCredits == 0 && RenderSeconds == 0;

    public Spend Times(int items) => new(Tokens * items, KaiCredits * items, RenderSeconds * items);

    public Spend Plus(Spend other) => new(Tokens + other.Tokens, KaiCredits + other.KaiCredits, RenderSeconds + other.RenderSeconds);
}

/// <summary>What a run may spend (seed 000's <c>budget</c>): dollars at the plan's unit prices, and LLM tokens. Either may be left out.</summary>
public sealed record Budget(decimal? MaxCostUsd, long? MaxTokens)
{
    /// <summary>The budget of a request, checked: errors name <c>budget.max_cost_usd</c> / <c>budget.max_tokens</c>.</summary>
    public static Budget? Checked(Budget? budget)
    {
        if (budget is null) return null;
        var errors = new FieldErrors();
        if (budget.MaxCostUsd is { } usd && (usd <= 0 || usd > 1_000_000)) errors.Add("budget.max_cost_usd", "must be more than 0 and at most 1000000");
        if (budget.MaxTokens is { } tokens && (tokens <= 0 || tokens > 1_000_000_000)) errors.Add("budget.max_tokens", "must be more than 0 and at most 1000000000");
        errors.ThrowIfAny();
        return budget.MaxCostUsd is null && budget.MaxTokens is null ? null : budget;
    }

    /// <summary>Why <paramref name="tokens"/> and <paramref name="usd"/> do not fit, or null when they do.</summary>
    public string? Refusal(long tokens, decimal usd) =>
        MaxTokens is { } maxTokens && tokens > maxTokens ? $"{tokens} LLM tokens would pass the budget's max_tokens ({maxTokens})"
        : MaxCostUsd is { } maxUsd && usd > maxUsd ? $"${usd:0.####} would pass the budget's max_cost_usd (${maxUsd:0.####})"
        : null;
}

/// <param name="Items">How many times the node runs: the items of a fan-out, else 1.</param>
public sealed record NodeEstimate(string NodeId, string Type, int Items, long Tokens, int KaiCredits, decimal RenderSeconds, decimal CostUsd);

public sealed record EstimateTotal(long Tokens, int KaiCredits, decimal RenderSeconds, decimal CostUsd);

/// <summary>What a run of a graph is expected to use, per node and in total, priced at the org's plan, with what the figures assume.</summary>
public sealed record CostEstimate(string Plan, UnitPrices Prices, EstimateTotal Total, IReadOnlyList<NodeEstimate> Nodes, IReadOnlyList<string> Assumptions);

/// <summary>The budget's limit is below what a run is estimated (or, while it runs, has come) to spend.</summary>
public sealed class BudgetExceededException(string reason, CostEstimate? estimate = null)
    : FentaException("BUDGET_EXCEEDED", $"The run's estimate passes its budget: {reason}. Raise the budget, or make the workflow cheaper (fewer scenes, smaller models).")
{
    public CostEstimate? Estimate { get; } = estimate;
}

/// <summary>
/// Estimates a run before it starts, following the graph as the engine will: a script's scene count becomes the item
/// count of the generations fed by it, narration length follows the script's words, the render lasts as long as the
/// narration (or the media, without one). LLM prompts are counted exactly (the writer's own messages, o200k_base);
/// replies by the words asked for. KIE credits come from the model registry's pricing of each item's input.
/// </summary>
public static class Estimates
{
    /// <summary>OpenAI's rule of thumb for English: 100 tokens are about 75 words.</summary>
    private const double TokensPerWord = 4.0 / 3;
    /// <summary>The words of a reply besides its narration, as the writer's prompt asks for them: a title, a hook (the first sentence), per scene two short search terms and a one-shot visual prompt, and hashtags.</summary>
    private const int TitleWords = 5, HookWords = 10, SearchTermWords = 4, VisualPromptWords = 10, Hashtags = 3;
    /// <summary>
    /// Speaking rates at speed 1: espeak-ng (Voice.TTS offline, <c>-s 175</c>) reads prose sentence by sentence at about
    /// 178 words a minute, measured; OpenAI's voices about 150. Sentences run about 11 words.
    /// </summary>
    private const double EspeakWordsPerSecond = 178 / 60.0, OpenAiWordsPerSecond = 2.5, WordsPerSentence = 11;
    /// <summary>Characters a narrated word takes on average, its space and punctuation included (English prose: about 6).</summary>
    private const double CharactersPerWord = 6;
    private const double StockClipSeconds = 8, UploadSeconds = 8;

    private static IReadOnlyList<string> Assumptions(PaidProviders providers) =>
    [
        "Dollars price every unit at the plan's per-unit rates (seed 000's overage rates; Starter's for plans without their own), whether or not it falls within the monthly allowance.",
        providers.Llm
            ? "LLM prompt tokens are counted from the writer's own messages (o200k_base); replies are sized by the narration asked for (about 4 tokens per 3 words, plus the script's JSON)."
            : "No LLM is configured: scripts come from the offline writer and use no tokens.",
        providers.Kie
            ? "KIE credits are the model registry's price of each generation's input, once per item: a generation fed a script makes one item per scene. A node with 'reuse' on is counted in full; it costs nothing when an identical earlier generation is reused."
            : "KIE.ai is not configured: generations are drawn locally and use no credits (nodes with provider 'kie' are still counted).",
        $"Narration lasts the script's words at {EspeakWordsPerSecond * 60:0} words a minute (espeak-ng) or {OpenAiWordsPerSecond * 60:0} (OpenAI speech), divided by the node's speed, plus a {Narration.SentencePauseSeconds} s pause between sentences of about {WordsPerSentence} words; a render lasts the narration plus {Narration.TailSeconds} s, or the media without narration (stock clips and uploads counted as {StockClipSeconds:0} s each), at most 60 s.",
        "A script's scene count is the node's 'scenes', or one per 6 seconds of its duration (3 to 12).",
        $"Voice.TTS with provider 'elevenlabs' (KIE.ai) costs its price per {ModelRegistry.SpeechPriceCharacters:N0} characters of the script, counted as {CharactersPerWord:0} characters a word and spoken at OpenAI's rate.",
    ];

    /// <summary>What <paramref name="graph"/> (variables applied) is expected to use on <paramref name="plan"/>.</summary>
    public static CostEstimate For(WorkflowGraph graph, Plan plan, PaidProviders providers)
    {
        var jobPlan = CompiledGraph.Compile(graph);
        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
        var nodes = new List<NodeEstimate>();
        foreach (var id in jobPlan.Order)
        {
            var node = jobPlan.Nodes[id];
            var (shape, items, each) = Node(node, port => Combined(node, port, shapes), providers);
            shapes[id] = shape;
            var spend = each.Times(items);
            nodes.Add(new NodeEstimate(id, node.Definition.Type, items, spend.Tokens, spend.KaiCredits, spend.RenderSeconds, Price(spend, plan.Prices)));
        }
        var total = nodes.Aggregate(Spend.None, (sum, n) => sum.Plus(new Spend(n.Tokens, n.KaiCredits, n.RenderSeconds)));
        return new CostEstimate(plan.Id, plan.Prices, new EstimateTotal(total.Tokens, total.KaiCredits, total.RenderSeconds, Price(total, plan.Prices)), nodes,
            Assumptions(providers));
    }

    public static decimal Price(Spend spend, UnitPrices prices) => prices.Of(spend.Tokens, spend.KaiCredits, spend.RenderSeconds);

    /// <summary>Tokens of a Script.Generate call: its prompt exactly, its reply by the words asked for.</summary>
    public static long WriteTokens(ScriptRequest request) =>
        ChatTokens.Prompt(ScriptPrompts.System, ScriptPrompts.Write(request)) + ReplyTokens(request.TargetWords, request.SceneCount);

    /// <summary>Tokens of a Script.Transform call on a script of <paramref name="words"/> words in <paramref name="scenes"/> scenes.</summary>
    public static long RewriteTokens(string instruction, int words, int scenes, int targetWords) =>
        ChatTokens.Prompt(ScriptPrompts.System, instruction) + ReplyTokens(words, scenes) + ReplyTokens(targetWords, scenes);

    /// <summary>
    /// Tokens of a script reply: its words (narration, title, hook, each scene's terms and prompt, hashtags) by the rule
    /// of thumb, and the JSON around them counted exactly on an empty reply of that shape.
    /// </summary>
    private static long ReplyTokens(int words, int scenes)
    {
        var skeleton = JsonSerializer.Serialize(new
        {
            title = "", hook = "",
            scenes = Enumerable.Repeat(new { narration = "", search_terms = new[] { "", "" }, visual_prompt = "" }, scenes),
            hashtags = Enumerable.Repeat("", Hashtags),
        });
        var content = words + TitleWords + HookWords + Hashtags + scenes * (SearchTermWords + VisualPromptWords);
        return ChatTokens.Count(skeleton) + (long)Math.Ceiling(content * TokensPerWord);
    }

    /// <summary>What a node's output looks like to its successors: list items (scenes, media), seconds (narration, media, video) and script words.</summary>
    private sealed record Shape(int Items, double Seconds, int Words)
    {
        public static readonly Shape Empty = new(0, 0, 0);
    }

    private static Shape? Combined(CompiledNode node, string port, Dictionary<string, Shape> shapes)
    {
        var from = node.InputEdges.Where(e => e.ToPort == port).Select(e => shapes.GetValueOrDefault(e.From)).OfType<Shape>().ToList();
        return from.Count == 0 ? null : new Shape(from.Sum(s => s.Items), from.Sum(s => s.Seconds), from.Sum(s => s.Words));
    }

    /// <summary>A node's output shape, its item count and what one item spends.</summary>
    private static (Shape Shape, int Items, Spend Each) Node(CompiledNode node, Func<string, Shape?> input, PaidProviders providers)
    {
        var p = node.Params;
        string? Text(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        double? Number(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;
        var fanOut = node.FanOutPort is { } port ? input(port) : null;
        var items = fanOut is null ? 1 : Math.Max(1, fanOut.Items);
        switch (node.Definition.Type)
        {
            case "Script.Generate" when p.TryGetValue("script", out var given) && GivenScript.Parse(given) is { Scenes: { } scenes } script:
            {
                var words = script.WordCount;
                return (new Shape(scenes.Count, words / ScriptRequest.WordsPerSecond, words), 1, Spend.None);
            }
            case "Script.Generate":
            {
                var request = new ScriptRequest(Text("prompt") ?? "", Text("genre") ?? "story", Text("lang") ?? "en", (int)(Number("duration_seconds") ?? 30), (int)(Number("scenes") ?? 0));
                var shape = new Shape(request.SceneCount, request.TargetWords / ScriptRequest.WordsPerSecond, request.TargetWords);
                return (shape, 1, new Spend(providers.Llm ? WriteTokens(request) : 0, 0, 0));
            }
            case "Script.Transform":
            {
                var script = input("script") ?? new Shape(3, 30, 75);
                var operation = Text("operation") ?? "compress";
                var target = ScriptPrompts.TargetWords(script.Words, operation, (int?)Number("target_duration_seconds"));
                var instruction = ScriptPrompts.Instruction(operation, Text("target_lang"), target, Text("instructions"));
                return (new Shape(script.Items, target / ScriptRequest.WordsPerSecond, target), 1,
                    new Spend(providers.Llm ? RewriteTokens(instruction, script.Words, script.Items, target) : 0, 0, 0));
            }
            case "Voice.TTS":
            {
                var script = input("script") ?? Shape.Empty;
                var elevenLabs = Text("provider") == "elevenlabs";
                var openAi = elevenLabs || Text("provider") switch { "openai" => true, "espeak" => false, _ => providers.OpenAiSpeech };
                var sentences = Math.Max(1, script.Items) * Math.Max(1, Math.Round(script.Words / (double)Math.Max(1, script.Items) / WordsPerSentence));
                var seconds = script.Words / (openAi ? OpenAiWordsPerSecond : EspeakWordsPerSecond) / Math.Clamp(Number("speed") ?? 1, 0.5, 2)
                              + (sentences - 1) * Narration.SentencePauseSeconds;
                // ElevenLabs through KIE is priced by the character: the script's words at an average length, with their spaces.
                var credits = elevenLabs ? ModelRegistry.Find(ModelRegistry.ElevenLabsSpeech)!.SpeechCredits((int)Math.Ceiling(script.Words * CharactersPerWord)) : 0;
                return (new Shape(1, seconds, script.Words), 1, new Spend(0, credits, 0));
            }
            case "Audio.Mix":
                return (input("voice") ?? Shape.Empty, 1, Spend.None);
            case "Subtitle.Auto":
                return (input("audio") ?? input("media") ?? Shape.Empty, 1, Spend.None);
            case "Input.Upload":
            {
                var count = p.TryGetValue("asset_ids", out var ids) && ids.ValueKind == JsonValueKind.Array ? ids.GetArrayLength() : 1;
                return (new Shape(count, count * UploadSeconds, 0), 1, Spend.None);
            }
            case "Input.Stock":
            {
                var count = fanOut?.Items ?? (int)(Number("count") ?? 5);
                return (new Shape(count, count * StockClipSeconds, 0), items, Spend.None);
            }
            case var type when PaidProviders.GenerationNodeTypes.Contains(type):
            {
                var model = ModelRegistry.Find(Text("model") ?? NodeCatalog.DefaultModel(node.Definition.Type))!;
                var settings = NodeCatalog.GenerationSettingsOf(p);
                var modelInput = model.Resolve(settings, NodeCatalog.ModelParamsOf(p), "params.model_params", new FieldErrors());
                var outputs = model.Output == "image" ? Math.Max(1, settings.Count) : 1;
                var clipSeconds = model.Output == "image" ? 0 : settings.DurationSeconds ?? 5;
                var credits = providers.KieRouteOf(node.Definition.Type, p) != KieRoute.Local ? model.Credits(modelInput) : 0;
                // A track is audio for Audio.Mix (one item of its length), not media for the timeline.
                if (model.Output == "audio") return (new Shape(1, clipSeconds, 0), 1, new Spend(0, credits, 0));
                return (new Shape(items * outputs, items * clipSeconds, 0), items, new Spend(0, credits, 0));
            }
            case "Edit.Timeline":
            {
                var narration = input("subtitles") ?? input("audio");
                var seconds = narration is { Seconds: > 0 } ? narration.Seconds + Narration.TailSeconds : Math.Min(60, input("media")?.Seconds ?? 0);
                return (new Shape(1, seconds, 0), 1, Spend.None);
            }
            case "Output.Render":
            {
                var timeline = input("timeline") ?? Shape.Empty;
                return (timeline, 1, new Spend(0, 0, RenderQualities.MeteredSeconds(Text("quality") ?? RenderQualities.Standard, timeline.Seconds)));
            }
            default:
                return (Shape.Empty, items, Spend.None);
        }
    }
}
