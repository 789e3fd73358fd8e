using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Workflows;

/// <summary>
/// The documented direct render job's <c>config</c> (seed 002's jobs.config): where the footage comes from, the
/// script, the voice, the subtitles, the music and the output. Each part takes the parameters of the node it becomes.
/// </summary>
/// <param name="Music">
/// Background music ducked under the narration: <c>{"asset_id"}</c> (an uploaded track) or <c>{"prompt"}</c> plus
/// Input.KAI.GenerateMusic's params (Suno on KIE.ai, an instrumental bed offline); <c>volume</c> (0-1) and
/// <c>ducking</c> for the mix.
/// </param>
public sealed record DirectJobConfig(
    IReadOnlyList<JsonElement>? Sources,
    Dictionary<string, JsonElement>? Script,
    Dictionary<string, JsonElement>? Tts,
    JsonElement? Subtitles,
    Dictionary<string, JsonElement>? Output,
    Dictionary<string, JsonElement>? Music = null);

/// <summary>
/// Compiles a direct render job into the graph a workflow would run: sources → Edit.Timeline (the template) ←
/// subtitles ← voice ← script (and the voice mixed with music, when asked), then Output.Render. Errors the graph rules find are renamed to the config field the
/// caller wrote (<c>config.tts.voice</c>, not <c>graph.nodes[2].params.voice</c>).
/// </summary>
public static class DirectJob
{
    private static readonly Dictionary<string, string> SourceTypes = new(StringComparer.Ordinal)
    {
        ["stock"] = "Input.Stock",
        ["upload"] = "Input.Upload",
        ["kai_image"] = "Input.KAI.GenerateImage",
        ["kai_video"] = "Input.KAI.GenerateVideo",
    };

    public static WorkflowGraph Compile(string? templateId, DirectJobConfig? config)
    {
        var errors = new FieldErrors();
        if (config is null) errors.Add("config", "is required");
        else
        {
            if (config.Sources is not { Count: > 0 }) errors.Add("config.sources", "needs at least one source: stock, upload, kai_image or kai_video");
            if (config.Script is null) errors.Add("config.script", "is required (e.g. {\"prompt\": \"…\"})");
            if (config.Subtitles is { ValueKind: not (JsonValueKind.Object or JsonValueKind.False or JsonValueKind.Null) })
                errors.Add("config.subtitles", "must be an object of subtitle settings, or false for none");
        }
        errors.ThrowIfAny();

        var nodes = new List<GraphNode>();
        var edges = new List<GraphEdge>();
        for (var i = 0; i < config!.Sources!.Count; i++)
        {
            var source = config.Sources[i];
            if (source.ValueKind != JsonValueKind.Object || !source.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !SourceTypes.TryGetValue(type.GetString()!, out var nodeType))
            {
                errors.Add($"config.sources[{i}].type", $"must be one of: {string.Join(", ", SourceTypes.Keys)}");
                continue;
            }
            nodes.Add(new GraphNode($"sources_{i}", nodeType, source.EnumerateObject().Where(p => p.Name != "type").ToDictionary(p => p.Name, p => p.Value.Clone())));
            edges.Add(new GraphEdge($"sources_{i}", "timeline"));
        }
        errors.ThrowIfAny();

        nodes.Add(new GraphNode("script", "Script.Generate", config.Script));
        nodes.Add(new GraphNode("tts", "Voice.TTS", config.Tts));
        edges.Add(new GraphEdge("script", "tts"));
        if (config.Subtitles is { ValueKind: JsonValueKind.Object } subtitles)
        {
            nodes.Add(new GraphNode("subtitles", "Subtitle.Auto", subtitles.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone())));
            edges.Add(new GraphEdge("tts", "subtitles"));
            edges.Add(new GraphEdge("subtitles", "timeline"));
        }
        else if (config.Music is null) edges.Add(new GraphEdge("tts", "timeline", ToPort: "audio"));
        if (config.Music is { } music) AddMusic(music, nodes, edges);
        var timeline = templateId is null ? null : new Dictionary<string, JsonElement> { ["template_id"] = JsonSerializer.SerializeToElement(templateId) };
        nodes.Add(new GraphNode("timeline", "Edit.Timeline", timeline));
        nodes.Add(new GraphNode("render", "Output.Render", config.Output));
        edges.Add(new GraphEdge("timeline", "render"));
        return new WorkflowGraph(nodes, edges);
    }

    /// <summary>Mix params as config.music names them (the rest of config.music is the music node's).</summary>
    private static readonly Dictionary<string, string> MixParams = new(StringComparer.Ordinal)
    {
        ["asset_id"] = "music_asset_id", ["volume"] = "music_volume", ["ducking"] = "ducking",
    };

    /// <summary>The narration mixed with the music (an uploaded track, or one generated from a prompt) into the timeline's audio.</summary>
    private static void AddMusic(Dictionary<string, JsonElement> music, List<GraphNode> nodes, List<GraphEdge> edges)
    {
        var mix = music.Where(p => MixParams.ContainsKey(p.Key)).ToDictionary(p => MixParams[p.Key], p => p.Value);
        nodes.Add(new GraphNode("mix", "Audio.Mix", mix));
        edges.Add(new GraphEdge("tts", "mix", ToPort: "voice"));
        edges.Add(new GraphEdge("mix", "timeline", ToPort: "audio"));
        if (music.ContainsKey("asset_id")) return;
        nodes.Add(new GraphNode("music", "Input.KAI.GenerateMusic", music.Where(p => !MixParams.ContainsKey(p.Key)).ToDictionary(p => p.Key, p => p.Value)));
        edges.Add(new GraphEdge("music", "mix", ToPort: "music"));
    }

    /// <summary>An error of the compiled graph, named by the config field it came from.</summary>
    public static FieldError Rename(FieldError error)
    {
        var prefix = error.NodeId switch
        {
            "script" => "config.script",
            "tts" => "config.tts",
            "subtitles" => "config.subtitles",
            "render" => "config.output",
            "music" or "mix" => "config.music",
            "timeline" => "template_id",
            { } id when id.StartsWith("sources_", StringComparison.Ordinal) => $"config.sources[{id["sources_".Length..]}]",
            _ => "config",
        };
        var field = error.Field;
        var param = field.IndexOf(".params.", StringComparison.Ordinal);
        // The timeline's only parameter is the template: its error is the template_id field itself.
        var name = param < 0 ? null : field[(param + ".params.".Length)..];
        if (error.NodeId == "mix" && name is not null) name = MixParams.FirstOrDefault(p => name.StartsWith(p.Value, StringComparison.Ordinal)) is { Key: { } key, Value: { } mixed } ? key + name[mixed.Length..] : name;
        var renamed = name is null || prefix == "template_id" ? prefix : $"{prefix}.{name}";
        return error with { Field = renamed, NodeId = null };
    }
}
