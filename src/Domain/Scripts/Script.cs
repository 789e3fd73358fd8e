namespace FentaWeb.Domain.Scripts;

/// <summary>A short video's script: what the voice says, scene by scene, and what to show.</summary>
public sealed record Script(
    string Title,
    string Hook,
    IReadOnlyList<Scene> Scenes,
    IReadOnlyList<string> Hashtags,
    string Lang,
    string Genre,
    string Source)
{
    public string FullNarration => string.Join(" ", Scenes.Select(s => s.Narration));
    public int WordCount => Scenes.Sum(s => s.Narration.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
}

/// <param name="SearchTerms">Stock footage search terms for this scene.</param>
/// <param name="VisualPrompt">A prompt for an AI image or clip of this scene.</param>
public sealed record Scene(int Index, string Narration, IReadOnlyList<string> SearchTerms, string VisualPrompt);

/// <summary>What to write: topic, genre, language, length.</summary>
public sealed record ScriptRequest(string Prompt, string Genre, string Lang, int DurationSeconds, int Scenes)
{
    /// <summary>Narration pace used to size a script: about 150 words a minute.</summary>
    public const double WordsPerSecond = 2.5;

    public int TargetWords => (int)Math.Round(DurationSeconds * WordsPerSecond);
    public int SceneCount => Scenes > 0 ? Scenes : Math.Clamp((int)Math.Round(DurationSeconds / 6.0), 3, 12);
}

public interface IScriptWriter
{
    Task<Script> WriteAsync(ScriptRequest request, CancellationToken ct);
}
