using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Storyboards;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs.Storyboards;

namespace FentaWeb.Api.Storyboards;

/// <summary>What a render is asked for, checked.</summary>
/// <param name="ClipModel">Image-to-video per scene with this model; null for the stills.</param>
public sealed record RenderChoices(string? SubtitleStyle, string? MusicAssetId, string? MusicPrompt, double? MusicVolume, string Quality, string Resolution,
    string TemplateId, bool Overlays, string? ClipModel = null, int? ClipSeconds = null);

/// <summary>
/// The graphs a storyboard's jobs run, on the node catalog like every run (so retries, crash recovery, credit
/// reservations and refunds, quotas and estimates are the engine's): the plan (Script.Generate → one
/// Input.KAI.GenerateImage per scene), one scene's image again, and the render.
/// </summary>
public static class StoryboardGraphs
{
    private static Dictionary<string, JsonElement> Params(params (string Name, object? Value)[] values) =>
        values.Where(v => v.Value is not null).ToDictionary(v => v.Name, v => JsonSerializer.SerializeToElement(v.Value, FentaJson.Options));

    /// <summary>The template each aspect is laid out on (the built-in ones).</summary>
    public static string TemplateOf(string aspect) => aspect switch
    {
        "16:9" => "tmpl_explainer_landscape_v1",
        "1:1" => "tmpl_karaoke_square_v1",
        "4:5" => "tmpl_feed_portrait_v1",
        _ => "tmpl_shorts_v1",
    };

    /// <summary>The style, as the images' shared prompt: appended to each scene's prompt ("scene. Style: …"), as for a regeneration.</summary>
    private static string? StylePrompt(StoryboardSettings s) => string.IsNullOrWhiteSpace(s.Style) ? null : $"Style: {s.Style}";

    /// <summary>A storyboard's scenes as the script Script.Generate passes through.</summary>
    private static object GivenScriptOf(string title, IEnumerable<(string Narration, string ImagePrompt)> scenes) =>
        new { title, scenes = scenes.Select(s => new { narration = s.Narration, visual_prompt = s.ImagePrompt }).ToList() };

    /// <summary>
    /// The plan: a script (written from <paramref name="prompt"/>, or <paramref name="given"/> passed through) and an image per scene.
    /// The style names the script's genre when it is one.
    /// </summary>
    public static WorkflowGraph Plan(StoryboardSettings s, string title, string? prompt, IReadOnlyList<StoryboardScene>? given)
    {
        var genres = NodeCatalog.Find("Script.Generate")!.Params.Single(p => p.Name == "genre").Values!;
        var genre = s.Style?.Trim().ToLowerInvariant() is { } style && genres.Contains(style) ? style : null;
        var script = given is null
            ? Params(("prompt", prompt), ("scenes", s.SceneCount), ("duration_seconds", Math.Clamp(s.SceneCount * 5, 5, 180)), ("genre", genre), ("lang", s.Lang))
            : Params(("script", GivenScriptOf(title, given.Select(g => (g.Narration, g.ImagePrompt)))), ("genre", genre), ("lang", s.Lang));
        return new WorkflowGraph(
            [
                new GraphNode(StoryboardStore.ScriptNode, "Script.Generate", script),
                new GraphNode(StoryboardStore.ImagesNode, "Input.KAI.GenerateImage",
                    Params(("model", s.ImageModel), ("aspect_ratio", s.AspectRatio), ("provider", s.Provider), ("prompt", StylePrompt(s)))),
            ],
            [new GraphEdge(StoryboardStore.ScriptNode, StoryboardStore.ImagesNode, FromPort: "script", ToPort: "script")]);
    }

    /// <summary>One scene's image, as a one-node generation (what POST /v1/kai/generate-image runs): its cost alone.</summary>
    public static WorkflowGraph Regenerate(StoryboardSettings s, string imagePrompt) => new(
        [
            new GraphNode(StoryboardStore.GenerateNode, "Input.KAI.GenerateImage",
                Params(("model", s.ImageModel), ("aspect_ratio", s.AspectRatio), ("provider", s.Provider),
                    ("prompt", string.Join(". ", new[] { imagePrompt, StylePrompt(s) }.OfType<string>())))),
        ], []);

    /// <summary>
    /// The video: the scene images in order (Input.Upload), the narration read in the storyboard's voice, its subtitles,
    /// music ducked under it, laid out so that each scene's image shows while its narration is spoken (a cut where each
    /// scene starts, none inside one), then rendered.
    /// </summary>
    public static WorkflowGraph Render(Storyboard b, RenderChoices r)
    {
        var nodes = new List<GraphNode>
        {
            new("script", "Script.Generate", Params(("script", GivenScriptOf(b.Title, b.Scenes.Select(x => (x.Narration, x.ImagePrompt)))), ("lang", b.Settings.Lang))),
            new("voice", "Voice.TTS", Params(("voice", b.Settings.Voice))),
            new("images", "Input.Upload", Params(("asset_ids", b.Scenes.Select(x => x.ImageAssetId!).ToList()))),
            // One cut per scene: the shortest and longest scene the catalog allows, so the template neither merges nor splits them.
            new("timeline", "Edit.Timeline", Params(("template_id", r.TemplateId), ("min_scene", 0.5), ("max_scene", 120), ("overlays", r.Overlays))),
            new(StoryboardStore.RenderNode, "Output.Render",
                Params(("profile", $"{b.Settings.AspectRatio.Replace(':', 'x')}_{r.Resolution}"), ("quality", r.Quality))),
        };
        var edges = new List<GraphEdge>
        {
            new("script", "voice", FromPort: "script", ToPort: "script"),
            new("script", "timeline", FromPort: "script", ToPort: "script"),
            new("timeline", StoryboardStore.RenderNode, FromPort: "timeline", ToPort: "timeline"),
        };
        if (r.ClipModel is { } clipModel)
        {
            // One clip per scene image, animated with the scene's prompt (item i gets scene i's), in scene order.
            nodes.Add(new("clips", "Input.KAI.GenerateVideo", Params(("model", clipModel), ("aspect_ratio", b.Settings.AspectRatio), ("provider", b.Settings.Provider),
                ("duration", r.ClipSeconds))));
            edges.Add(new("images", "clips", FromPort: "media", ToPort: "media"));
            edges.Add(new("script", "clips", FromPort: "script", ToPort: "script"));
            edges.Add(new("clips", "timeline", FromPort: "media", ToPort: "media"));
        }
        else edges.Add(new("images", "timeline", FromPort: "media", ToPort: "media"));
        if (r.SubtitleStyle is { } style)
        {
            nodes.Add(new("subtitles", "Subtitle.Auto", Params(("style", style))));
            edges.Add(new("voice", "subtitles", FromPort: "audio", ToPort: "audio"));
            edges.Add(new("subtitles", "timeline", FromPort: "subtitles", ToPort: "subtitles"));
        }
        if (r.MusicAssetId is not null || r.MusicPrompt is not null)
        {
            nodes.Add(new("mix", "Audio.Mix", Params(("music_asset_id", r.MusicAssetId), ("music_volume", r.MusicVolume))));
            edges.Add(new("voice", "mix", FromPort: "audio", ToPort: "voice"));
            edges.Add(new("mix", "timeline", FromPort: "audio", ToPort: "audio"));
            if (r.MusicPrompt is { } prompt)
            {
                // As long as the storyboard plans to run; Audio.Mix loops or cuts it to the narration.
                var seconds = (int)Math.Clamp(Math.Ceiling(b.Scenes.Sum(x => x.DurationSeconds)), 5, 240);
                nodes.Add(new("music", "Input.KAI.GenerateMusic", Params(("prompt", prompt), ("provider", b.Settings.Provider), ("duration_seconds", seconds))));
                edges.Add(new("music", "mix", FromPort: "audio", ToPort: "music"));
            }
        }
        else if (r.SubtitleStyle is null) edges.Add(new("voice", "timeline", FromPort: "audio", ToPort: "audio"));
        return new WorkflowGraph(nodes, edges);
    }
}
