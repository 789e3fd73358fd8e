using System.Collections.Concurrent;
using System.Security.Cryptography;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Runs.Kie;
using Microsoft.Net.Http.Headers;

namespace FentaWeb.Api.Voices;

/// <summary>A voice saying <see cref="VoiceSamples.Sentence"/>: a WAV file and its entity tag (the hash of its bytes, the same on every instance).</summary>
public sealed record VoiceSample(byte[] Wav, EntityTagHeaderValue ETag);

/// <summary>
/// A short clip of each voice, made with the same synthesizers Voice.TTS speaks with, once per process and kept: a voice
/// picker plays them again and again, and each costs an espeak-ng run or a paid OpenAI or KIE call (a KIE sample's few
/// credits are the account's, metered to no org: one per voice and process). Only listed voices are made,
/// so the cache holds at most one clip per voice of <c>GET /v1/voices</c>.
/// </summary>
public sealed class VoiceSamples(IEnumerable<ISpeechSynthesizer> synthesizers)
{
    public const string Sentence = "Hello, this is how I sound.";

    private readonly ConcurrentDictionary<(string Provider, string Voice), Lazy<Task<VoiceSample>>> _made = new();

    public async Task<VoiceSample> GetAsync(string provider, string voice, CancellationToken ct)
    {
        voice = voice.ToLowerInvariant();
        var synthesizer = await SynthesizerForAsync(provider, voice);
        var key = (synthesizer.Name, voice);
        // Made once whoever asks first; not with that request's token, as others may be waiting for the same clip.
        var made = _made.GetOrAdd(key, _ => new Lazy<Task<VoiceSample>>(() => MakeAsync(synthesizer, voice)));
        try
        {
            return await made.Value.WaitAsync(ct);
        }
        catch when (!ct.IsCancellationRequested)
        {
            _made.TryRemove(KeyValuePair.Create(key, made)); // a failure is not kept: the next request tries again
            throw;
        }
    }

    private async Task<ISpeechSynthesizer> SynthesizerForAsync(string provider, string voice)
    {
        var known = provider switch
        {
            "espeak" => (await EspeakVoices.ListAsync()).Contains(voice),
            "openai" => OpenAiSpeech.Voices.Contains(voice),
            KieSpeech.ProviderName => KieSpeech.VoiceOf(voice) is not null,
            _ => throw new BadHttpRequestException($"There is no speech provider '{provider}'; GET /v1/voices lists espeak, openai and elevenlabs with their voices.", 404),
        };
        if (!known) throw new BadHttpRequestException($"The {provider} provider has no voice '{voice}'; GET /v1/voices lists its voices.", 404);
        // A paid provider is asked only when it is configured for the runs too.
        return synthesizers.SingleOrDefault(s => s.Name == provider)
            ?? throw new ConflictException("TTS_NOT_CONFIGURED", $"The {provider} speech provider is not configured here ({(provider == KieSpeech.ProviderName
                ? "FENTA_KIE_API_KEY" : "FENTA_TTS_BASE_URL")}), so its voices have no samples; espeak's do.");
    }

    private static async Task<VoiceSample> MakeAsync(ISpeechSynthesizer synthesizer, string voice)
    {
        var wav = Wav.Encode(await synthesizer.SpeakAsync(Sentence, new SpeechVoice(voice, "en", Speed: 1.0), CancellationToken.None));
        return new VoiceSample(wav, new EntityTagHeaderValue($"\"{Convert.ToHexStringLower(SHA256.HashData(wav))[..32]}\""));
    }
}
