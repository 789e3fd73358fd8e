using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.ML.Tokenizers;

namespace FentaWeb.Simulators;

/// <summary>
/// OpenAI-compatible chat completions (<c>POST /v1/chat/completions</c>): bearer auth, the
/// <c>{ id, choices[{ message { role, content }, finish_reason }], usage }</c> reply, <c>{ error }</c> errors. Usage is
/// counted as OpenAI counts it: o200k_base tokens of the messages (3 a message, 3 to prime the reply) and of the reply.
/// </summary>
public sealed partial class OpenAiSimulator : Simulator
{
    private static readonly Tokenizer Tokens = TiktokenTokenizer.CreateForEncoding("o200k_base");

    // Plain English prose the replies are cut from, so they tokenize and read aloud as a model's narration would.
    private static readonly string[] Prose = """
        The lighthouse keeper found a weathered bottle washed ashore at dawn. Its message, smudged by saltwater, whispered of
        forgotten harbors. Gulls circled overhead while fog rolled across the jagged cliffs. She wondered who had written it,
        decades ago, and why it had taken so long to arrive. Breaking news this morning: the city council approved a new plan
        for public transport. Buses will run every ten minutes on the main lines starting next month. Officials say the change
        will cut commute times and reduce traffic in the old town. Cities glow at night. Millions of lights trace the streets.
        Each light is a story of someone still awake. Tomorrow the city wakes again, and the harbor fills with boats.
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries);

    private static readonly string[] Sentences = SentenceEnd().Split(string.Join(" ", Prose));

    private static int WordCount(IEnumerable<string> sentences) => sentences.Sum(s => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);

    /// <summary>
    /// When set, replies are scripts that follow the request (its "about N words" in "exactly M scenes", or the length of
    /// the script it asks to rewrite), as a capable model would, instead of <see cref="Content"/>.
    /// </summary>
    public bool FollowsInstructions { get; set; }

    /// <summary>The usage reported by the last chat completion.</summary>
    public (int Prompt, int Completion) LastUsage { get; private set; }

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
        using var request = await JsonDocument.ParseAsync(http.Request.Body);
        var messages = request.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString() ?? "").ToList();
        var content = FollowsInstructions ? ScriptFor(messages[^1]) : Content;
        LastUsage = (messages.Sum(m => Tokens.CountTokens(m) + 3) + 3, Tokens.CountTokens(content));
        await http.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-sim",
            @object = "chat.completion",
            choices = new[] { new { index = 0, message = new { role = "assistant", content }, finish_reason = "stop" } },
            usage = new { prompt_tokens = LastUsage.Prompt, completion_tokens = LastUsage.Completion, total_tokens = LastUsage.Prompt + LastUsage.Completion },
        });
    }

    /// <summary>A script of the asked length and scene count (a rewrite keeps the given script's scenes and, unless shortened, its length).</summary>
    private static string ScriptFor(string ask)
    {
        int? Asked(Regex pattern) => pattern.Match(ask) is { Success: true } m ? int.Parse(m.Groups[1].Value) : null;
        var given = ask.IndexOf("Script:\n", StringComparison.Ordinal) is var at and >= 0 ? JsonDocument.Parse(ask[(at + 8)..]).RootElement : (JsonElement?)null;
        var givenScenes = given?.GetProperty("scenes").EnumerateArray().Select(s => s.GetProperty("narration").GetString()!).ToList();
        var scenes = Asked(SceneCount()) ?? givenScenes?.Count ?? 3;
        var words = Asked(WordCount()) ?? givenScenes?.Sum(n => n.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length) ?? 60;
        var next = (words * 31 + scenes) % Prose.Length;
        string Words(int count) => string.Join(" ", Enumerable.Range(0, count).Select(_ => Prose[next++ % Prose.Length]).Select(w => w.Trim('.', ',', ':')));
        var sentence = (words * 7 + scenes) % Sentences.Length;
        // Whole sentences, as close to the scene's share of the words as they come.
        string Narration(int count)
        {
            var taken = new List<string> { Sentences[sentence++ % Sentences.Length] };
            while (Sentences[sentence % Sentences.Length] is var more
                   && Math.Abs(WordCount(taken) + WordCount([more]) - count) < Math.Abs(WordCount(taken) - count))
            {
                taken.Add(more);
                sentence++;
            }
            return string.Join(" ", taken);
        }
        var narrations = Enumerable.Range(0, scenes).Select(i => Narration(words / scenes + (i < words % scenes ? 1 : 0))).ToList();
        return JsonSerializer.Serialize(new
        {
            title = Words(4),
            hook = narrations[0].Split('.')[0] + ".",
            scenes = narrations.Select(n => new { narration = n, search_terms = new[] { Words(2), Words(2) }, visual_prompt = Words(9) }),
            hashtags = new[] { Words(1), Words(1), Words(1) },
        });
    }

    [GeneratedRegex(@"(?<=\.)\s+")]
    private static partial Regex SentenceEnd();

    [GeneratedRegex(@"exactly (\d+) scenes")]
    private static partial Regex SceneCount();

    [GeneratedRegex(@"about (\d+) words")]
    private static partial Regex WordCount();
}
