using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FentaWeb.Domain.Publishing;

/// <summary>
/// Each platform's limits on what is posted, applied to whatever a writer answered: trimmed to fit, never refused.
/// <list type="bullet">
/// <item>YouTube (videos.insert snippet): title at most 100 characters, description at most 5000 bytes, neither with
/// <c>&lt;</c> or <c>&gt;</c> (the description ends with the first three hashtags, which YouTube shows above the title);
/// tags (the hashtags) at most 500 characters in all, counting the commas between them.</item>
/// <item>TikTok (post_info.title, its only text): the caption is the text and then the hashtags, at most 2200
/// characters; <c>title</c> is that caption, <c>description</c> its text without the hashtags.</item>
/// <item>Instagram (the Reel's caption): at most 2200 characters and 30 hashtags; <c>description</c> is the caption as
/// posted (the text, a blank line, the hashtags), <c>title</c> a short headline for the library (Instagram shows none).</item>
/// </list>
/// Hashtags are returned without '#': letters, digits and underscores only, lower-case, deduplicated, not all digits.
/// </summary>
public static partial class EnrichmentRules
{
    public const int YouTubeTitleChars = 100;
    public const int YouTubeDescriptionBytes = 5000;
    public const int YouTubeTagsChars = 500;
    /// <summary>How many hashtags YouTube shows above a title (from the description), and the description ends with.</summary>
    public const int YouTubeShownHashtags = 3;
    public const int TikTokCaptionChars = 2200;
    public const int InstagramCaptionChars = 2200;
    public const int InstagramMaxHashtags = 30;
    /// <summary>What Instagram recommends (3 to 5), and what the offline writer gives TikTok and Instagram.</summary>
    public const int RecommendedHashtags = 5;
    /// <summary>A hashtag longer than this is noise, not a tag.</summary>
    public const int MaxHashtagChars = 60;

    /// <summary>The item as the platform takes it; <paramref name="fallbackTitle"/> stands in for an empty title.</summary>
    public static PlatformMetadata Apply(PlatformMetadata item, string fallbackTitle)
    {
        // Hashtags written into the text count as hashtags: taken out of the text and kept in the list.
        var (title, titleTags) = TakeInlineHashtags(item.Title);
        var (description, descriptionTags) = TakeInlineHashtags(item.Description);
        var tags = Hashtags([.. item.Hashtags, .. titleTags, .. descriptionTags]);
        title = OneLine(title);
        if (title.Length == 0) title = OneLine(fallbackTitle);
        description = description.Trim();
        return item.Platform switch
        {
            Platforms.YouTube => YouTube(title, description, tags),
            Platforms.TikTok => TikTok(title, description, tags),
            Platforms.Instagram => Instagram(title, description, tags),
            _ => throw new ArgumentException($"Unknown platform '{item.Platform}'.", nameof(item)),
        };
    }

    private static PlatformMetadata YouTube(string title, string description, IReadOnlyList<string> tags)
    {
        title = Truncate(NoAngles(title), YouTubeTitleChars);
        // YouTube shows the description's first three hashtags above the title: the description ends with them.
        var shown = string.Join(" ", tags.Take(YouTubeShownHashtags).Select(t => "#" + t));
        var room = YouTubeDescriptionBytes - (shown.Length > 0 ? Encoding.UTF8.GetByteCount(shown) + 2 : 0);
        description = TruncateBytes(NoAngles(description), room);
        description = shown.Length == 0 ? description : description.Length == 0 ? shown : description + "\n\n" + shown;
        // Tags with no spaces travel bare, joined by commas: their characters and the commas must fit in 500.
        var kept = new List<string>();
        var used = 0;
        foreach (var tag in tags)
        {
            var cost = tag.Length + (kept.Count > 0 ? 1 : 0);
            if (used + cost > YouTubeTagsChars) break;
            kept.Add(tag);
            used += cost;
        }
        return new PlatformMetadata(Platforms.YouTube, title, description, kept);
    }

    private static PlatformMetadata TikTok(string title, string description, IReadOnlyList<string> tags)
    {
        // TikTok's caption is all the text a post has: what the writer gave as description, else its title.
        var text = description.Length > 0 ? description : title;
        var (caption, body, kept) = Caption(text, tags, " ", TikTokCaptionChars, int.MaxValue);
        return new PlatformMetadata(Platforms.TikTok, caption, body, kept);
    }

    private static PlatformMetadata Instagram(string title, string description, IReadOnlyList<string> tags)
    {
        var text = description.Length > 0 ? description : title;
        var (caption, _, kept) = Caption(text, tags, "\n\n", InstagramCaptionChars, InstagramMaxHashtags);
        return new PlatformMetadata(Platforms.Instagram, Truncate(title, YouTubeTitleChars), caption, kept);
    }

    /// <summary>The text, then the hashtags after <paramref name="separator"/>, within <paramref name="limit"/> characters: hashtags first (at most a quarter of it), the text cut to the rest.</summary>
    private static (string Caption, string Text, IReadOnlyList<string> Tags) Caption(string text, IReadOnlyList<string> tags, string separator, int limit, int maxTags)
    {
        var kept = new List<string>();
        var tagChars = 0;
        foreach (var tag in tags.Take(maxTags))
        {
            var cost = tag.Length + 1 + (kept.Count > 0 ? 1 : 0);
            if (tagChars + cost > limit / 4) break;
            kept.Add(tag);
            tagChars += cost;
        }
        var tagLine = string.Join(" ", kept.Select(t => "#" + t));
        var room = limit - (tagLine.Length > 0 ? tagLine.Length + separator.Length : 0);
        text = Truncate(text, room);
        var caption = tagLine.Length == 0 ? text : text.Length == 0 ? tagLine : text + separator + tagLine;
        return (caption, text, kept);
    }

    /// <summary>Hashtags as platforms take them: without '#', letters, digits and '_' only, lower-case, each once, in order.</summary>
    public static IReadOnlyList<string> Hashtags(IEnumerable<string?> raw)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var value in raw)
        {
            if (value is null) continue;
            var tag = new StringBuilder();
            foreach (var rune in value.Normalize(NormalizationForm.FormC).EnumerateRunes())
                if (Rune.IsLetterOrDigit(rune) || rune.Value == '_') tag.Append(Rune.ToLowerInvariant(rune).ToString());
            var text = tag.ToString();
            if (text.Length > MaxHashtagChars) text = Truncate(text, MaxHashtagChars);
            if (text.Length == 0 || text.All(char.IsAsciiDigit) || text.All(c => c == '_')) continue;
            if (seen.Add(text)) result.Add(text);
        }
        return result;
    }

    private static (string Text, IReadOnlyList<string> Tags) TakeInlineHashtags(string? text)
    {
        if (string.IsNullOrEmpty(text)) return ("", []);
        var tags = InlineHashtag().Matches(text).Select(m => m.Groups[1].Value).ToList();
        if (tags.Count == 0) return (text, []);
        var stripped = InlineHashtag().Replace(text, "");
        // Tidy what the hashtags leave behind: runs of spaces, spaces before line ends, trailing blank lines.
        stripped = string.Join("\n", stripped.Split('\n').Select(l => Spaces().Replace(l, " ").TrimEnd())).Trim();
        return (stripped, tags);
    }

    private static string OneLine(string? text) => Whitespace().Replace(text ?? "", " ").Trim();

    private static string NoAngles(string text) => text.Contains('<') || text.Contains('>')
        ? string.Join("\n", text.Replace('<', ' ').Replace('>', ' ').Split('\n').Select(l => Spaces().Replace(l, " ").Trim())).Trim()
        : text;

    /// <summary>
    /// At most <paramref name="max"/> UTF-16 characters (what the platforms count), never splitting a character: at the last
    /// word boundary when one is near the end, with an ellipsis when cut there.
    /// </summary>
    public static string Truncate(string text, int max)
    {
        if (text.Length <= max) return text;
        if (max <= 0) return "";
        var cut = SafeCut(text, max - 1);
        var space = text.LastIndexOfAny([' ', '\n'], Math.Max(0, cut - 1));
        if (space > max / 2) cut = space;
        return text[..cut].TrimEnd() + "…";
    }

    /// <summary>At most <paramref name="maxBytes"/> bytes in UTF-8, cut as <see cref="Truncate"/> cuts.</summary>
    public static string TruncateBytes(string text, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= maxBytes) return text;
        // "…" is 3 bytes; cut by characters until the bytes fit (each pass removes at least the overshoot's characters).
        var chars = Math.Min(text.Length, maxBytes);
        string cut;
        while (Encoding.UTF8.GetByteCount(cut = Truncate(text, chars)) > maxBytes)
            chars -= Math.Max(1, (Encoding.UTF8.GetByteCount(cut) - maxBytes) / 4);
        return cut;
    }

    /// <summary>A cut at or before <paramref name="index"/> that does not split a surrogate pair or a combining sequence.</summary>
    private static int SafeCut(string text, int index)
    {
        var cut = 0;
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            var end = enumerator.ElementIndex + ((string)enumerator.Current).Length;
            if (end > index) break;
            cut = end;
        }
        return cut;
    }

    [GeneratedRegex(@"(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]+)")]
    private static partial Regex InlineHashtag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[ \t]{2,}")]
    private static partial Regex Spaces();
}
