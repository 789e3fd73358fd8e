using System.Net.Http.Headers;
using System.Text.Json;
using System.Text;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using Microsoft.Extensions.Configuration;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>OpenAI text to speech (<c>POST /audio/speech</c>), asked for WAV so each sentence can be measured exactly.</summary>
public sealed class OpenAiSpeech(HttpClient http, OpenAiEndpoint options) : ISpeechSynthesizer
{
    public static readonly IReadOnlyList<string> Voices = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"];

    public string Name => "openai";

    /// <summary>FENTA_TTS_BASE_URL and the rest of its FENTA_TTS_* settings; null when OpenAI speech is not configured.</summary>
    public static OpenAiEndpoint? EndpointFrom(IConfiguration config) => OpenAiEndpoint.FromConfiguration(config, "TTS", "tts-1", TimeSpan.FromSeconds(60));

    public async Task<PcmAudio> SpeakAsync(string text, SpeechVoice voice, CancellationToken ct)
    {
        // Seed workflows name voices like "alloy_en": the OpenAI voice is the part before the language.
        var name = voice.Voice.Split('_')[0].ToLowerInvariant();
        var body = new
        {
            model = options.Model,
            input = text.Length > 4096 ? text[..4096] : text,
            voice = Voices.Contains(name) ? name : "alloy",
            response_format = "wav",
            speed = Math.Clamp(voice.Speed, 0.25, 4.0),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.BaseUrl, "audio/speech"))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        using var response = await OpenAiHttp.SendAsync(http, request, options.Timeout, "TTS", ct);
        var path = Path.Combine(Path.GetTempPath(), $"fenta-tts-{Guid.NewGuid():N}.wav");
        try
        {
            await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync(ct), ct);
            return await Wav.ReadAsync(path, ct);
        }
        catch (MediaException e)
        {
            throw new ProviderException("TTS_BAD_OUTPUT", $"The speech service did not return WAV audio: {e.Message}");
        }
        finally
        {
            File.Delete(path);
        }
    }
}
