using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Models;
using FentaWeb.Integrations.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;

namespace FentaWeb.Integrations.Kie;

/// <param name="PollInterval">The first wait between status queries; it grows with the generation's age.</param>
/// <param name="Deadline">How long a generation may take before it fails; null: ten times the model's estimate, at least 10 min.</param>
/// <param name="PublicUrl">Where KIE reaches the API for callbacks (FENTA_PUBLIC_URL); null: no callbacks, generations are polled.</param>
public sealed record KieOptions(Uri BaseUrl, string ApiKey, TimeSpan Timeout, TimeSpan PollInterval, TimeSpan? Deadline = null, Uri? PublicUrl = null)
{
    /// <summary>
    /// The settings FENTA_KIE_API_KEY, FENTA_KIE_BASE_URL, FENTA_KIE_POLL_SECONDS, FENTA_KIE_DEADLINE_SECONDS and
    /// FENTA_PUBLIC_URL give, or null without a key (generations are drawn locally then).
    /// </summary>
    public static KieOptions? FromSettings(Func<string, string?> setting) => setting("FENTA_KIE_API_KEY") is { Length: > 0 } apiKey
        ? new KieOptions(new Uri(setting("FENTA_KIE_BASE_URL") is { Length: > 0 } baseUrl ? baseUrl : "https://api.kie.ai/"), apiKey,
            TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(Seconds(setting("FENTA_KIE_POLL_SECONDS")) ?? 5),
            Seconds(setting("FENTA_KIE_DEADLINE_SECONDS")) is { } deadline ? TimeSpan.FromSeconds(deadline) : null,
            Domain.Common.PublicUrl.FromSettings(setting))
        : null;

    private static readonly TimeSpan MaxPoll = TimeSpan.FromSeconds(30);

    /// <summary>When to ask about a task of this <paramref name="age"/> again: from the poll interval, slowing to a quarter of its age, at most 30 s.</summary>
    public TimeSpan NextPoll(TimeSpan age) =>
        TimeSpan.FromTicks(Math.Clamp(age.Ticks / 4, PollInterval.Ticks, Math.Max(PollInterval.Ticks, MaxPoll.Ticks)));

    private static double? Seconds(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : null;
}

public enum KieState { Pending, Succeeded, Failed }

public sealed record KieStatus(KieState State, IReadOnlyList<string> ResultUrls, string? FailCode = null, string? FailMessage = null);

/// <summary>
/// KIE.ai over its documented contract: Bearer auth, the <c>{code, msg, data}</c> envelope (checked as well as the
/// HTTP status), the generic market API and the model-specific families, each with its own create and status
/// endpoints. Retries, timeouts and the circuit breakers (one an API family, so one failing family does not pause
/// the others) are the HttpClient's pipeline (<see cref="KieRegistration.AddKieClient"/>). Everything else becomes a
/// <see cref="ProviderException"/> the engine turns into an outcome: 401/505 and 402 and 422 are permanent, 429,
/// 433 and 455 wait (honouring Retry-After), 500 retries, 501 is a failed generation.
/// </summary>
public sealed class KieClient(HttpClient http, KieOptions options)
{
    /// <summary>Which API family a request belongs to: the pipeline keeps a circuit breaker for each.</summary>
    internal static readonly HttpRequestOptionsKey<KieApi> Family = new("fenta.kie.api");

    /// <summary>Creates the task; returns KIE's taskId. <paramref name="callbackUrl"/> is where KIE reports completion.</summary>
    public async Task<string> SubmitAsync(ModelDefinition model, string prompt, JsonObject input, string? callbackUrl, CancellationToken ct)
    {
        var body = new JsonObject();
        switch (model.Api)
        {
            case KieApi.Market:
                var marketInput = (JsonObject)input.DeepClone();
                marketInput[model.PromptParam] = prompt;
                body["model"] = model.KieModel;
                body["input"] = marketInput;
                break;
            case KieApi.Suno:
                // Custom mode takes a style and a title (the title made from the prompt when only a style is given); without
                // it Suno reads the prompt alone (at most 500 characters) and style and title must be left out.
                var custom = input["style"] is not null;
                body["prompt"] = prompt;
                body["customMode"] = custom;
                body["model"] = model.KieModel;
                Copy(input, body);
                body["instrumental"] = input["instrumental"]?.DeepClone() ?? true;
                if (custom) body["title"] ??= prompt.Length <= 80 ? prompt : prompt[..80];
                else body.Remove("title");
                // Suno requires a callback URL; without a public address the task is polled and the callback goes nowhere
                // (.invalid never resolves, RFC 2606).
                callbackUrl ??= "https://callback.invalid/fenta/polled";
                break;
            case KieApi.Midjourney:
                // The version is a param of its own (the registry's KieModel is the default); images make it image-to-image.
                body["taskType"] = input["fileUrls"] is JsonArray { Count: > 0 } ? "mj_img2img" : "mj_txt2img";
                body["prompt"] = prompt;
                Copy(input, body);
                if (body["fileUrls"] is JsonArray { Count: 0 }) body.Remove("fileUrls");
                body["version"] ??= model.KieModel;
                break;
            default:
                body["prompt"] = prompt;
                if (model.Api is KieApi.Veo or KieApi.FluxKontext) body["model"] = model.KieModel;
                if (model.Api is KieApi.Runway or KieApi.Aleph) body["waterMark"] = "";
                Copy(input, body);
                // These families take numbers where the schema offers choices.
                foreach (var numeric in new[] { "duration", "nVariants" })
                    if (body[numeric] is JsonValue v && v.TryGetValue<string>(out var text) && int.TryParse(text, out var n)) body[numeric] = n;
                break;
        }
        if (callbackUrl is not null) body["callBackUrl"] = callbackUrl;

        var data = await SendAsync(model.Api, HttpMethod.Post, CreatePath(model.Api), body, ct);
        return Text(data, "taskId") ?? Text(data, "task_id")
            ?? throw new ProviderException("KIE_BAD_RESPONSE", "KIE accepted the task but returned no taskId.");
    }

    /// <summary>Where the task is; on success, the result file URLs (they expire, so download them at once).</summary>
    public async Task<KieStatus> StatusAsync(ModelDefinition model, string taskId, CancellationToken ct)
    {
        var data = await SendAsync(model.Api, HttpMethod.Get, $"{StatusPath(model.Api)}?taskId={Uri.EscapeDataString(taskId)}", null, ct);
        var response = data.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
        switch (model.Api)
        {
            case KieApi.Market:
                return Text(data, "state") switch
                {
                    "success" => new(KieState.Succeeded, UrlsOfResultJson(Text(data, "resultJson"))),
                    "fail" => new(KieState.Failed, [], Text(data, "failCode"), Text(data, "failMsg")),
                    _ => new(KieState.Pending, []),
                };
            case KieApi.Runway:
                return Text(data, "state") switch
                {
                    "success" => new(KieState.Succeeded, data.TryGetProperty("videoInfo", out var info) && Text(info, "videoUrl") is { } url ? [url] : []),
                    "fail" => new(KieState.Failed, [], Text(data, "failCode"), Text(data, "failMsg")),
                    _ => new(KieState.Pending, []),
                };
            case KieApi.Suno:
                var status = Text(data, "status");
                // The first track is complete at FIRST_SUCCESS, both at SUCCESS; a node takes the first, so either will do.
                List<string> tracks = response.ValueKind == JsonValueKind.Object && response.TryGetProperty("sunoData", out var songs) && songs.ValueKind == JsonValueKind.Array
                    ? [.. songs.EnumerateArray().Select(s => Text(s, "audioUrl")).Where(u => !string.IsNullOrEmpty(u)).OfType<string>()] : [];
                if (status == "SUCCESS" || (status == "FIRST_SUCCESS" && tracks.Count > 0)) return new(KieState.Succeeded, tracks);
                return status is "CREATE_TASK_FAILED" or "GENERATE_AUDIO_FAILED" or "SENSITIVE_WORD_ERROR" or "CALLBACK_EXCEPTION"
                    ? new(KieState.Failed, [], status, Text(data, "errorMessage"))
                    : new(KieState.Pending, []);
            default:
                // Veo, Aleph, 4o Image, Flux Kontext and Midjourney: successFlag 0 generating, 1 success, 2/3 failed.
                var flag = data.TryGetProperty("successFlag", out var f) && f.ValueKind == JsonValueKind.Number ? f.GetInt32() : 0;
                if (flag == 0) return new(KieState.Pending, []);
                if (flag != 1) return new(KieState.Failed, [], data.TryGetProperty("errorCode", out var code) ? code.ToString() : null, Text(data, "errorMessage"));
                List<string> urls = [];
                if (response.ValueKind == JsonValueKind.Object)
                {
                    if (response.TryGetProperty("resultUrls", out var list) && list.ValueKind == JsonValueKind.Array)
                        urls.AddRange(list.EnumerateArray().Select(u => u.GetString()).OfType<string>());
                    if (Text(response, "resultImageUrl") is { } image) urls.Add(image);
                    if (Text(response, "resultVideoUrl") is { } video) urls.Add(video);
                }
                // Midjourney: a grid of four, as resultInfoJson.resultUrls[].resultUrl.
                if (data.TryGetProperty("resultInfoJson", out var mj) && mj.ValueKind == JsonValueKind.Object
                    && mj.TryGetProperty("resultUrls", out var grid) && grid.ValueKind == JsonValueKind.Array)
                    urls.AddRange(grid.EnumerateArray().Select(u => Text(u, "resultUrl")).OfType<string>());
                return new(KieState.Succeeded, urls);
        }
    }

    /// <summary>Streams a result file to <paramref name="path"/>.</summary>
    public async Task DownloadAsync(string url, string path, CancellationToken ct)
    {
        // Result files are on KIE's file hosts: no API key goes there.
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = await http.SendToProviderAsync(request, HttpCompletionOption.ResponseHeadersRead, "KIE", "KIE's file host", options.Timeout, ct);
        if (!response.IsSuccessStatusCode)
            throw new ProviderException("KIE_DOWNLOAD_FAILED", $"KIE's result file could not be downloaded ({(int)response.StatusCode}).",
                permanent: response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden or HttpStatusCode.Gone);
        await using var file = File.Create(path);
        await response.Content.CopyToAsync(file, ct);
    }

    private async Task<JsonElement> SendAsync(KieApi api, HttpMethod method, string path, JsonObject? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(options.BaseUrl, path.TrimStart('/')));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        request.Options.Set(Family, api);
        if (body is not null) request.Content = JsonContent.Create(body);
        var response = await http.SendToProviderAsync(request, HttpCompletionOption.ResponseContentRead, "KIE", "KIE", options.Timeout, ct);
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonElement envelope = default;
            try
            {
                envelope = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException) when (!response.IsSuccessStatusCode)
            {
            }
            catch (JsonException)
            {
                throw new ProviderException("KIE_BAD_RESPONSE", "KIE answered with something that is not JSON.");
            }
            // The body's code is authoritative when present (KIE often answers HTTP 200 with an error code inside).
            var code = envelope.ValueKind == JsonValueKind.Object && envelope.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.Number
                ? c.GetInt32() : (int)response.StatusCode;
            var message = (envelope.ValueKind == JsonValueKind.Object ? Text(envelope, "msg") ?? Text(envelope, "message") : null) ?? response.ReasonPhrase ?? "";
            if (code == 200 && response.IsSuccessStatusCode)
                return envelope.TryGetProperty("data", out var data) ? data : default;
            var retryAfter = ProviderException.RetryAfterOf(response, TimeSpan.FromSeconds(code == 455 ? 60 : 10));
            throw code switch
            {
                401 => new ProviderException("KIE_UNAUTHORIZED", $"KIE refused the API key (FENTA_KIE_API_KEY): {message}", permanent: true),
                505 => new ProviderException("KIE_FEATURE_DISABLED", $"This KIE feature is disabled for the account: {message}", permanent: true),
                402 => new ProviderException("KIE_INSUFFICIENT_CREDITS", $"The KIE account has too few credits for this generation; top it up at kie.ai. ({message})", permanent: true),
                404 => new ProviderException("KIE_NOT_FOUND", $"KIE does not know this task or endpoint: {message}", permanent: true),
                422 => new ProviderException("KIE_VALIDATION", $"KIE rejected the parameters: {message}", permanent: true),
                429 or 433 => new ProviderException("KIE_RATE_LIMITED", $"KIE is rate limiting: {message}", retryAfter: retryAfter),
                455 => new ProviderException("KIE_MAINTENANCE", $"KIE is under maintenance: {message}", retryAfter: retryAfter),
                501 => new ProviderException("KIE_GENERATION_FAILED", $"KIE could not generate this: {message}"),
                _ => new ProviderException("KIE_ERROR", $"KIE failed ({code}): {message}"),
            };
        }
    }

    private static string CreatePath(KieApi api) => api switch
    {
        KieApi.Market => "/api/v1/jobs/createTask",
        KieApi.Veo => "/api/v1/veo/generate",
        KieApi.Runway => "/api/v1/runway/generate",
        KieApi.Aleph => "/api/v1/aleph/generate",
        KieApi.Gpt4oImage => "/api/v1/gpt4o-image/generate",
        KieApi.FluxKontext => "/api/v1/flux/kontext/generate",
        KieApi.Midjourney => "/api/v1/mj/generate",
        _ => "/api/v1/generate",
    };

    private static string StatusPath(KieApi api) => api switch
    {
        KieApi.Market => "/api/v1/jobs/recordInfo",
        KieApi.Veo => "/api/v1/veo/record-info",
        KieApi.Runway => "/api/v1/runway/record-detail",
        KieApi.Aleph => "/api/v1/aleph/record-info",
        KieApi.Gpt4oImage => "/api/v1/gpt4o-image/record-info",
        KieApi.FluxKontext => "/api/v1/flux/kontext/record-info",
        KieApi.Midjourney => "/api/v1/mj/record-info",
        _ => "/api/v1/generate/record-info",
    };

    private static void Copy(JsonObject from, JsonObject to)
    {
        foreach (var (name, value) in from)
            if (value is not null) to[name] = value.DeepClone();
    }

    /// <summary>The market API's resultJson is a JSON document inside a string.</summary>
    private static List<string> UrlsOfResultJson(string? resultJson)
    {
        if (string.IsNullOrEmpty(resultJson)) return [];
        using var doc = JsonDocument.Parse(resultJson);
        return doc.RootElement.TryGetProperty("resultUrls", out var urls) && urls.ValueKind == JsonValueKind.Array
            ? [.. urls.EnumerateArray().Select(u => u.GetString()).OfType<string>()]
            : [];
    }

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

public static class KieRegistration
{
    /// <summary>KIE for the node activities: its options (what the generation steps read) and its client.</summary>
    public static IServiceCollection AddKie(this IServiceCollection services, KieOptions options)
    {
        services.AddSingleton(options);
        // The circuit breakers live in the client factory's pipeline, so every KieClient of the process shares them.
        services.AddKieClient(options);
        return services;
    }

    /// <summary>
    /// The KIE client with its pipeline: status reads and downloads are retried, a create only when it never reached
    /// KIE (one that did may have made a billed task), and each API family has a circuit breaker of its own.
    /// </summary>
    public static IHttpClientBuilder AddKieClient(this IServiceCollection services, KieOptions options)
    {
        var http = services.AddHttpClient(nameof(KieClient));
        http.AddProviderResilience(options.Timeout, postsCreateNothing: false)
            .SelectPipelineBy(_ => request => request.Options.TryGetValue(KieClient.Family, out var api) ? api.ToString() : "files");
        return http.AddTypedClient((client, _) => new KieClient(client, options));
    }
}
