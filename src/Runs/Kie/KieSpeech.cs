using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Integrations.Kie;

namespace FentaWeb.Runs.Kie;

/// <summary>
/// ElevenLabs speech through KIE.ai's market API (Voice.TTS provider <c>elevenlabs</c>): each sentence is a task of its
/// own (createTask with the text and voice), polled on recordInfo until it is done, its MP3 downloaded at once (KIE's
/// links expire) and decoded to PCM by ffmpeg. The wait is bounded by the caller's token (the node's timeout). What the
/// sentences cost is the Voice.TTS item's business
/// (<see cref="Nodes.VoiceTtsActivity"/>: one generation row, reserved before and metered after).
/// </summary>
public sealed class KieSpeech(KieClient client, KieOptions options) : ISpeechSynthesizer
{
    public const string ProviderName = "elevenlabs";
    /// <summary>Every sentence is decoded to one format, so that the narration's clips join.</summary>
    private const int SampleRate = 44100;

    public static ModelDefinition Model => ModelRegistry.Find(ModelRegistry.ElevenLabsSpeech)!;

    public string Name => ProviderName;

    // Two sentences at a time: KIE rate-limits task creation per account, and a narration is a few dozen tasks.
    public int Concurrency => 2;

    /// <summary>KIE's spelling of a voice name given in any case, or null when KIE has no such voice.</summary>
    public static string? VoiceOf(string name) =>
        ModelRegistry.ElevenLabsVoices.FirstOrDefault(v => string.Equals(v, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>A voice KIE does not have refuses the narration before any task is made (KIE would refuse every sentence).</summary>
    public static string VoiceOrRefuse(string name) => VoiceOf(name)
        ?? throw new ProviderException("TTS_VOICE_UNKNOWN",
            $"ElevenLabs has no voice '{name}'; GET /v1/voices lists its voices ({string.Join(", ", ModelRegistry.ElevenLabsVoices)}).", permanent: true);

    /// <summary>The task's input besides the text: the voice, the model's default settings and the speed (in KIE's range).</summary>
    public static JsonObject InputOf(SpeechVoice voice)
    {
        var input = new JsonObject();
        foreach (var spec in Model.Params)
            if (spec.Default is { } d) input[spec.Name] = JsonNode.Parse(d.GetRawText());
        input["voice"] = VoiceOrRefuse(voice.Voice);
        input["speed"] = Math.Round(Math.Clamp(voice.Speed, 0.7, 1.2), 2);
        return input;
    }

    public async Task<PcmAudio> SpeakAsync(string text, SpeechVoice voice, CancellationToken ct)
    {
        var input = InputOf(voice);
        var taskId = await CreateAsync(text, input, ct);
        var url = await ResultAsync(taskId, ct);
        var mp3 = Path.Combine(Path.GetTempPath(), $"fenta-kie-speech-{Guid.NewGuid():N}.mp3");
        var wav = Path.ChangeExtension(mp3, ".wav");
        try
        {
            await client.DownloadAsync(url, mp3, ct);
            var decoded = await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-i", mp3, "-ac", "1", "-ar", SampleRate.ToString(), "-c:a", "pcm_s16le", wav], ct);
            if (decoded.ExitCode != 0) throw new ProviderException("TTS_BAD_OUTPUT", $"KIE's speech for task {taskId} could not be decoded: {decoded.ErrorTail(3)}");
            return await Wav.ReadAsync(wav, ct);
        }
        finally
        {
            File.Delete(mp3);
            File.Delete(wav);
        }
    }

    /// <summary>Creates the sentence's task; a rate limit or maintenance is waited out here, not by re-running the whole narration.</summary>
    private async Task<string> CreateAsync(string text, JsonObject input, CancellationToken ct)
    {
        while (true)
        {
            try
            {
                return await client.SubmitAsync(Model, text, input, null, ct);
            }
            catch (ProviderException e) when (e.RetryAfter is { } wait)
            {
                await Task.Delay(wait, ct);
            }
        }
    }

    /// <summary>Polls the task (from the configured interval, slowing down to a quarter of its age, at most 30 s) until it has a result.</summary>
    private async Task<string> ResultAsync(string taskId, CancellationToken ct)
    {
        var submitted = DateTime.UtcNow;
        var wait = options.PollInterval;
        while (true)
        {
            await Task.Delay(wait, ct);
            var age = DateTime.UtcNow - submitted;
            wait = options.NextPoll(age);
            KieStatus status;
            try
            {
                status = await client.StatusAsync(Model, taskId, ct);
            }
            catch (ProviderException e) when (!e.Permanent)
            {
                // A failed query says nothing about the task: it is asked again.
                if (e.RetryAfter is { } later) wait = later;
                continue;
            }
            switch (status.State)
            {
                case KieState.Failed:
                    // KIE refuses speech for its text (a policy or a setting); the same text would be refused again, and a
                    // retry of the node would pay again for every sentence already spoken.
                    throw new ProviderException("KIE_GENERATION_FAILED",
                        $"KIE could not speak a sentence (task {taskId}, {status.FailCode ?? "no code"}): {status.FailMessage ?? "no reason given"}", permanent: true);
                case KieState.Succeeded when status.ResultUrls.Count == 0:
                    throw new ProviderException("KIE_NO_RESULT", $"KIE reported speech task {taskId} done without an audio file.");
                case KieState.Succeeded:
                    return status.ResultUrls[0];
            }
        }
    }
}
