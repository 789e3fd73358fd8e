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

    /// <summary>Seconds of speech the simulated TTS returns per input character.</summary>
    public const double SecondsPerCharacter = 0.05;

    protected override void Map(WebApplication app)
    {
        app.MapPost("/v1/chat/completions", NormalReplyAsync);
        app.MapPost("/v1/audio/speech", SpeechAsync);
        app.MapPost("/v1/audio/transcriptions", TranscriptionAsync);
    }

    /// <summary>The verbose_json a transcription returns (words with their own times).</summary>
    public const string Transcript = """
        {"task": "transcribe", "language": "english", "duration": 2.4, "text": "Meet the lamp. It bends light.",
         "segments": [{"id": 0, "start": 0.0, "end": 1.1, "text": " Meet the lamp."}, {"id": 1, "start": 1.3, "end": 2.4, "text": " It bends light."}],
         "words": [{"word": "Meet", "start": 0.0, "end": 0.3}, {"word": "the", "start": 0.3, "end": 0.5}, {"word": "lamp.", "start": 0.5, "end": 1.1},
                   {"word": "It", "start": 1.3, "end": 1.5}, {"word": "bends", "start": 1.5, "end": 1.9}, {"word": "light.", "start": 1.9, "end": 2.4}]}
        """;

    /// <summary>Form fields of the last transcription request.</summary>
    public Dictionary<string, List<string>> LastTranscriptionForm { get; } = new();

    private async Task TranscriptionAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {ValidKey}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "Incorrect API key provided." } });
            return;
        }
        var form = await http.Request.ReadFormAsync();
        LastTranscriptionForm.Clear();
        foreach (var (key, values) in form) LastTranscriptionForm[key] = [.. values.Select(v => v ?? "")];
        if (form.Files.GetFile("file") is not { Length: > 0 })
        {
            http.Response.StatusCode = 400;
            await http.Response.WriteAsJsonAsync(new { error = new { message = "file is required" } });
            return;
        }
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(Transcript);
    }

    /// <summary><c>POST /v1/audio/speech</c>: a WAV (24 kHz mono, 16-bit) whose length follows the input text.</summary>
    private static async Task SpeechAsync(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {ValidKey}")
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = new { code = "invalid_api_key", message = "Incorrect API key provided." } });
            return;
        }
        var body = await JsonDocument.ParseAsync(http.Request.Body);
        var input = body.RootElement.GetProperty("input").GetString() ?? "";
        var samples = (int)(input.Length * SecondsPerCharacter * 24000);
        var wav = new byte[44 + samples * 2];
        void Put(int at, string text) => System.Text.Encoding.ASCII.GetBytes(text).CopyTo(wav, at);
        Put(0, "RIFF"); BitConverter.GetBytes(36 + samples * 2).CopyTo(wav, 4); Put(8, "WAVEfmt ");
        BitConverter.GetBytes(16).CopyTo(wav, 16); BitConverter.GetBytes((short)1).CopyTo(wav, 20); BitConverter.GetBytes((short)1).CopyTo(wav, 22);
        BitConverter.GetBytes(24000).CopyTo(wav, 24); BitConverter.GetBytes(48000).CopyTo(wav, 28); BitConverter.GetBytes((short)2).CopyTo(wav, 32);
        BitConverter.GetBytes((short)16).CopyTo(wav, 34); Put(36, "data"); BitConverter.GetBytes(samples * 2).CopyTo(wav, 40);
        for (var i = 0; i < samples; i++) BitConverter.GetBytes((short)(Math.Sin(i * 0.05) * 8000)).CopyTo(wav, 44 + i * 2);
        http.Response.ContentType = "audio/wav";
        await http.Response.Body.WriteAsync(wav);
    }

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
