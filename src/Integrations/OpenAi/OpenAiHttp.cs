using System.Net;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>
/// The error contract shared by OpenAI-compatible endpoints: <c>{ error: { code, message } }</c> bodies, 401/403 for
/// keys, 402 for credit, 429 with Retry-After, 5xx for outages — mapped once to typed provider outcomes.
/// </summary>
public static class OpenAiHttp
{
    /// <summary>
    /// A named client for one OpenAI-compatible service with its pipeline: the endpoint's timeout for each try, and a
    /// failed call retried (a completion, speech or a transcription creates nothing that a second call would duplicate).
    /// </summary>
    public static IHttpClientBuilder AddOpenAiClient(this IServiceCollection services, string name, OpenAiEndpoint endpoint)
    {
        var http = services.AddHttpClient(name);
        http.AddProviderResilience(endpoint.Timeout, postsCreateNothing: true);
        return http;
    }

    /// <summary>Sends the request; returns the successful response or throws a <see cref="ProviderException"/> coded with <paramref name="service"/>.</summary>
    /// <param name="timeout">The pipeline's timeout of one try, for the message.</param>
    public static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpRequestMessage request, TimeSpan timeout, string service, CancellationToken ct)
    {
        var response = await http.SendToProviderAsync(request, HttpCompletionOption.ResponseContentRead, service, $"The {service} service", timeout, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            var error = ErrorOf(await response.Content.ReadAsStringAsync(ct));
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                    new ProviderException($"{service}_UNAUTHORIZED", $"The {service} service refused the API key: {error}", permanent: true),
                HttpStatusCode.PaymentRequired => new ProviderException($"{service}_PAYMENT_REQUIRED", $"The {service} account is out of credit: {error}", permanent: true),
                HttpStatusCode.TooManyRequests => new ProviderException($"{service}_RATE_LIMITED", $"The {service} service is rate limiting: {error}",
                    retryAfter: ProviderException.RetryAfterOf(response, TimeSpan.FromSeconds(10))),
                HttpStatusCode.RequestTimeout => new ProviderException($"{service}_TIMEOUT", $"The {service} service timed out: {error}"),
                >= HttpStatusCode.InternalServerError => new ProviderException($"{service}_UNAVAILABLE", $"The {service} service failed ({(int)response.StatusCode}): {error}"),
                _ => new ProviderException($"{service}_REJECTED", $"The {service} service rejected the request ({(int)response.StatusCode}): {error}", permanent: true),
            };
        }
    }

    /// <summary>The message of an <c>{ error }</c> body (also found inside HTTP 200 replies by some gateways), else null.</summary>
    public static string? ErrorOf(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error)
                ? error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) ? m.GetString() : error.ToString()
                : null;
        }
        catch (JsonException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }
}
