using Microsoft.Extensions.Configuration;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>One OpenAI-compatible service (chat, speech or transcriptions): where it is, its key, model and timeout.</summary>
public sealed record OpenAiEndpoint(Uri BaseUrl, string ApiKey, string Model, TimeSpan Timeout)
{
    /// <summary>
    /// Reads <c>FENTA_{service}_BASE_URL</c>, <c>_API_KEY</c>, <c>_MODEL</c> and <c>_TIMEOUT_SECONDS</c>; null when the
    /// base URL is unset (the offline default is used then).
    /// </summary>
    public static OpenAiEndpoint? FromConfiguration(IConfiguration config, string service, string defaultModel, TimeSpan defaultTimeout)
    {
        var prefix = $"FENTA_{service}_";
        if (config[prefix + "BASE_URL"] is not { Length: > 0 } baseUrl) return null;
        // A trailing slash makes relative paths ("chat/completions") land under the base, e.g. https://api.openai.com/v1/.
        if (!Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var uri))
            throw new InvalidOperationException($"{prefix}BASE_URL must be an absolute URL such as https://api.openai.com/v1, not '{baseUrl}'.");
        return new OpenAiEndpoint(uri, config[prefix + "API_KEY"] ?? "", config[prefix + "MODEL"] is { Length: > 0 } model ? model : defaultModel,
            double.TryParse(config[prefix + "TIMEOUT_SECONDS"], out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : defaultTimeout);
    }
}
