using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Runs.Assets;

namespace FentaWeb.Runs.Nodes;

public sealed record VoiceTtsArgs(string Provider, string Voice, double Speed, string? Lang, double LoudnessLufs);

/// <summary>
/// Voice.TTS: speaks the script one sentence at a time and measures each clip, so sentence timings are exact;
/// joins them with short pauses into one WAV asset at the loudness short-form platforms play (about -14 LUFS).
/// espeak-ng offline; OpenAI speech when configured.
/// </summary>
public sealed class VoiceTtsActivity(IEnumerable<ISpeechSynthesizer> synthesizers, AssetStore assets) : NodeActivity<VoiceTtsArgs>
{

    public override string NodeType => "Voice.TTS";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, VoiceTtsArgs args, CancellationToken ct)
    {
        var script = context.Inputs["script"].Deserialize<Script>(FentaJson.Options)!;
        var available = synthesizers.ToDictionary(s => s.Name);
        var provider = args.Provider switch
        {
            "auto" => available.GetValueOrDefault("openai") ?? available["espeak"],
            var name => available.GetValueOrDefault(name),
        };
        if (provider is null)
            return new ActivityResult.Failed("TTS_NOT_CONFIGURED", $"The '{args.Provider}' speech provider is not configured (set FENTA_TTS_BASE_URL).", Permanent: true);

        var voice = new SpeechVoice(args.Voice, args.Lang ?? script.Lang, args.Speed);
        var lines = script.Scenes.SelectMany(scene => Sentences.Split(scene.Narration).Select(text => (Scene: scene.Index, Text: text))).ToList();
        var said = new PcmAudio[lines.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, lines.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, provider.Concurrency), CancellationToken = ct },
            async (i, token) => said[i] = await provider.SpeakAsync(lines[i].Text, voice, token));
        var clips = new List<PcmAudio>();
        var sentences = new List<SpokenSentence>();
        var at = 0.0;
        for (var i = 0; i < lines.Count; i++)
        {
            var (scene, sentence) = lines[i];
            var clip = said[i];
            if (clips.Count > 0)
            {
                var pause = clip.Silence(Narration.SentencePauseSeconds);
                clips.Add(pause);
                at += pause.DurationSeconds;
            }
            clips.Add(clip);
            sentences.Add(new SpokenSentence(scene, sentence, Math.Round(at, 3), Math.Round(at + clip.DurationSeconds, 3),
                Sentences.TimeWords(sentence, at, at + clip.DurationSeconds)));
            at += clip.DurationSeconds;
        }
        if (clips.Count == 0) return new ActivityResult.Failed("SCRIPT_EMPTY", "The script has nothing to say.", Permanent: true);

        var narration = PcmAudio.Concat(clips);
        var spoken = Path.Combine(Path.GetTempPath(), $"fenta-narration-{Guid.NewGuid():N}.wav");
        var normalized = Path.ChangeExtension(spoken, ".normalized.wav");
        try
        {
            await Wav.WriteAsync(spoken, narration, ct);
            await Loudness.NormalizeAsync(spoken, normalized, args.LoudnessLufs, narration.Channels, ct);
            var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "generated", "audio/wav", "narration.wav", context.JobId, context.NodeId,
                Metadata: new { voice = args.Voice, provider = provider.Name, sentences = sentences.Count, loudness_lufs = args.LoudnessLufs }), normalized, ct);
            return ActivityResult.Done(new Narration(asset.Id, Math.Round(narration.DurationSeconds, 3), sentences, args.Voice, voice.Lang, provider.Name));
        }
        finally
        {
            File.Delete(spoken);
            File.Delete(normalized);
        }
    }
}
