using System.Text.Json;
using FentaWeb.Domain.Common;
using Microsoft.ML.Tokenizers;

namespace FentaWeb.Domain.Scripts;

/// <summary>
/// The chat messages a script is written and rewritten with. The LLM writer sends them; the cost estimate counts their
/// tokens, so the two cannot drift apart.
/// </summary>
public static class ScriptPrompts
{
    public const string System = """
        You write narration scripts for short vertical videos. Reply with one JSON object only:
        {"title": string, "hook": string,
         "scenes": [{"narration": string, "search_terms": [string, string], "visual_prompt": string}],
         "hashtags": [string]}
        The hook is the first sentence of the first scene. Narration is plain spoken text, no stage directions.
        search_terms are 1-3 word stock-footage queries; visual_prompt describes one vertical shot for an image model.
        """;

    public static string Write(ScriptRequest request) =>
        $"Topic: {request.Prompt}\nGenre: {request.Genre}\nLanguage: {request.Lang}\n" +
        $"Length: about {request.TargetWords} words of narration ({request.DurationSeconds} seconds), in exactly {request.SceneCount} scenes.";

    /// <summary>What Script.Transform asks of the LLM for an operation.</summary>
    public static string Instruction(string operation, string? targetLang, int targetWords, string? instructions) => operation switch
    {
        "translate" => $"Translate the script into {targetLang}. Keep the scenes, their order and meaning; translate search terms too.",
        "compress" => $"Shorten the script to about {targetWords} words of narration. Keep the hook, the scenes and the ending.",
        _ => $"Adapt the script: {instructions}. Keep the number of scenes.",
    };

    /// <summary>The narration length Script.Transform aims at: the target duration's words, or 70 % of the script's for a compress without one.</summary>
    public static int TargetWords(int scriptWords, string operation, int? targetDurationSeconds) => operation switch
    {
        "compress" => targetDurationSeconds is { } seconds ? (int)(seconds * ScriptRequest.WordsPerSecond) : (int)(scriptWords * 0.7),
        _ => scriptWords,
    };

    public static string Rewrite(string instruction, Script script) => $"{instruction}\nScript:\n{JsonSerializer.Serialize(script, FentaJson.Options)}";
}

/// <summary>
/// Token counts as OpenAI's chat models count them (o200k_base, the encoding of the gpt-4o family), with the chat
/// format's per-message overhead: 3 tokens a message and 3 to prime the reply.
/// </summary>
public static class ChatTokens
{
    private static readonly Lazy<Tokenizer> Encoding = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));

    public static int Count(string text) => Encoding.Value.CountTokens(text);

    public static int Prompt(params string[] messages) => messages.Sum(m => Count(m) + 3) + 3;
}
