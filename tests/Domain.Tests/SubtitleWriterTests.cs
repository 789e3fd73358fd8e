using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Tests;

public class SubtitleWriterTests
{
    private static SpokenSentence Sentence(string text, double start, double end) => new(0, text, start, end, Sentences.TimeWords(text, start, end));

    [Fact]
    public void CuesRespectLineLengthLineCountAndSentenceEnds()
    {
        var sentences = new[]
        {
            Sentence("Cities glow at night and millions of lights trace every street of the old town.", 0, 5),
            Sentence("Tomorrow it wakes.", 5.25, 6.5),
        };
        var cues = SubtitleWriter.BuildCues(sentences, new CueRules(MaxCharsPerLine: 20, MaxLines: 2, MaxSeconds: 10));

        Assert.All(cues, c => Assert.All(c.Lines, l => Assert.True(l.Length <= 20, l)));
        Assert.All(cues, c => Assert.InRange(c.Lines.Count, 1, 2));
        Assert.Equal("Tomorrow it wakes.", cues[^1].Text.Replace("\n", " "));
        Assert.Equal(5.25, cues[^1].Start);
        var all = string.Join(" ", cues.Select(c => c.Text.Replace("\n", " ")));
        Assert.Equal(string.Join(" ", sentences.Select(s => s.Text)), all);
        for (var i = 1; i < cues.Count; i++) Assert.True(cues[i].Start >= cues[i - 1].End);
    }

    [Fact]
    public void LongCuesAreSplitAndShortOnesHeldForTheMinimum()
    {
        var cues = SubtitleWriter.BuildCues([Sentence("one two three four five six seven eight", 0, 8)], new CueRules(80, 2, 0.8, 3));
        Assert.All(cues, c => Assert.True(c.End - c.Start <= 3.01, $"{c.Start}-{c.End}"));
        var held = SubtitleWriter.BuildCues([Sentence("Hi.", 1, 1.2), Sentence("Next.", 3, 4)], new CueRules());
        Assert.Equal(4, held[^1].End, 3); // the last cue is not held past the narration
        Assert.Equal(1.8, held[0].End, 3);
        var tight = SubtitleWriter.BuildCues([Sentence("Hi.", 1, 1.2), Sentence("Next.", 1.5, 2.5)], new CueRules());
        Assert.Equal(1.5, tight[0].End, 3);
    }

    [Fact]
    public void SrtAndAssFormats()
    {
        var cues = SubtitleWriter.BuildCues([Sentence("Hello big world.", 0.5, 1.75)], new CueRules());
        Assert.Equal("1\n00:00:00,500 --> 00:00:01,750\nHello big world.\n\n", SubtitleWriter.ToSrt(cues));

        var karaoke = SubtitleWriter.ToAss(cues, "karaoke_bounce", new AssStyle(), 1080, 1920);
        Assert.Contains("PlayResY: 1920", karaoke);
        Assert.Contains("Dialogue: 0,0:00:00.50,0:00:01.75,Default,,0,0,0,,{\\kf", karaoke);
        Assert.Contains("}world.", karaoke);
        var box = SubtitleWriter.ToAss(cues, "clean_box", new AssStyle(Position: "top"), 1920, 1080);
        Assert.Contains(",&H60000000,-1,0,0,0,100,100,0,0,4,0,16,8,60,60,", box); // one translucent box per cue, padded, top-centre
        var outlined = SubtitleWriter.ToAss(cues, "clean_box", new AssStyle(Shadow: false, Background: "outline"), 1080, 1920);
        Assert.Contains(",0,0,1,2,0,2,60,60,", outlined); // the template's bg and shadow win over the preset's
        Assert.Contains(",0,0,1,5,2,2,60,60,", karaoke);
        Assert.Equal("&H0000D4FF", SubtitleWriter.Colour("#FFD400"));
        Assert.Equal("&H80FFFFFF", SubtitleWriter.Colour("#FFFFFF7F"));
    }
}
