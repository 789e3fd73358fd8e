using System.Text;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Publishing;
using Microsoft.Extensions.Configuration;

namespace FentaWeb.Integrations.OpenAi;

/// <summary>
/// Writes a video's title, description and hashtags per platform with the chat model that writes scripts (the same
/// FENTA_LLM_* endpoint and HTTP contract as <see cref="ChatScriptWriter"/>), in JSON mode. The answer is read leniently:
/// <see cref="EnrichmentRules"/> trims whatever it holds to each platform's limits, and a platform the model left out
/// gets the offline writer's text.
/// </summary>
public sealed class ChatMetadataWriter(HttpClient http, OpenAiEndpoint options) : IMetadataWriter
{
    private readonly ChatScriptWriter _chat = new(http, options);

    /// <summary>The chat endpoint scripts are written with (FENTA_LLM_*, the workers' default model); null: the offline writer.</summary>
    public static OpenAiEndpoint? EndpointFrom(IConfiguration config) => OpenAiEndpoint.FromConfiguration(config, "LLM", "gpt-4o-mini", TimeSpan.FromSeconds(60));

    /// <summary>The most script or transcript text sent to the model (a short video's script is far less).</summary>
    public const int MaxSourceChars = 12_000;

    public const string System = """
        You write the metadata that goes with a short video when it is published to social platforms.
        Answer with one JSON object only, no prose, in exactly this shape:
        {"items": [{"platform": "youtube" | "tiktok" | "instagram", "title": string, "description": string, "hashtags": [string]}]}
        One item per platform asked for. Write in the language asked for. Stay faithful to the video's script: do not
        invent facts. Hashtags are single words without '#', letters, digits or underscores only.
        youtube: a searchable title of at most 70 characters (never '<' or '>'); a description of 2 to 4 short paragraphs;
        8 to 12 hashtags (used as tags).
        tiktok: the description is the caption: one or two punchy sentences, at most 150 characters; the title repeats its
        first sentence; 3 to 5 hashtags.
        instagram: a short title; the description is the caption: a hook line, then one or two sentences, optionally a
        call to action; 5 hashtags.
        """;

    public async Task<MetadataDraft> WriteAsync(EnrichmentSource source, EnrichmentRequest request, CancellationToken ct)
    {
        var body = new
        {
            model = options.Model,
            temperature = 0.6,
            response_format = new { type = "json_object" },
            messages = new object[]
            {
                new { role = "system", content = System },
                new { role = "user", content = Prompt(source, request) },
            },
        };
        var (content, tokens) = await _chat.CompleteAsync(body, ct);
        return new MetadataDraft(Parse(content, source, request.Platforms), tokens.Model, tokens.Prompt, tokens.Output);
    }

    /// <summary>The user message: the platforms, the language, the guidance, and what the video is.</summary>
    public static string Prompt(EnrichmentSource source, EnrichmentRequest request)
    {
        var text = new StringBuilder();
        text.AppendLine($"Platforms: {string.Join(", ", request.Platforms)}");
        text.AppendLine($"Language: {request.Language}");
        if (request.Instructions is { Length: > 0 } instructions) text.AppendLine($"Extra guidance from the publisher: {instructions}");
        void Line(string label, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value)) text.AppendLine($"{label}: {value}");
        }
        Line("Topic", source.Topic);
        Line("Workflow", source.WorkflowName);
        Line("Template", source.TemplateName);
        Line("Genre", source.Genre);
        Line("Script title", source.ScriptTitle);
        if (source.ScriptHashtags.Count > 0) Line("Script hashtags", string.Join(" ", source.ScriptHashtags));
        foreach (var (name, value) in source.Variables.Where(v => v.Key != "topic").Take(20)) Line($"Variable {name}", value);
        if (source.Narration.Count > 0) text.AppendLine().AppendLine("Script:").AppendLine(Clip(string.Join("\n", source.Narration)));
        if (source.Transcript is { Length: > 0 } transcript) text.AppendLine().AppendLine("Transcript of the subtitles:").AppendLine(Clip(transcript));
        return text.ToString();
    }

    private static string Clip(string text) => text.Length <= MaxSourceChars ? text : EnrichmentRules.Truncate(text, MaxSourceChars);

    /// <summary>
    /// The model's items for the asked platforms (in the asked order); a platform it left out gets the offline writer's.
    /// An answer that is not a JSON object with <c>items</c> is a bad output (502), as for scripts.
    /// </summary>
    public static IReadOnlyList<PlatformMetadata> Parse(string content, EnrichmentSource source, IReadOnlyList<string> platforms)
    {
        var written = new Dictionary<string, PlatformMetadata>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(content);
            var items = doc.RootElement.GetProperty("items");
            foreach (var item in items.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object) continue;
                var platform = Text(item, "platform")?.Trim().ToLowerInvariant();
                if (platform is null || !platforms.Contains(platform) || written.ContainsKey(platform)) continue;
                var hashtags = item.TryGetProperty("hashtags", out var tags) && tags.ValueKind == JsonValueKind.Array
                    ? tags.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList()
                    : tags.ValueKind == JsonValueKind.String ? tags.GetString()!.Split((char[])[' ', ',', '\n'], StringSplitOptions.RemoveEmptyEntries).ToList() : [];
                written[platform] = new PlatformMetadata(platform, Text(item, "title") ?? "", Text(item, "description") ?? Text(item, "caption") ?? "", hashtags);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ProviderException("LLM_BAD_OUTPUT", $"The LLM's metadata is not the JSON asked for: {e.Message}");
        }
        return [.. platforms.Select(p => written.GetValueOrDefault(p) ?? ExtractiveMetadataWriter.Write(source, p))];
    }

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
