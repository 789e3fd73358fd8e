using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scripts;

namespace FentaWeb.Domain.Storyboards;

public static class StoryboardStatus
{
    public const string Draft = "draft", Generating = "generating", Ready = "ready", Rendering = "rendering", Failed = "failed";
}

public static class SceneStatus
{
    /// <summary>No image yet (a scene added by hand): regenerate draws it.</summary>
    public const string Pending = "pending";
    public const string Generating = "generating", Ready = "ready", Failed = "failed";
}

/// <summary>
/// One scene of a storyboard. <paramref name="JobId"/> is the job drawing its image right now (its own regeneration;
/// the storyboard's plan job while that runs), cleared when the outcome is taken.
/// </summary>
public sealed record StoryboardScene(
    string Id, string Narration, string ImagePrompt, double DurationSeconds, string Status,
    string? ImageAssetId = null, string? GenerationId = null, string? JobId = null, string? Error = null);

/// <summary>What a storyboard was created with; the render and regenerations use the same.</summary>
public sealed record StoryboardSettings(string? Style, int SceneCount, string AspectRatio, string? Voice, string ImageModel, string Provider, string Lang);

/// <summary>The last render: its job, and once it ended its outcome (the video, or why not).</summary>
public sealed record StoryboardRender(string JobId, string Status, string? VideoAssetId = null, string? Error = null);

/// <summary>
/// A storyboard (seed 004): a planned video as scenes, each with its narration, its image prompt, how long it lasts and
/// its image. Its state changes here; where the scenes and images come from (jobs) is the store's business.
/// </summary>
public sealed partial class Storyboard
{
    public const int MinScenes = 1, MaxScenes = GivenScript.MaxScenes;
    public const double MinSceneSeconds = 1, MaxSceneSeconds = 60;
    /// <summary>Narration pace a planned scene's duration assumes (espeak-ng reads about 178 words a minute).</summary>
    public const double WordsPerSecond = 2.9;

    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? CreatedBy { get; init; }
    public required string Title { get; set; }
    public required string Description { get; init; }
    public required StoryboardSettings Settings { get; init; }
    public List<StoryboardScene> Scenes { get; set; } = [];
    public required string Status { get; set; }
    /// <summary>The plan job: the script and one image per scene (null until it is known to have started).</summary>
    public string? JobId { get; set; }
    public StoryboardRender? Render { get; set; }
    public int TotalCreditsUsed { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Edits wait while the plan or a render runs: their outcome would overwrite or misuse the scenes.</summary>
    public void EnsureEditable()
    {
        if (Status is StoryboardStatus.Generating or StoryboardStatus.Rendering)
            throw new ConflictException("STORYBOARD_BUSY", $"The storyboard is {Status}; edit it when that has finished.");
    }

    /// <summary>The scene at 1-based position <paramref name="n"/>.</summary>
    public StoryboardScene Scene(int n) =>
        n >= 1 && n <= Scenes.Count ? Scenes[n - 1] : throw new NotFoundException("scene", n.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static void EnsureIdle(StoryboardScene scene, int n)
    {
        if (scene.Status == SceneStatus.Generating)
            throw new ConflictException("SCENE_BUSY", $"Scene {n}'s image is being generated; edit it when that has finished.");
    }

    /// <summary>Changes scene <paramref name="n"/>'s text, prompt or duration, and moves it to position <paramref name="moveTo"/>.</summary>
    public void EditScene(int n, string? narration, string? imagePrompt, double? durationSeconds, int? moveTo)
    {
        EnsureEditable();
        var scene = Scene(n);
        EnsureIdle(scene, n);
        var errors = new FieldErrors();
        CheckScene(narration, imagePrompt, durationSeconds, errors, "");
        if (moveTo is { } to && (to < 1 || to > Scenes.Count)) errors.Add("index", $"must be a position from 1 to {Scenes.Count}");
        errors.ThrowIfAny();
        scene = scene with
        {
            Narration = narration?.Trim() ?? scene.Narration,
            ImagePrompt = imagePrompt?.Trim() ?? scene.ImagePrompt,
            DurationSeconds = durationSeconds ?? scene.DurationSeconds,
        };
        Scenes[n - 1] = scene;
        if (moveTo is { } target && target != n)
        {
            Scenes.RemoveAt(n - 1);
            Scenes.Insert(target - 1, scene);
        }
    }

    /// <summary>Puts the scenes in the order of <paramref name="sceneIds"/>, which must name each scene once.</summary>
    public void Reorder(IReadOnlyList<string> sceneIds)
    {
        EnsureEditable();
        if (sceneIds.Count != Scenes.Count || sceneIds.Distinct().Count() != Scenes.Count || sceneIds.Any(id => Scenes.All(s => s.Id != id)))
            throw new ValidationFailedException("scene_order", "must name every scene id of the storyboard once");
        Scenes = [.. sceneIds.Select(id => Scenes.Single(s => s.Id == id))];
    }

    public StoryboardScene AddScene(string? narration, string? imagePrompt, double? durationSeconds, int? at)
    {
        EnsureEditable();
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(narration)) errors.Add("narration", "is required");
        CheckScene(narration, imagePrompt, durationSeconds, errors, "");
        if (Scenes.Count >= MaxScenes) errors.Add("narration", $"a storyboard has at most {MaxScenes} scenes");
        if (at is { } position && (position < 1 || position > Scenes.Count + 1)) errors.Add("index", $"must be a position from 1 to {Scenes.Count + 1}");
        errors.ThrowIfAny();
        var scene = new StoryboardScene(Ids.New("scn"), narration!.Trim(), string.IsNullOrWhiteSpace(imagePrompt) ? narration.Trim() : imagePrompt.Trim(),
            durationSeconds ?? PlannedSeconds(narration), SceneStatus.Pending);
        Scenes.Insert((at ?? Scenes.Count + 1) - 1, scene);
        return scene;
    }

    public void RemoveScene(int n)
    {
        EnsureEditable();
        var scene = Scene(n);
        EnsureIdle(scene, n);
        if (Scenes.Count == 1) throw new ConflictException("LAST_SCENE", "A storyboard keeps at least one scene; delete the storyboard instead.");
        Scenes.RemoveAt(n - 1);
    }

    /// <summary>Scene <paramref name="n"/> is being drawn again by job <paramref name="jobId"/> (generation <paramref name="generationId"/>).</summary>
    public void StartRegeneration(int n, string? imagePrompt, string jobId, string generationId)
    {
        var scene = Scene(n);
        Scenes[n - 1] = scene with
        {
            ImagePrompt = imagePrompt?.Trim() ?? scene.ImagePrompt, Status = SceneStatus.Generating, JobId = jobId, GenerationId = generationId, Error = null,
        };
    }

    /// <summary>Refuses a regeneration now (busy storyboard or scene); checks the prompt.</summary>
    public void EnsureRegenerable(int n, string? imagePrompt)
    {
        EnsureEditable();
        var scene = Scene(n);
        EnsureIdle(scene, n);
        var errors = new FieldErrors();
        CheckScene(null, imagePrompt, null, errors, "");
        errors.ThrowIfAny();
    }

    /// <summary>Every scene has its image: what a render needs.</summary>
    public void EnsureRenderable()
    {
        EnsureEditable();
        for (var i = 0; i < Scenes.Count; i++)
            if (Scenes[i].Status != SceneStatus.Ready || Scenes[i].ImageAssetId is null)
                throw new ConflictException("SCENES_NOT_READY", $"Scene {i + 1} has no image yet ({Scenes[i].Status}); regenerate it or wait for it, then render.");
    }

    public void StartRender(string jobId)
    {
        Render = new StoryboardRender(jobId, "processing");
        Status = StoryboardStatus.Rendering;
    }

    /// <summary>
    /// The Idempotency-Key of the job that plans this storyboard, and of the next job that redraws a scene or renders it:
    /// each follows from the state before the job starts, so a request repeated after the API stopped between starting
    /// the job and recording it here finds that job instead of paying for a second.
    /// </summary>
    public string PlanKey => $"storyboard:{Id}:plan";

    public string RegenerationKey(int n) => $"storyboard:{Id}:scene:{Scene(n).Id}:{Scene(n).GenerationId ?? "none"}";

    public string RenderKey => $"storyboard:{Id}:render:{Render?.JobId ?? "none"}";

    /// <summary>Checks the parts of a scene that are given; errors name <paramref name="prefix"/> + the field.</summary>
    public static void CheckScene(string? narration, string? imagePrompt, double? durationSeconds, FieldErrors errors, string prefix)
    {
        if (narration is not null && narration.Trim().Length == 0) errors.Add($"{prefix}narration", "must not be empty");
        if (narration is { Length: > GivenScript.MaxNarrationChars }) errors.Add($"{prefix}narration", $"must be at most {GivenScript.MaxNarrationChars} characters");
        if (imagePrompt is not null && imagePrompt.Trim().Length == 0) errors.Add($"{prefix}image_prompt", "must not be empty");
        if (imagePrompt is { Length: > GivenScript.MaxPromptChars }) errors.Add($"{prefix}image_prompt", $"must be at most {GivenScript.MaxPromptChars} characters");
        if (durationSeconds is { } d && (double.IsNaN(d) || d < MinSceneSeconds || d > MaxSceneSeconds))
            errors.Add($"{prefix}duration_seconds", $"must be {MinSceneSeconds:0} to {MaxSceneSeconds:0} seconds");
    }

    /// <summary>How long a scene of this narration lasts when read aloud (at least two seconds), to a tenth of a second.</summary>
    public static double PlannedSeconds(string narration)
    {
        var words = narration.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return Math.Round(Math.Clamp(words / WordsPerSecond + 0.5, 2, MaxSceneSeconds), 1);
    }

    /// <summary>
    /// A script given as plain text, as scenes: its paragraphs when it has several (blank lines between), else its
    /// sentences shared out over <paramref name="sceneCount"/> scenes (one per sentence when not given).
    /// </summary>
    public static List<string> ScenesOfText(string text, int? sceneCount)
    {
        var paragraphs = Paragraphs().Split(text.Trim()).Select(p => Space().Replace(p, " ").Trim()).Where(p => p.Length > 0).ToList();
        if (paragraphs.Count > 1 && sceneCount is null or 0) return paragraphs;
        var sentences = Sentences().Split(Space().Replace(text, " ").Trim()).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();
        var count = Math.Clamp(sceneCount is > 0 ? sceneCount.Value : sentences.Count, 1, Math.Max(1, sentences.Count));
        // Sentence i goes to scene floor(i * count / total): in order, as even as whole sentences allow.
        return [.. sentences.Select((s, i) => (s, Scene: i * count / sentences.Count)).GroupBy(x => x.Scene).Select(g => string.Join(" ", g.Select(x => x.s)))];
    }

    [GeneratedRegex(@"\n\s*\n")]
    private static partial Regex Paragraphs();

    [GeneratedRegex(@"(?<=[.!?…])\s+")]
    private static partial Regex Sentences();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Space();
}
