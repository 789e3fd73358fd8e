using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Scripts;

/// <param name="VisualPrompt">What to draw for the scene; the narration when absent.</param>
public sealed record GivenScene(string? Narration, string? VisualPrompt, IReadOnlyList<string>? SearchTerms);

/// <summary>
/// A script written by the caller (Script.Generate's <c>script</c> param; a storyboard's scenes): passed through as is,
/// with no LLM, so a person's own words are what is narrated and drawn.
/// </summary>
public sealed record GivenScript(string? Title, IReadOnlyList<GivenScene>? Scenes)
{
    public const int MaxScenes = 20;
    public const int MaxNarrationChars = 2000;
    public const int MaxPromptChars = 4000;

    public static GivenScript? Parse(JsonElement value)
    {
        try
        {
            return value.Deserialize<GivenScript>(FentaJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Adds an error per problem, naming <paramref name="field"/>'s own parts (<c>.scenes[2].narration</c>).</summary>
    public static void Check(JsonElement value, string field, string? nodeId, FieldErrors errors)
    {
        if (Parse(value) is not { } script) { errors.Add(field, "must be {\"title\": \"…\", \"scenes\": [{\"narration\": \"…\", \"visual_prompt\": \"…\"}]}", nodeId); return; }
        if (script.Scenes is not { Count: > 0 } scenes) { errors.Add($"{field}.scenes", "must list at least one scene", nodeId); return; }
        if (scenes.Count > MaxScenes) errors.Add($"{field}.scenes", $"must have at most {MaxScenes} scenes", nodeId);
        if (script.Title is { Length: > 200 }) errors.Add($"{field}.title", "must be at most 200 characters", nodeId);
        for (var i = 0; i < scenes.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(scenes[i].Narration)) errors.Add($"{field}.scenes[{i}].narration", "is required", nodeId);
            else if (scenes[i].Narration!.Length > MaxNarrationChars) errors.Add($"{field}.scenes[{i}].narration", $"must be at most {MaxNarrationChars} characters", nodeId);
            if (scenes[i].VisualPrompt is { Length: > MaxPromptChars }) errors.Add($"{field}.scenes[{i}].visual_prompt", $"must be at most {MaxPromptChars} characters", nodeId);
        }
    }

    /// <summary>The script as the nodes downstream read it; the hook is the first scene's narration.</summary>
    public Script ToScript(string lang, string genre)
    {
        var scenes = (Scenes ?? []).Select((s, i) => new Scene(i, s.Narration!.Trim(), s.SearchTerms ?? [],
            string.IsNullOrWhiteSpace(s.VisualPrompt) ? s.Narration!.Trim() : s.VisualPrompt.Trim())).ToList();
        return new Script(string.IsNullOrWhiteSpace(Title) ? "Untitled" : Title.Trim(), scenes.FirstOrDefault()?.Narration ?? "", scenes, [], lang, genre, "given");
    }

    public int WordCount => (Scenes ?? []).Sum(s => (s.Narration ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
}
