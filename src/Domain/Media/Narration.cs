using System.Text.RegularExpressions;

namespace FentaWeb.Domain.Media;

/// <summary>What flows on an Audio port: the narration asset and exactly when each sentence and word is spoken.</summary>
public sealed record Narration(
    string AssetId,
    double DurationSeconds,
    IReadOnlyList<SpokenSentence> Sentences,
    string Voice,
    string Lang,
    string Provider)
{
    /// <summary>Breath between sentences: Voice.TTS speaks one sentence at a time and joins them with it.</summary>
    public const double SentencePauseSeconds = 0.25;

    /// <summary>How long a video runs on after its narration ends (Edit.Timeline).</summary>
    public const double TailSeconds = 0.5;
}

public sealed record SpokenSentence(int Scene, string Text, double Start, double End, IReadOnlyList<SpokenWord> Words);

public sealed record SpokenWord(string Text, double Start, double End);

public static partial class Sentences
{
    [GeneratedRegex(@"(?<=[.!?…])\s+")]
    private static partial Regex Boundary();

    public static IReadOnlyList<string> Split(string text) =>
        Boundary().Split(text.Trim()).Select(s => s.Trim()).Where(s => s.Length > 0).ToList();

    /// <summary>
    /// Word timings inside a measured sentence, in proportion to each word's length (speech time follows letters
    /// more than words); the sentence's own start and end are exact.
    /// </summary>
    public static IReadOnlyList<SpokenWord> TimeWords(string sentence, double start, double end)
    {
        var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var weights = words.Select(w => w.Count(char.IsLetterOrDigit) + 1.0).ToArray();
        var total = weights.Sum();
        var spoken = new List<SpokenWord>(words.Length);
        var at = start;
        for (var i = 0; i < words.Length; i++)
        {
            var length = (end - start) * weights[i] / total;
            spoken.Add(new SpokenWord(words[i], Math.Round(at, 3), Math.Round(i == words.Length - 1 ? end : at + length, 3)));
            at += length;
        }
        return spoken;
    }
}
