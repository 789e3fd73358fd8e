using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Models;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Runs.Kie;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace FentaWeb.Api.Voices;

public sealed record VoiceProviderDto(string Provider, bool Configured, IReadOnlyList<string> Voices, string Notes);

/// <summary>What Voice.TTS can speak with, so clients can offer a voice picker, and how each voice sounds.</summary>
[Tags("Workflows")]
public sealed class VoiceFunctions(FentaOptions options, VoiceSamples samples)
{
    /// <summary>A sample never changes for a voice: browsers keep it a day, then revalidate it by its ETag.</summary>
    private const string SampleCaching = "private, max-age=86400";

    [Function(nameof(ListVoices)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Voices of each speech provider: espeak-ng languages (offline), OpenAI voices and ElevenLabs voices through KIE.ai (when configured).")]
    public async Task<Ok<IReadOnlyList<VoiceProviderDto>>> ListVoices(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/voices")] HttpRequest request) =>
        TypedResults.Ok<IReadOnlyList<VoiceProviderDto>>(
        [
            new("espeak", true, (await EspeakVoices.ListAsync()).Order().ToList(),
                "Offline. A voice is a language code (en-us, de, pt-br); other names fall back to the script's language."),
            new("openai", options.Speech is not null, OpenAiSpeech.Voices,
                "Used by provider 'auto' when FENTA_TTS_BASE_URL is set; names like 'alloy_en' mean 'alloy'."),
            new(KieSpeech.ProviderName, options.Providers.Kie, ModelRegistry.ElevenLabsVoices,
                options.Providers.Kie
                    ? $"ElevenLabs Multilingual v2 through KIE.ai, only as provider 'elevenlabs' (never 'auto'): {KieSpeech.Model.BaseCredits} KIE credits per {ModelRegistry.SpeechPriceCharacters:N0} characters of the script. Any case of a name will do."
                    : "Needs FENTA_KIE_API_KEY: ElevenLabs Multilingual v2 is spoken through KIE.ai."),
        ]);

    [Function(nameof(GetVoiceSample)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     ProducesResponseType<Stream>(StatusCodes.Status200OK, "audio/wav"),
     EndpointSummary("A short WAV of a voice of GET /v1/voices saying \"Hello, this is how I sound.\", for a voice picker. Made once and cached (ETag); an OpenAI or ElevenLabs voice only when its provider is configured (409 otherwise).")]
    public async Task<FileContentHttpResult> GetVoiceSample(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/voices/{provider}/{voice}/sample")] HttpRequest request, string provider, string voice,
        CancellationToken ct)
    {
        var sample = await samples.GetAsync(provider, voice, ct);
        request.HttpContext.Response.Headers.CacheControl = SampleCaching;
        return TypedResults.File(sample.Wav, "audio/wav", entityTag: sample.ETag);
    }
}
