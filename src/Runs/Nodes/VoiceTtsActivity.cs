using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Domain.Scripts;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Kie;

namespace FentaWeb.Runs.Nodes;

public sealed record VoiceTtsArgs(string Provider, string Voice, double Speed, string? Lang, double LoudnessLufs);

/// <summary>
/// Voice.TTS: speaks the script one sentence at a time and measures each clip, so sentence timings are exact;
/// joins them with short pauses into one WAV asset at the loudness short-form platforms play (about -14 LUFS).
/// espeak-ng offline; OpenAI speech when configured; ElevenLabs through KIE.ai when FENTA_KIE_API_KEY is set. KIE's
/// speech is paid: the item is one <c>kai_generations</c> row (type audio) for all its sentences, its credits reserved
/// before the first task (<see cref="Expected"/>) and metered when the narration is stored, refunded when it fails.
/// </summary>
public sealed class VoiceTtsActivity(IEnumerable<ISpeechSynthesizer> synthesizers, AssetStore assets, KieGenerations generations) : NodeActivity<VoiceTtsArgs>
{

    public override string NodeType => "Voice.TTS";

    /// <summary>KIE's speech is paid by the character: what the script's sentences will cost is reserved before the run speaks.</summary>
    protected override Spend Expected(ActivityContext context, VoiceTtsArgs args) =>
        args.Provider == KieSpeech.ProviderName && context.Inputs.TryGetValue("script", out var script)
            ? new Spend(0, KieSpeech.Model.SpeechCredits(LinesOf(script.Deserialize<Script>(FentaJson.Options)!).Sum(l => l.Text.Length)), 0)
            : Spend.None;

    private static List<(int Scene, string Text)> LinesOf(Script script) =>
        [.. script.Scenes.SelectMany(scene => Sentences.Split(scene.Narration).Select(text => (Scene: scene.Index, Text: text)))];

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
            return new ActivityResult.Failed("TTS_NOT_CONFIGURED", $"The '{args.Provider}' speech provider is not configured (set {(args.Provider == KieSpeech.ProviderName
                ? "FENTA_KIE_API_KEY" : "FENTA_TTS_BASE_URL")}).", Permanent: true);

        var voice = new SpeechVoice(args.Voice, args.Lang ?? script.Lang, args.Speed);
        var lines = LinesOf(script);
        var paid = provider.Name == KieSpeech.ProviderName && lines.Count > 0;
        var credits = paid ? KieSpeech.Model.SpeechCredits(lines.Sum(l => l.Text.Length)) : 0;
        if (paid)
        {
            JsonObject input;
            try
            {
                input = KieSpeech.InputOf(voice); // an unknown voice fails here, before anything is asked or recorded
            }
            catch (ProviderException e)
            {
                return ActivityResult.Of(e);
            }
            var request = new GenerationRequest(new KieArgs(KieSpeech.Model.Id, null, "kie"), "audio", KieSpeech.Model,
                string.Join(" ", lines.Select(l => l.Text)), new GenerationSettings("9:16", null, null, 1), input);
            await generations.StartAsync(GenerationRequest.CallOf(context), context.OrgId, request, "kie", null,
                Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), ct, credits);
        }
        var said = new PcmAudio[lines.Count];
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, lines.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, provider.Concurrency), CancellationToken = ct },
                async (i, token) => said[i] = await provider.SpeakAsync(lines[i].Text, voice, token));
        }
        catch (ProviderException e) when (paid)
        {
            // The sentences KIE spoke before one failed are not metered: the item's generation failed, and its reservation is refunded.
            return await generations.FailAsync(GenerationRequest.CallOf(context), e.Code, e.Message, e.Permanent, ct);
        }
        catch (OperationCanceledException) when (paid)
        {
            // Stopped by the node's timeout or the job's end: nothing is metered, and the reservation is refunded.
            await generations.FailAsync(GenerationRequest.CallOf(context), "TTS_STOPPED", "The narration was stopped (a timeout or the job's end) before it finished.",
                false, CancellationToken.None);
            throw;
        }
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
            if (paid)
                await generations.CompleteAsync(GenerationRequest.CallOf(context),
                    [new MediaItem(asset.Id, asset.Type, (double?)asset.DurationSeconds, asset.Width, asset.Height, ["generated", "elevenlabs"])], credits, ct);
            return ActivityResult.Done(new Narration(asset.Id, Math.Round(narration.DurationSeconds, 3), sentences, args.Voice, voice.Lang, provider.Name));
        }
        finally
        {
            File.Delete(spoken);
            File.Delete(normalized);
        }
    }
}
