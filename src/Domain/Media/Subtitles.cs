using System.Globalization;
using System.Text;

namespace FentaWeb.Domain.Media;

public sealed record Cue(int Index, double Start, double End, IReadOnlyList<string> Lines, IReadOnlyList<SpokenWord> Words)
{
    public string Text => string.Join("\n", Lines);
}

/// <summary>What flows on a Subtitles port: the cues, their files, and the narration they were timed against.</summary>
public sealed record SubtitleTrack(string Style, IReadOnlyList<Cue> Cues, string SrtAssetId, string AssAssetId, Narration Narration);

public sealed record CueRules(int MaxCharsPerLine = 32, int MaxLines = 2, double MinSeconds = 0.8, double MaxSeconds = 4.0);

/// <summary>Builds subtitle cues from timed words and writes them as SRT and ASS (with the template's style presets).</summary>
public static class SubtitleWriter
{
    /// <summary>
    /// Words fill lines up to the character limit and cues up to the line limit; a cue also ends at a sentence end or
    /// when it would run past the longest cue. Short cues are held on screen up to the minimum when the gap allows.
    /// </summary>
    public static IReadOnlyList<Cue> BuildCues(IReadOnlyList<SpokenSentence> sentences, CueRules rules)
    {
        var cues = new List<Cue>();
        foreach (var sentence in sentences)
        {
            var words = new List<SpokenWord>();
            var lines = new List<string> { "" };
            foreach (var word in sentence.Words)
            {
                var line = lines[^1];
                var fits = line.Length == 0 || line.Length + 1 + word.Text.Length <= rules.MaxCharsPerLine;
                var tooLong = words.Count > 0 && word.End - words[0].Start > rules.MaxSeconds;
                if ((!fits && lines.Count == rules.MaxLines) || tooLong)
                {
                    cues.Add(new Cue(cues.Count, words[0].Start, words[^1].End, lines.ToList(), words.ToList()));
                    words.Clear();
                    lines = [""];
                }
                else if (!fits)
                {
                    lines.Add("");
                }
                lines[^1] = lines[^1].Length == 0 ? word.Text : $"{lines[^1]} {word.Text}";
                words.Add(word);
            }
            if (words.Count > 0) cues.Add(new Cue(cues.Count, words[0].Start, words[^1].End, lines.ToList(), words.ToList()));
        }
        // Hold short cues longer where the next cue starts later.
        for (var i = 0; i < cues.Count; i++)
        {
            var cue = cues[i];
            if (cue.End - cue.Start >= rules.MinSeconds) continue;
            // Never past the next cue, nor past the end of the narration.
            var limit = i + 1 < cues.Count ? cues[i + 1].Start : sentences[^1].End;
            cues[i] = cue with { End = Math.Round(Math.Min(cue.Start + rules.MinSeconds, limit), 3) };
        }
        return cues;
    }

    public static string ToSrt(IReadOnlyList<Cue> cues)
    {
        var srt = new StringBuilder();
        foreach (var cue in cues)
            srt.Append(CultureInfo.InvariantCulture, $"{cue.Index + 1}\n{SrtTime(cue.Start)} --> {SrtTime(cue.End)}\n{cue.Text}\n\n");
        return srt.ToString();
    }

    /// <summary>An ASS script at the given canvas size; karaoke_bounce highlights each word as it is spoken.</summary>
    public static string ToAss(IReadOnlyList<Cue> cues, string preset, AssStyle style, int width, int height)
    {
        var ass = new StringBuilder();
        ass.Append(CultureInfo.InvariantCulture, $"""
            [Script Info]
            ScriptType: v4.00+
            PlayResX: {width}
            PlayResY: {height}
            WrapStyle: 2
            ScaledBorderAndShadow: yes

            [V4+ Styles]
            Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding
            {StyleLine(preset, style)}

            [Events]
            Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text

            """);
        foreach (var cue in cues)
        {
            var text = preset == "karaoke_bounce" ? Karaoke(cue) : string.Join("\\N", cue.Lines.Select(Escape));
            ass.Append(CultureInfo.InvariantCulture, $"Dialogue: 0,{AssTime(cue.Start)},{AssTime(cue.End)},Default,,0,0,0,,{text}\n");
        }
        return ass.ToString();
    }

    /// <summary>{\kf} sweeps the highlight colour across each word for as long as it is spoken.</summary>
    private static string Karaoke(Cue cue)
    {
        var parts = new StringBuilder();
        var at = cue.Start;
        var lineOf = new Queue<int>(cue.Lines.Select(l => l.Split(' ').Length));
        var left = lineOf.Dequeue();
        foreach (var word in cue.Words)
        {
            var centiseconds = (int)Math.Round((word.End - at) * 100);
            parts.Append(CultureInfo.InvariantCulture, $"{{\\kf{Math.Max(1, centiseconds)}}}{Escape(word.Text)}");
            at = word.End;
            if (--left == 0 && lineOf.Count > 0)
            {
                parts.Append("\\N");
                left = lineOf.Dequeue();
            }
            else
            {
                parts.Append(' ');
            }
        }
        return parts.ToString().TrimEnd();
    }

    private static string StyleLine(string preset, AssStyle s)
    {
        var (primary, secondary) = preset == "karaoke_bounce" ? (Colour(s.HighlightColor), Colour(s.Color)) : (Colour(s.Color), Colour(s.HighlightColor));
        var shadow = s.Shadow ? 2 : 0;
        var (border, outline, depth, back) = (s.Background ?? DefaultBackground(preset)) switch
        {
            // libass's BorderStyle 4: one translucent box (BackColour) behind the whole cue, padded by the shadow
            // depth. BorderStyle 3 draws a box per line, and translucent ones overlap into dark bands; the box is
            // the contrast, so it takes no drop shadow.
            "box" => (4, 0, s.Size / 4, "&H60000000"),
            "none" => (1, 0, shadow, "&H80000000"),
            _ => (1, preset is "bold_outline" or "karaoke_bounce" ? 5 : 2, shadow, "&H80000000"),
        };
        var alignment = s.Position switch { "top" => 8, "center" => 5, _ => 2 };
        return string.Create(CultureInfo.InvariantCulture,
            $"Style: Default,{s.Font},{s.Size},{primary},{secondary},&H00000000,{back},-1,0,0,0,100,100,0,0,{border},{outline},{depth},{alignment},60,60,{s.Margin},1");
    }

    /// <summary>What a preset puts behind its text unless the template says otherwise (none, box or outline).</summary>
    private static string DefaultBackground(string preset) => preset == "clean_box" ? "box" : "outline";

    /// <summary>#RRGGBB[AA] → ASS &amp;HAABBGGRR (ASS alpha counts transparency, 00 = opaque).</summary>
    public static string Colour(string hex)
    {
        var h = hex.TrimStart('#');
        var alpha = h.Length == 8 ? 255 - Convert.ToInt32(h[6..8], 16) : 0;
        return $"&H{alpha:X2}{h[4..6]}{h[2..4]}{h[0..2]}".ToUpperInvariant();
    }

    private static string Escape(string text) => text.Replace("{", "(").Replace("}", ")").Replace("\\", "/");

    private static string SrtTime(double seconds)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(seconds * 1000));
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours:00}:{t.Minutes:00}:{t.Seconds:00},{t.Milliseconds:000}");
    }

    private static string AssTime(double seconds)
    {
        var t = TimeSpan.FromMilliseconds(Math.Round(seconds * 100) * 10);
        return string.Create(CultureInfo.InvariantCulture, $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}.{t.Milliseconds / 10:00}");
    }
}

/// <summary>The look of subtitles: a template's subtitle track style with defaults filled in.</summary>
public sealed record AssStyle(
    string Font = "DejaVu Sans",
    int Size = 64,
    bool Shadow = true,
    string Position = "bottom",
    int Margin = 160,
    string Color = "#FFFFFF",
    string HighlightColor = "#FFD400",
    string? Background = null);
