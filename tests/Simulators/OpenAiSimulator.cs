using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// OpenAI-compatible chat completions (<c>POST /v1/chat/completions</c>): bearer auth, the
/// <c>{ id, choices[{ message { role, content }, finish_reason }], usage }</c> reply, <c>{ error }</c> errors.
/// </summary>
public sealed class OpenAiSimulator : Simulator
{
    public const string ValidKey = "sk-test-valid";

    /// <summary>The assistant content of normal replies (a script in the JSON the writer asks for).</summary>
    public string Content { get; set; } = """
        {"title": "Rivers of Light", "hook": "Cities glow at night.",
         "scenes": [{"narration": "Cities glow at night. Millions of lights trace the streets.", "search_terms": ["city night"], "visual_prompt": "night skyline"},
                    {"narration": "Each light is a story of someone still awake.", "search_terms": ["window light"], "visual_prompt": "lit windows"},
                    {"narration": "Tomorrow the city wakes again.", "search_terms": ["sunrise city"], "visual_prompt": "sunrise over towers"}],
         "hashtags": ["city", "#night"]}
        """;

    public Uri ApiBase => new(BaseAddress, "/v1/");

    protected override void Map(WebApplication app) => app.MapPost("/v1/chat/completions", NormalReplyAsync);

    protected override async Task NormalReplyAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {ValidKey}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = new { code = "invalid_api_key", message = "Incorrect API key provided." } });
            return;
        }
        await http.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-sim",
            @object = "chat.completion",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = Content }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 120, completion_tokens = 180, total_tokens = 300 },
        });
    }
}
