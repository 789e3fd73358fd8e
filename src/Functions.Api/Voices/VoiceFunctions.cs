using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Media;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;

namespace FentaWeb.Api.Voices;

public sealed record VoiceProviderDto(string Provider, bool Configured, IReadOnlyList<string> Voices, string Notes);

/// <summary>What Voice.TTS can speak with, so clients can offer a voice picker.</summary>
[Tags("Workflows")]
public sealed class VoiceFunctions(IConfiguration config)
{
    private static readonly string[] OpenAiVoices = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

    [Function(nameof(ListVoices)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Voices of each speech provider: espeak-ng languages (offline) and OpenAI voices (when configured).")]
    public async Task<Ok<IReadOnlyList<VoiceProviderDto>>> ListVoices(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/voices")] HttpRequest request) =>
        TypedResults.Ok<IReadOnlyList<VoiceProviderDto>>(
        [
            new("espeak", true, (await EspeakVoices.ListAsync()).Order().ToList(),
                "Offline. A voice is a language code (en-us, de, pt-br); other names fall back to the script's language."),
            new("openai", config["FENTA_TTS_BASE_URL"] is { Length: > 0 }, OpenAiVoices,
                "Used by provider 'auto' when FENTA_TTS_BASE_URL is set; names like 'alloy_en' mean 'alloy'."),
        ]);
}
