using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Rendering;
using FentaWeb.Domain.Scripts;
using FentaWeb.Domain.Templates;
using Npgsql;

namespace FentaWeb.Runs.Nodes;

public sealed record EditTimelineArgs(string TemplateId, string Transition, double? MinScene, double? MaxScene, bool Overlays = true);

/// <summary>
/// Edit.Timeline: lays the media on the narration following the template — a cut where each script scene starts
/// to be spoken, kept within the template's shortest and longest scene — plus the template's overlays, the
/// subtitle cues in the template's style, and the narration. Produces a <see cref="RenderSpec"/>.
/// </summary>
public sealed class EditTimelineActivity(NpgsqlDataSource db) : NodeActivity<EditTimelineArgs>
{
    public const double CrossfadeSeconds = 0.4;

    public override string NodeType => "Edit.Timeline";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, EditTimelineArgs args, CancellationToken ct)
    {
        var template = await TemplateAsync(context.OrgId, args.TemplateId, ct);
        if (template is null) return new ActivityResult.Failed("TEMPLATE_NOT_FOUND", $"No template '{args.TemplateId}' in this organization.", Permanent: true);
        var (spec, aspect, resolution) = template.Value;

        var media = context.Inputs["media"].Deserialize<List<MediaItem>>(FentaJson.Options)!;
        if (media.Count == 0) return new ActivityResult.Failed("TIMELINE_NO_MEDIA", "The timeline got no images or clips.", Permanent: true);
        var subtitles = context.Inputs.TryGetValue("subtitles", out var s) ? s.Deserialize<SubtitleTrack>(FentaJson.Options) : null;
        var narration = context.Inputs.TryGetValue("audio", out var a) ? a.Deserialize<Narration>(FentaJson.Options) : subtitles?.Narration;
        var script = context.Inputs.TryGetValue("script", out var sc) ? sc.Deserialize<Script>(FentaJson.Options) : null;

        var min = args.MinScene ?? spec.Rules?.MinScene ?? 1.2;
        var max = Math.Max(min, args.MaxScene ?? spec.Rules?.MaxScene ?? 4.0);
        var total = narration is null ? Math.Min(60, media.Sum(m => m.DurationSeconds ?? max)) : Math.Round(narration.DurationSeconds + Narration.TailSeconds, 3);
        var cuts = Cuts(narration, total, min, max);
        var scenes = cuts.Select((cut, i) =>
        {
            var item = media[i % media.Count];
            // A clip shown again starts further in, so repeats do not look like repeats.
            var reuse = i / media.Count;
            var trim = item.Type == "video" && item.DurationSeconds is { } length && length > cut.Duration ? reuse * cut.Duration % (length - cut.Duration) : 0;
            return new RenderScene(item.AssetId, item.Type == "image" ? "image" : "video", cut.Start, cut.Duration, Math.Round(trim, 3));
        }).ToList();

        var (width, height) = Parse(resolution);
        var overlays = (args.Overlays ? spec.Overlays ?? [] : []).Where(o => o.Content.Type == "text" && o.From < total).Select(o => new RenderOverlay(
            (o.Content.Text ?? "").Replace("{{title}}", script?.Title ?? "", StringComparison.Ordinal),
            o.From, Math.Min(o.To, total), o.Content.Pos ?? "top", o.Content.Anim ?? "none",
            o.Content.Size ?? height / 26, o.Content.Color ?? "#FFFFFF")).ToList();
        var track = spec.Tracks.FirstOrDefault(t => t.Type == "subtitle");
        var renderSubtitles = subtitles is null ? null : new RenderSubtitles(subtitles.Style, AssStyleOf(track?.Style, height), subtitles.Cues);
        var audio = narration is null ? new List<RenderAudio>() : [new RenderAudio(narration.AssetId, 0)];

        return ActivityResult.Done(new RenderSpec(width, height, 30, total, scenes, args.Transition, args.Transition == "cut" ? 0 : CrossfadeSeconds,
            overlays, renderSubtitles, audio, args.TemplateId, script?.Title));
    }

    public sealed record Cut(double Start, double Duration);

    /// <summary>Cut points: where each script scene starts being spoken, then split above max and merged below min.</summary>
    public static List<Cut> Cuts(Narration? narration, double total, double min, double max)
    {
        var starts = narration?.Sentences.GroupBy(s => s.Scene).Select(g => g.Min(s => s.Start)).Order().ToList() ?? [0.0];
        if (starts.Count == 0 || starts[0] > 0) starts.Insert(0, 0);
        var segments = starts.Select((start, i) => (Start: start, End: i + 1 < starts.Count ? starts[i + 1] : total)).Where(s => s.End > s.Start).ToList();

        var cuts = new List<Cut>();
        foreach (var (start, end) in segments)
        {
            var parts = Math.Max(1, (int)Math.Ceiling((end - start) / max - 1e-9));
            for (var p = 0; p < parts; p++) cuts.Add(new Cut(start + (end - start) * p / parts, (end - start) / parts));
        }
        for (var i = cuts.Count - 1; i > 0; i--)
        {
            if (cuts[i].Duration >= min) continue;
            cuts[i - 1] = cuts[i - 1] with { Duration = cuts[i - 1].Duration + cuts[i].Duration };
            cuts.RemoveAt(i);
        }
        if (cuts.Count > 1 && cuts[0].Duration < min)
        {
            cuts[1] = new Cut(0, cuts[0].Duration + cuts[1].Duration);
            cuts.RemoveAt(0);
        }
        return cuts.Select(c => new Cut(Math.Round(c.Start, 3), Math.Round(c.Duration, 3))).ToList();
    }

    private static AssStyle AssStyleOf(SubtitleStyle? style, int height)
    {
        var defaults = new AssStyle(Size: height / 24, Margin: height / 12);
        if (style is null) return defaults;
        return new AssStyle(
            Font: "DejaVu Sans",
            Size: style.Size ?? defaults.Size,
            Shadow: style.Shadow ?? true,
            Position: style.Position ?? "bottom",
            Margin: style.Margin ?? defaults.Margin,
            Color: style.Color ?? "#FFFFFF",
            HighlightColor: style.HighlightColor ?? "#FFD400",
            Background: style.Bg);
    }

    private static (int Width, int Height) Parse(string resolution)
    {
        var parts = resolution.Split('x');
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    private async Task<(TemplateSpec Spec, string Aspect, string Resolution)?> TemplateAsync(string orgId, string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT spec, aspect, resolution FROM templates
            WHERE id = $1 AND (org_id = $2 OR (org_id IS NULL AND is_public)) AND deleted_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        return (JsonSerializer.Deserialize<TemplateSpec>(reader.GetString(0), FentaJson.Options)!, reader.GetString(1), reader.GetString(2));
    }
}
