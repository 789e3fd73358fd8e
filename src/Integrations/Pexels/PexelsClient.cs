using System.Globalization;
using System.Net;
using System.Text.Json.Serialization;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Integrations.Pexels;

public sealed record PexelsOptions(Uri BaseUrl, string ApiKey, TimeSpan Timeout)
{
    /// <summary>The settings FENTA_PEXELS_API_KEY and FENTA_PEXELS_BASE_URL give, or null without a key (the local library is used then).</summary>
    public static PexelsOptions? FromSettings(Func<string, string?> setting) => setting("FENTA_PEXELS_API_KEY") is { Length: > 0 } apiKey
        ? new PexelsOptions(new Uri(setting("FENTA_PEXELS_BASE_URL") is { Length: > 0 } baseUrl ? baseUrl : "https://api.pexels.com/"), apiKey, TimeSpan.FromSeconds(30))
        : null;
}

public sealed record PexelsVideoFile(long Id, string? Quality, [property: JsonPropertyName("file_type")] string? FileType, int? Width, int? Height,
    double? Fps, string Link);

public sealed record PexelsUser(string? Name, string? Url);

public sealed record PexelsVideo(long Id, int Width, int Height, string Url, string? Image, double Duration, PexelsUser? User,
    [property: JsonPropertyName("video_files")] IReadOnlyList<PexelsVideoFile> VideoFiles);

public sealed record PexelsPage(int Page, [property: JsonPropertyName("per_page")] int PerPage, [property: JsonPropertyName("total_results")] int TotalResults,
    IReadOnlyList<PexelsVideo> Videos);

/// <summary>
/// Pexels video search as documented: <c>GET /videos/search</c> with the key in <c>Authorization</c> (no "Bearer"),
/// <c>orientation</c>, <c>size</c>, <c>per_page</c>; rate limits reported in <c>X-Ratelimit-*</c> and a 429. Retries,
/// timeouts and the circuit breaker are the HttpClient's pipeline (<see cref="PexelsRegistration.AddPexelsClient"/>).
/// </summary>
public sealed class PexelsClient(HttpClient http, PexelsOptions options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<PexelsPage> SearchAsync(string query, string orientation, int perPage, CancellationToken ct)
    {
        var url = new Uri(options.BaseUrl,
            $"videos/search?query={Uri.EscapeDataString(query)}&orientation={orientation}&size=medium&per_page={perPage}&page=1");
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Authorization", options.ApiKey);
        using var response = await SendAsync(request, ct);
        return JsonSerializer.Deserialize<PexelsPage>(await response.Content.ReadAsStringAsync(ct), Json)
               ?? throw new ProviderException("PEXELS_BAD_RESPONSE", "Pexels answered with an empty body.");
    }

    /// <summary>One video by id (<c>GET /videos/videos/:id</c>), as stock search listed it.</summary>
    public async Task<PexelsVideo> GetVideoAsync(long id, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.BaseUrl, $"videos/videos/{id}"));
        request.Headers.TryAddWithoutValidation("Authorization", options.ApiKey);
        using var response = await SendAsync(request, ct);
        return JsonSerializer.Deserialize<PexelsVideo>(await response.Content.ReadAsStringAsync(ct), Json)
               ?? throw new ProviderException("PEXELS_BAD_RESPONSE", "Pexels answered with an empty body.");
    }

    /// <summary>Downloads a video file (Pexels file links need no key) to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string link, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, link);
        using var response = await SendAsync(request, ct);
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file, ct);
    }

    /// <summary>The file that best fits the target: an MP4 at least as tall (or wide) as needed, the smallest such; else the largest.</summary>
    public static PexelsVideoFile? BestFile(PexelsVideo video, int targetWidth, int targetHeight)
    {
        var mp4 = video.VideoFiles.Where(f => f.FileType == "video/mp4" && f.Width is > 0 && f.Height is > 0).ToList();
        return mp4.Where(f => f.Width >= targetWidth || f.Height >= targetHeight).MinBy(f => f.Width * f.Height)
               ?? mp4.MaxBy(f => f.Width * f.Height);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await http.SendToProviderAsync(request, HttpCompletionOption.ResponseHeadersRead, "PEXELS", "Pexels", options.Timeout, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response)
        {
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                    new ProviderException("PEXELS_UNAUTHORIZED", "Pexels refused the API key (FENTA_PEXELS_API_KEY).", permanent: true),
                HttpStatusCode.NotFound => new ProviderException("PEXELS_NOT_FOUND", $"Pexels has no such video ({request.RequestUri?.AbsolutePath}).", permanent: true),
                HttpStatusCode.TooManyRequests => new ProviderException("PEXELS_RATE_LIMITED", "Pexels rate limit reached (200 requests/hour).",
                    retryAfter: ResetOf(response)),
                >= HttpStatusCode.InternalServerError => new ProviderException("PEXELS_UNAVAILABLE", $"Pexels failed ({(int)response.StatusCode})."),
                _ => new ProviderException("PEXELS_REJECTED", $"Pexels rejected the request ({(int)response.StatusCode}).", permanent: true),
            };
        }
    }

    /// <summary>When the quota resets: Retry-After if given, else X-Ratelimit-Reset (a UNIX time), else a minute.</summary>
    private static TimeSpan ResetOf(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not null) return ProviderException.RetryAfterOf(response, TimeSpan.FromMinutes(1));
        if (response.Headers.TryGetValues("X-Ratelimit-Reset", out var values)
            && long.TryParse(values.First(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var reset))
        {
            var wait = DateTimeOffset.FromUnixTimeSeconds(reset) - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.FromSeconds(1);
        }
        return TimeSpan.FromMinutes(1);
    }
}

public static class PexelsRegistration
{
    /// <summary>The Pexels client and its settings; every call is a read, so any transient failure is retried.</summary>
    public static IServiceCollection AddPexelsClient(this IServiceCollection services, PexelsOptions options)
    {
        services.AddSingleton(options);
        services.AddHttpClient<PexelsClient>().AddProviderResilience(options.Timeout, postsCreateNothing: false);
        return services;
    }
}
