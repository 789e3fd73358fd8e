using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Rendering;

/// <summary>
/// Everything the renderer needs, and nothing else: what flows on a Timeline port. Sources are asset ids in a
/// timeline's output; the render activity resolves them to files (the CLI takes file paths directly).
/// </summary>
public sealed record RenderSpec(
    int Width,
    int Height,
    int Fps,
    double DurationSeconds,
    IReadOnlyList<RenderScene> Scenes,
    string Transition,
    double TransitionSeconds,
    IReadOnlyList<RenderOverlay> Overlays,
    RenderSubtitles? Subtitles,
    IReadOnlyList<RenderAudio> Audio,
    string? TemplateId = null,
    string? Title = null);

/// <param name="Kind">"video" or "image" (an image gets a slow Ken-Burns push-in).</param>
/// <param name="TrimStart">Where in the clip this scene starts, seconds.</param>
public sealed record RenderScene(string Source, string Kind, double Start, double Duration, double TrimStart = 0);

/// <param name="Position">top, center, bottom, top_left, top_right, bottom_left, bottom_right.</param>
/// <param name="Animation">none, fade, slide-down, slide-up, pop, typewriter.</param>
public sealed record RenderOverlay(string Text, double From, double To, string Position, string Animation, int Size, string Color);

public sealed record RenderSubtitles(string Preset, AssStyle Style, IReadOnlyList<Cue> Cues);

public sealed record RenderAudio(string Source, double Start, double Volume = 1.0);
