using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Rendering;

namespace FentaWeb.Domain.Templates;

/// <summary>A montage template's spec as in seed 002: tracks, timed overlays, placeholders, cut rules, subtitle presets.</summary>
public sealed record TemplateSpec(
    IReadOnlyList<TemplateTrack> Tracks,
    IReadOnlyList<TemplateOverlay>? Overlays = null,
    IReadOnlyDictionary<string, string>? Placeholders = null,
    TemplateRules? Rules = null,
    IReadOnlyList<string>? SubtitleStylePresets = null);

public sealed record TemplateTrack(string Type, string Id, int Z = 0, SubtitleStyle? Style = null);

public sealed record SubtitleStyle(
    string? Font = null,
    int? Size = null,
    bool? Shadow = null,
    string? Bg = null,
    string? Position = null,
    int? Margin = null,
    string? Color = null,
    string? HighlightColor = null);

public sealed record TemplateOverlay(string Track, double From, double To, OverlayContent Content);

public sealed record OverlayContent(
    string Type,
    string? Text = null,
    string? Pos = null,
    string? Anim = null,
    string? Placeholder = null,
    string? Color = null,
    int? Size = null);

public sealed record TemplateRules(string? Cuts = null, double? MinScene = null, double? MaxScene = null);

public static partial class TemplateValidator
{
    public static readonly IReadOnlyList<string> TrackTypes = ["video", "subtitle", "overlay", "audio"];
    public static readonly IReadOnlyList<string> PlaceholderKinds =
        ["image", "image_optional", "video", "video_optional", "audio", "audio_optional", "text", "text_optional"];
    public static readonly IReadOnlyList<string> SubtitlePresets = ["clean_box", "karaoke_bounce", "bold_outline", "minimal"];
    public static readonly IReadOnlyList<string> CutRules = ["auto_by_beats_or_speech", "by_speech", "by_beats", "fixed"];
    public static readonly IReadOnlyList<string> Positions = ["top", "center", "bottom"];
    public static readonly IReadOnlyList<string> OverlayPositions = ["top", "center", "bottom", "top_left", "top_right", "bottom_left", "bottom_right"];
    public static readonly IReadOnlyList<string> Animations = ["none", "fade", "slide-down", "slide-up", "pop", "typewriter"];
    public static readonly IReadOnlyList<string> SubtitleBackgrounds = ["none", "box", "outline"];
    public const double MaxSeconds = 600;

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();

    [GeneratedRegex("^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$")]
    private static partial Regex ColorPattern();

    [GeneratedRegex("^([0-9]{3,4})x([0-9]{3,4})$")]
    private static partial Regex ResolutionPattern();

    /// <summary>Checks the template's top-level aspect and resolution and its spec; adds every problem to <paramref name="errors"/>.</summary>
    public static void Validate(string aspect, string resolution, TemplateSpec spec, FieldErrors errors)
    {
        if (!OutputProfiles.Aspects.Contains(aspect))
            errors.Add("aspect", $"must be one of: {string.Join(", ", OutputProfiles.Aspects)}");
        else if (ResolutionPattern().Match(resolution) is not { Success: true } m)
            errors.Add("resolution", "must be WIDTHxHEIGHT, e.g. 1080x1920");
        else
        {
            var (w, h) = (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
            var parts = aspect.Split(':').Select(int.Parse).ToArray();
            if (w * parts[1] != h * parts[0]) errors.Add("resolution", $"{resolution} is not {aspect}");
            else if (w is < 240 or > 3840 || h is < 240 or > 3840 || w % 2 != 0 || h % 2 != 0)
                errors.Add("resolution", "each side must be even and between 240 and 3840 pixels");
        }
        ValidateSpec(spec, errors);
    }

    private static void ValidateSpec(TemplateSpec spec, FieldErrors errors)
    {
        var tracks = spec.Tracks ?? [];
        if (tracks.Count == 0) errors.Add("spec.tracks", "a template needs at least one track");
        var trackTypes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tracks.Select((t, i) => (t, i)).Where(p => p.t is null).ToList() is { Count: > 0 } missing)
        {
            foreach (var (_, i) in missing) errors.Add($"spec.tracks[{i}]", "must be a track object, not null");
            return;
        }
        for (var i = 0; i < tracks.Count; i++)
        {
            var track = tracks[i];
            var path = $"spec.tracks[{i}]";
            if (!TrackTypes.Contains(track.Type)) errors.Add($"{path}.type", $"must be one of: {string.Join(", ", TrackTypes)}");
            if (track.Id is null || !NamePattern().IsMatch(track.Id)) errors.Add($"{path}.id", "must be 1-64 letters, digits, '_' or '-'");
            else if (!trackTypes.TryAdd(track.Id, track.Type)) errors.Add($"{path}.id", $"duplicate track id '{track.Id}'");
            if (track.Z is < 0 or > 100) errors.Add($"{path}.z", "must be between 0 and 100");
            if (track.Style is { } style)
            {
                if (track.Type != "subtitle") errors.Add($"{path}.style", "only subtitle tracks have a style");
                else ValidateStyle(style, $"{path}.style", errors);
            }
        }
        if (tracks.Count > 0 && tracks.All(t => t.Type != "video")) errors.Add("spec.tracks", "a template needs a video track");
        if (tracks.Count(t => t.Type == "subtitle") > 1) errors.Add("spec.tracks", "a template can have at most one subtitle track");

        var placeholders = spec.Placeholders ?? new Dictionary<string, string>();
        foreach (var (name, kind) in placeholders)
        {
            if (!NamePattern().IsMatch(name)) errors.Add($"spec.placeholders.{name}", "name must be 1-64 letters, digits, '_' or '-'");
            if (!PlaceholderKinds.Contains(kind)) errors.Add($"spec.placeholders.{name}", $"must be one of: {string.Join(", ", PlaceholderKinds)}");
        }

        var overlays = spec.Overlays ?? [];
        for (var i = 0; i < overlays.Count; i++)
        {
            if (overlays[i] is null) errors.Add($"spec.overlays[{i}]", "must be an overlay object, not null");
            else ValidateOverlay(overlays[i], $"spec.overlays[{i}]", trackTypes, placeholders, errors);
        }

        if (spec.Rules is { } rules)
        {
            if (rules.Cuts is not null && !CutRules.Contains(rules.Cuts)) errors.Add("spec.rules.cuts", $"must be one of: {string.Join(", ", CutRules)}");
            if (rules.MinScene is { } min && min is < 0.5 or > 60) errors.Add("spec.rules.min_scene", "must be between 0.5 and 60 seconds");
            if (rules.MaxScene is { } max && max is < 0.5 or > 120) errors.Add("spec.rules.max_scene", "must be between 0.5 and 120 seconds");
            if (rules is { MinScene: { } lo, MaxScene: { } hi } && hi < lo) errors.Add("spec.rules.max_scene", "must not be less than min_scene");
        }

        var presets = spec.SubtitleStylePresets ?? [];
        for (var i = 0; i < presets.Count; i++)
        {
            if (!SubtitlePresets.Contains(presets[i]))
                errors.Add($"spec.subtitle_style_presets[{i}]", $"unknown preset '{presets[i]}'; known: {string.Join(", ", SubtitlePresets)}");
            else if (presets.Take(i).Contains(presets[i]))
                errors.Add($"spec.subtitle_style_presets[{i}]", $"'{presets[i]}' is listed twice");
        }
    }

    private static void ValidateStyle(SubtitleStyle style, string path, FieldErrors errors)
    {
        if (style.Font is { } font && (font.Length is 0 or > 64)) errors.Add($"{path}.font", "must be 1-64 characters");
        if (style.Size is { } size && size is < 8 or > 200) errors.Add($"{path}.size", "must be between 8 and 200");
        if (style.Bg is { } bg && !SubtitleBackgrounds.Contains(bg)) errors.Add($"{path}.bg", $"must be one of: {string.Join(", ", SubtitleBackgrounds)}");
        if (style.Position is { } pos && !Positions.Contains(pos)) errors.Add($"{path}.position", $"must be one of: {string.Join(", ", Positions)}");
        if (style.Margin is { } margin && margin is < 0 or > 1000) errors.Add($"{path}.margin", "must be between 0 and 1000");
        if (style.Color is { } color && !ColorPattern().IsMatch(color)) errors.Add($"{path}.color", "must be #RRGGBB or #RRGGBBAA");
        if (style.HighlightColor is { } hl && !ColorPattern().IsMatch(hl)) errors.Add($"{path}.highlight_color", "must be #RRGGBB or #RRGGBBAA");
    }

    private static void ValidateOverlay(TemplateOverlay overlay, string path, Dictionary<string, string> trackTypes,
        IReadOnlyDictionary<string, string> placeholders, FieldErrors errors)
    {
        if (!trackTypes.TryGetValue(overlay.Track ?? "", out var type))
            errors.Add($"{path}.track", $"no track with id '{overlay.Track}'");
        else if (type != "overlay")
            errors.Add($"{path}.track", $"track '{overlay.Track}' is a {type} track, not an overlay track");
        if (overlay.From < 0 || overlay.From > MaxSeconds) errors.Add($"{path}.from", $"must be between 0 and {MaxSeconds} seconds");
        if (overlay.To <= overlay.From || overlay.To > MaxSeconds) errors.Add($"{path}.to", $"must be after 'from' and at most {MaxSeconds} seconds");

        var content = overlay.Content;
        if (content is null)
        {
            errors.Add($"{path}.content", "is required");
            return;
        }
        switch (content.Type)
        {
            case "text":
                if (string.IsNullOrWhiteSpace(content.Text) || content.Text.Length > 200) errors.Add($"{path}.content.text", "must be 1-200 characters");
                break;
            case "image":
                if (content.Placeholder is null || !placeholders.TryGetValue(content.Placeholder, out var kind) || !kind.StartsWith("image", StringComparison.Ordinal))
                    errors.Add($"{path}.content.placeholder", "must name an image placeholder of this template");
                break;
            default:
                errors.Add($"{path}.content.type", "must be 'text' or 'image'");
                break;
        }
        if (content.Pos is { } pos && !OverlayPositions.Contains(pos)) errors.Add($"{path}.content.pos", $"must be one of: {string.Join(", ", OverlayPositions)}");
        if (content.Anim is { } anim && !Animations.Contains(anim)) errors.Add($"{path}.content.anim", $"must be one of: {string.Join(", ", Animations)}");
        if (content.Color is { } color && !ColorPattern().IsMatch(color)) errors.Add($"{path}.content.color", "must be #RRGGBB or #RRGGBBAA");
        if (content.Size is { } size && size is < 8 or > 300) errors.Add($"{path}.content.size", "must be between 8 and 300");
    }
}

public sealed class Template : IHasId
{
    public required string Id { get; init; }
    /// <summary>Null for built-in templates.</summary>
    public string? OrgId { get; init; }
    public string? ProjectId { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public required string Aspect { get; set; }
    public required string Resolution { get; set; }
    public bool IsPublic { get; set; }
    public string? ThumbnailUrl { get; set; }
    public required TemplateSpec Spec { get; set; }
    public int UsageCount { get; set; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; private set; }

    public bool IsBuiltIn => OrgId is null;

    public void Delete(DateTimeOffset now) => DeletedAt ??= now;
}
