using System.Net.Http.Headers;
using System.Text.Json;
using System.Text;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scripts;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>The tokens a completion took, as the API's <c>usage</c> reports them (zero when a gateway leaves it out).</summary>
public sealed record TokenUsage(int Prompt, int Output, string Model);

/// <summary>
/// Writes scripts with an OpenAI-compatible chat completions API in JSON mode, following its documented contract:
/// bearer auth, <c>{ error: { code, message } }</c> errors (sometimes inside an HTTP 200), Retry-After on 429.
/// </summary>
public sealed class ChatScriptWriter(HttpClient http, OpenAiEndpoint options) : IScriptWriter
{
    public async Task<Script> WriteAsync(ScriptRequest request, CancellationToken ct) => (await WriteMeteredAsync(request, ct)).Script;

    /// <summary>The script and the tokens it took, for metering.</summary>
    public async Task<(Script Script, TokenUsage Tokens)> WriteMeteredAsync(ScriptRequest request, CancellationToken ct)
    {
        var body = new
        {
            model = options.Model,
            temperature = 0.7,
            response_format = new { type = "json_object" },
            messages = new object[]
            {
                new { role = "system", content = ScriptPrompts.System },
                new { role = "user", content = ScriptPrompts.Write(request) },
            },
        };
        var (content, tokens) = await CompleteAsync(body, ct);
        return (Parse(content, request, options.Model), tokens);
    }

    /// <summary>Rewrites a script as instructed (translate, compress, adapt), answering in the same JSON shape.</summary>
    public async Task<(Script Script, TokenUsage Tokens)> TransformAsync(Script script, string instruction, string lang, CancellationToken ct)
    {
        var body = new
        {
            model = options.Model,
            temperature = 0.4,
            response_format = new { type = "json_object" },
            messages = new object[]
            {
                new { role = "system", content = ScriptPrompts.System },
                new { role = "user", content = ScriptPrompts.Rewrite(instruction, script) },
            },
        };
        var request = new ScriptRequest(script.Title, script.Genre, lang, (int)(script.WordCount / ScriptRequest.WordsPerSecond), script.Scenes.Count);
        var (content, tokens) = await CompleteAsync(body, ct);
        return (Parse(content, request, options.Model), tokens);
    }

    /// <summary>Sends a chat completion and returns the assistant message's content and token usage, or throws a <see cref="ProviderException"/>.</summary>
    public async Task<(string Content, TokenUsage Tokens)> CompleteAsync(object body, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, new Uri(options.BaseUrl, "chat/completions"))
        {
            Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json"),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.ApiKey);
        using var response = await OpenAiHttp.SendAsync(http, message, options.Timeout, "LLM", ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (OpenAiHttp.ErrorOf(text) is { } error) throw new ProviderException("LLM_ERROR", $"The LLM answered with an error: {error}");
        try
        {
            using var doc = JsonDocument.Parse(text);
            var content = doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()
                          ?? throw new ProviderException("LLM_BAD_OUTPUT", "The LLM answered with empty content.");
            int Count(string name) => doc.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
                                      && usage.TryGetProperty(name, out var n) && n.TryGetInt32(out var count) ? count : 0;
            var model = doc.RootElement.TryGetProperty("model", out var m) && m.GetString() is { Length: > 0 } reported ? reported : options.Model;
            return (content, new TokenUsage(Count("prompt_tokens"), Count("completion_tokens"), model));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or IndexOutOfRangeException or InvalidOperationException)
        {
            throw new ProviderException("LLM_BAD_OUTPUT", $"The LLM's answer is not a chat completion: {e.Message}");
        }
    }

    /// <summary>The model's JSON as a script; a malformed one is retried (the next sample may be fine).</summary>
    public static Script Parse(string content, ScriptRequest request, string model)
    {
        try
        {
            using var doc = JsonDocument.Parse(content);
            var root = doc.RootElement;
            var scenes = root.GetProperty("scenes").EnumerateArray().Select((s, i) => new Scene(
                i,
                s.GetProperty("narration").GetString()!.Trim(),
                s.TryGetProperty("search_terms", out var terms) ? terms.EnumerateArray().Select(t => t.GetString()!).Where(t => t.Length > 0).ToList() : [],
                s.TryGetProperty("visual_prompt", out var prompt) ? prompt.GetString() ?? "" : "")).Where(s => s.Narration.Length > 0).ToList();
            if (scenes.Count == 0) throw new ProviderException("LLM_BAD_OUTPUT", "The LLM's script has no scenes.");
            var hashtags = root.TryGetProperty("hashtags", out var tags) ? tags.EnumerateArray().Select(t => t.GetString()!).ToList() : [];
            return new Script(
                root.GetProperty("title").GetString()!, root.TryGetProperty("hook", out var hook) ? hook.GetString()! : scenes[0].Narration,
                scenes, hashtags.Select(t => t.StartsWith('#') ? t : "#" + t).ToList(), request.Lang, request.Genre, $"llm:{model}");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or NullReferenceException)
        {
            throw new ProviderException("LLM_BAD_OUTPUT", $"The LLM's script is not the JSON asked for: {e.Message}");
        }
    }
}
