using System.Text.RegularExpressions;
using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Publishing;

/// <summary>
/// The offline writer (no LLM configured): extractive and deterministic. The title is the script's title, else its first
/// sentence, else the topic or the workflow's name; descriptions are the first sentences of what the video says; hashtags
/// are the script's own, then the most frequent meaningful words of the script and the topic. Instructions and the
/// language need an LLM and are not used here.
/// </summary>
public sealed partial class ExtractiveMetadataWriter : IMetadataWriter
{
    public const string Model = "offline";

    private static readonly HashSet<string> StopWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "and", "for", "with", "about", "that", "this", "these", "those", "from", "into", "onto", "your", "you", "are", "was",
        "were", "will", "would", "could", "should", "what", "which", "how", "why", "who", "whom", "when", "where", "there", "here",
        "make", "made", "video", "short", "some", "more", "most", "very", "just", "than", "then", "them", "they", "their", "have",
        "has", "had", "its", "our", "ours", "his", "her", "hers", "him", "she", "it's", "been", "being", "also", "only", "over",
        "under", "after", "before", "again", "still", "even", "every", "each", "much", "many", "such", "other", "another", "because",
        "while", "through", "until", "does", "did", "doing", "done", "can't", "don't", "isn't", "like", "really", "thing", "things",
        "know", "let's", "lets", "said", "says", "say", "get", "gets", "got", "one", "two", "all", "any", "not", "but", "out", "now",
        "new", "next", "today", "tomorrow", "yesterday", "stay", "tuned", "follow", "story", "see", "way", "well", "let", "tell",
    };

    public Task<MetadataDraft> WriteAsync(EnrichmentSource source, EnrichmentRequest request, CancellationToken ct) =>
        Task.FromResult(new MetadataDraft([.. request.Platforms.Select(p => Write(source, p))], Model));

    public static PlatformMetadata Write(EnrichmentSource source, string platform)
    {
        var sentences = Sentences.Split(source.Text).Where(s => s.Length > 0).ToList();
        var title = TitleOf(source, sentences);
        var tags = HashtagsOf(source, platform == Platforms.YouTube ? 12 : EnrichmentRules.RecommendedHashtags);
        var description = platform switch
        {
            // YouTube: the opening of the video, a paragraph of up to five sentences.
            Platforms.YouTube => Take(sentences, 5, 600),
            // TikTok reads at a glance: the hook.
            Platforms.TikTok => Take(sentences, 2, 150),
            _ => Take(sentences, 3, 300),
        };
        if (description.Length == 0) description = title;
        return new PlatformMetadata(platform, title, description, tags);
    }

    /// <summary>The title any platform falls back to: the script's, its first sentence, the topic, the workflow's name.</summary>
    public static string TitleOf(EnrichmentSource source, IReadOnlyList<string>? sentences = null)
    {
        sentences ??= Sentences.Split(source.Text).Where(s => s.Length > 0).ToList();
        var first = sentences.Count > 0 ? sentences[0].TrimEnd('.') : null;
        string? topic = source.Topic is { } t ? char.ToUpperInvariant(t[0]) + t[1..] : null;
        return new[] { source.ScriptTitle, first is { Length: <= EnrichmentRules.YouTubeTitleChars } ? first : null, topic, source.WorkflowName, first }
            .FirstOrDefault(c => !string.IsNullOrWhiteSpace(c)) ?? "New video";
    }

    /// <summary>
    /// The script's hashtags, then its most frequent meaningful words (4+ letters, not stop words; the topic's words count
    /// double, ties by first appearance), up to <paramref name="count"/>.
    /// </summary>
    public static IReadOnlyList<string> HashtagsOf(EnrichmentSource source, int count)
    {
        var words = new Dictionary<string, (int Count, int First)>(StringComparer.Ordinal);
        var position = 0;
        void Count(string? text, int weight)
        {
            foreach (Match m in Word().Matches(text ?? ""))
            {
                var word = m.Value.ToLowerInvariant();
                if (word.EndsWith("'s", StringComparison.Ordinal)) word = word[..^2];
                if (word.Length < 4 || StopWords.Contains(word)) continue;
                words[word] = words.TryGetValue(word, out var seen) ? (seen.Count + weight, seen.First) : (weight, position++);
            }
        }
        Count(source.Topic, 2);
        Count(source.ScriptTitle, 2);
        Count(source.Text, 1);
        var frequent = words.OrderByDescending(w => w.Value.Count).ThenBy(w => w.Value.First).Select(w => w.Key);
        return EnrichmentRules.Hashtags([.. source.ScriptHashtags, .. frequent, source.Genre]).Take(count).ToList();
    }

    private static string Take(IReadOnlyList<string> sentences, int most, int chars)
    {
        var taken = new List<string>();
        foreach (var sentence in sentences.Take(most))
        {
            if (taken.Count > 0 && taken.Sum(s => s.Length + 1) + sentence.Length > chars) break;
            taken.Add(sentence);
        }
        return EnrichmentRules.Truncate(string.Join(" ", taken), chars);
    }

    [GeneratedRegex(@"[\p{L}][\p{L}\p{N}']*")]
    private static partial Regex Word();
}
