using System.Globalization;
using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Runs.Assets;

namespace FentaWeb.Runs.Nodes;

public sealed record AudioMixArgs(string? MusicAssetId, double MusicVolume, bool Ducking, double TargetLufs);

/// <summary>
/// Audio.Mix: narration over music (from the music input or an uploaded asset), the music ducked under speech
/// with a sidechain compressor, the whole normalized to the target loudness (about -14 LUFS). The narration's
/// timings carry over unchanged, so subtitles still follow.
/// </summary>
public sealed class AudioMixActivity(AssetStore assets) : NodeActivity<AudioMixArgs>
{
    public override string NodeType => "Audio.Mix";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, AudioMixArgs args, CancellationToken ct)
    {
        var voice = context.Inputs["voice"].Deserialize<Narration>(FentaJson.Options)!;
        var musicAssetId = context.Inputs.TryGetValue("music", out var music) ? music.Deserialize<Narration>(FentaJson.Options)!.AssetId : args.MusicAssetId;
        using var inputs = await assets.LocalFilesAsync(context.OrgId, musicAssetId is null ? [voice.AssetId] : [voice.AssetId, musicAssetId], ct);
        var voicePath = inputs.GetValueOrDefault(voice.AssetId);
        var musicPath = musicAssetId is null ? null : inputs.GetValueOrDefault(musicAssetId);
        if (voicePath is null || (musicAssetId is not null && musicPath is null))
            return new ActivityResult.Failed("ASSET_NOT_FOUND", $"The narration or music asset ({musicAssetId}) is not in this organization.", Permanent: true);

        string F(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
        var loudness = Loudness.Filter(args.TargetLufs, 48000);
        var filter = musicPath is null
            ? $"[0:a]{loudness}[out]"
            : $"[0:a]asplit=2[voice][key];[1:a]aresample=48000,aformat=channel_layouts=stereo,volume={F(args.MusicVolume)},atrim=0:{F(voice.DurationSeconds)}[bed];" +
              (args.Ducking ? "[bed][key]sidechaincompress=threshold=0.02:ratio=10:attack=15:release=350[ducked];" : "[bed]anull[ducked];[key]anullsink;") +
              $"[voice]aformat=channel_layouts=stereo[v];[v][ducked]amix=inputs=2:normalize=0:duration=first,{loudness}[out]";
        var output = Path.Combine(Path.GetTempPath(), $"fenta-mix-{Guid.NewGuid():N}.wav");
        try
        {
            List<string> command = ["-y", "-v", "error", "-i", voicePath];
            if (musicPath is not null) command.AddRange(["-stream_loop", "-1", "-i", musicPath]);
            command.AddRange(["-filter_complex", filter, "-map", "[out]", "-t", F(voice.DurationSeconds), "-c:a", "pcm_s16le", output]);
            var result = await ProcessRunner.RunAsync("ffmpeg", command, ct);
            if (result.ExitCode != 0) return new ActivityResult.Failed("MIX_FAILED", $"ffmpeg could not mix: {result.ErrorTail()}");
            var mix = await assets.AddFileAsync(new NewAsset(context.OrgId, "generated", "audio/wav", "mix.wav", context.JobId, context.NodeId,
                Metadata: new { voice = voice.AssetId, music = musicAssetId, target_lufs = args.TargetLufs, ducking = args.Ducking }), output, ct);
            return ActivityResult.Done(voice with { AssetId = mix.Id, Provider = $"{voice.Provider}+mix" });
        }
        finally
        {
            File.Delete(output);
        }
    }
}
