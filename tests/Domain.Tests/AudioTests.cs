using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Tests;

public class AudioTests
{
    [Fact]
    public async Task WavRoundTripsAndJoinsSampleExactly()
    {
        var tone = new PcmAudio(22050, 1, Enumerable.Range(0, 22050 * 2).Select(i => (byte)(i % 251)).ToArray());
        var joined = PcmAudio.Concat([tone, tone.Silence(0.25), tone]);
        Assert.Equal(2.25, joined.DurationSeconds, 4); // 0.25 s of silence is 5512 whole samples at 22,050 Hz

        var path = Path.GetTempFileName();
        try
        {
            await Wav.WriteAsync(path, joined, CancellationToken.None);
            var read = await Wav.ReadAsync(path, CancellationToken.None);
            Assert.Equal((22050, (short)1), (read.SampleRate, read.Channels));
            Assert.Equal(joined.Data, read.Data);
            Assert.Equal(2.25, (await FfProbe.ProbeAsync(path, CancellationToken.None)).DurationSeconds!.Value, 3);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void JoiningDifferentFormatsIsRefused() =>
        Assert.Throws<MediaException>(() => PcmAudio.Concat([new PcmAudio(22050, 1, new byte[4]), new PcmAudio(44100, 1, new byte[4])]));

    [Fact]
    public void SentencesSplitOnTerminalPunctuationAndWordsShareTheSentenceTime()
    {
        Assert.Equal(["Hello there.", "How are you?", "Fine!"], Sentences.Split("Hello there.  How are you? Fine!"));
        var words = Sentences.TimeWords("a longword", 1.0, 2.0);
        Assert.Equal((1.0, 2.0), (words[0].Start, words[^1].End));
        Assert.True(words[1].End - words[1].Start > words[0].End - words[0].Start, "longer words take longer");
    }
}
