using System.Text.Json;
using System.Text;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Runs.Assets;

namespace FentaWeb.Runs.Nodes;

public sealed record SubtitleAutoArgs(string Style, int MaxCharsPerLine, int MaxLines, double MinCueSeconds, double MaxCueSeconds);

/// <summary>
/// Subtitle.Auto: cues from the narration's own word timings (exact, no speech recognition needed), or from an
/// OpenAI transcription of uploaded video when configured; written as SRT and ASS assets. The narration travels on
/// with the cues, so a timeline fed by this node has the voice too.
/// </summary>
public sealed class SubtitleAutoActivity(AssetStore assets, OpenAiTranscriber? transcriber = null) : NodeActivity<SubtitleAutoArgs>
{
    public override string NodeType => "Subtitle.Auto";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, SubtitleAutoArgs args, CancellationToken ct)
    {
        Narration narration;
        if (context.Inputs.TryGetValue("audio", out var audio))
        {
            narration = audio.Deserialize<Narration>(FentaJson.Options)!;
        }
        else if (transcriber is null)
        {
            return new ActivityResult.Failed("TRANSCRIPTION_NOT_CONFIGURED",
                "Subtitles for uploaded media need speech recognition (set FENTA_ASR_BASE_URL), or connect a narration (Voice.TTS) to 'audio'.", Permanent: true);
        }
        else
        {
            var media = context.Inputs["media"].Deserialize<List<MediaItem>>(FentaJson.Options)!.FirstOrDefault(m => m.Type == "video");
            if (media is null) return new ActivityResult.Failed("NO_SPEECH_SOURCE", "None of the media is a video to transcribe.", Permanent: true);
            using var video = await assets.LocalFilesAsync(context.OrgId, [media.AssetId], ct);
            if (!video.TryGetValue(media.AssetId, out var path)) return new ActivityResult.Failed("ASSET_NOT_FOUND", $"The video {media.AssetId} is gone.", Permanent: true);
            var sentences = await transcriber.TranscribeAsync(path, null, ct);
            narration = new Narration(media.AssetId, media.DurationSeconds ?? sentences.LastOrDefault()?.End ?? 0, sentences, "", "", "transcription");
        }
        var cues = SubtitleWriter.BuildCues(narration.Sentences, new CueRules(args.MaxCharsPerLine, args.MaxLines, args.MinCueSeconds, args.MaxCueSeconds));
        var srt = await SaveAsync(context, SubtitleWriter.ToSrt(cues), "application/x-subrip", "subtitles.srt", args.Style, ct);
        // The download copy is drawn on a 1080x1920 canvas; the renderer redraws the cues for the output's real size.
        var ass = await SaveAsync(context, SubtitleWriter.ToAss(cues, args.Style, new AssStyle(), 1080, 1920), "text/x-ssa", "subtitles.ass", args.Style, ct);
        await context.LogAsync("info", $"{cues.Count} subtitle cues ({args.Style})", ct: ct);
        return ActivityResult.Done(new SubtitleTrack(args.Style, cues, srt.Id, ass.Id, narration));
    }

    private Task<Asset> SaveAsync(ActivityContext context, string text, string contentType, string filename, string style, CancellationToken ct) =>
        assets.AddAsync(new NewAsset(context.OrgId, "generated", contentType, filename, context.JobId, context.NodeId, Metadata: new { style }),
            new MemoryStream(Encoding.UTF8.GetBytes(text)), ct);
}
