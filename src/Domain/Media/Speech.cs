using System.Collections.Concurrent;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Media;

/// <param name="Voice">A provider voice name (e.g. "alloy", "en-us"); unknown names fall back to the language's voice.</param>
/// <param name="Speed">Rate multiplier, 1 = normal.</param>
public sealed record SpeechVoice(string Voice, string Lang, double Speed);

/// <summary>Turns one sentence into 16-bit PCM audio.</summary>
public interface ISpeechSynthesizer
{
    string Name { get; }

    /// <summary>How many sentences may be spoken at once: one for a remote service (its rate limit and circuit breaker count calls in order).</summary>
    int Concurrency => 1;

    Task<PcmAudio> SpeakAsync(string text, SpeechVoice voice, CancellationToken ct);
}

/// <summary>The offline default: espeak-ng (Debian), run once per sentence.</summary>
public sealed class EspeakSynthesizer : ISpeechSynthesizer
{
    private const int NormalWordsPerMinute = 175;
    private static readonly ConcurrentDictionary<string, string> Resolved = new();

    public string Name => "espeak";

    // A process per sentence, each mostly its own start-up: spoken side by side they keep both cores busy instead of one.
    public int Concurrency => Environment.ProcessorCount;

    public async Task<PcmAudio> SpeakAsync(string text, SpeechVoice voice, CancellationToken ct)
    {
        var espeakVoice = await ResolveAsync(voice);
        var path = Path.Combine(Path.GetTempPath(), $"fenta-espeak-{Guid.NewGuid():N}.wav");
        try
        {
            var wpm = (int)Math.Round(NormalWordsPerMinute * Math.Clamp(voice.Speed, 0.5, 2.0));
            var result = await ProcessRunner.RunAsync("espeak-ng", ["-v", espeakVoice, "-s", wpm.ToString(), "-w", path, "--", text], ct);
            if (result.ExitCode != 0) throw new ProviderException("TTS_FAILED", $"espeak-ng failed: {result.ErrorTail(3)}");
            return await Wav.ReadAsync(path, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The voice itself when espeak knows it, else the language (en → en-us); neither known is a permanent error.</summary>
    public static async Task<string> ResolveAsync(SpeechVoice voice)
    {
        var languages = await EspeakVoices.ListAsync();
        return Resolved.GetOrAdd($"{voice.Voice}|{voice.Lang}", _ =>
        {
            var lang = voice.Lang.ToLowerInvariant();
            if (languages.Contains(voice.Voice.ToLowerInvariant())) return voice.Voice.ToLowerInvariant();
            if (lang == "en") return "en-us";
            if (languages.Contains(lang)) return lang;
            if (languages.Contains(lang.Split('-')[0])) return lang.Split('-')[0];
            throw new ProviderException("TTS_VOICE_UNKNOWN", $"espeak-ng has no voice for '{voice.Voice}' or language '{voice.Lang}'.", permanent: true);
        });
    }
}
