using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Tests;

public class FfProbeTests
{
    [Fact]
    public void ParsesVideoAudioAndFractionalFrameRates()
    {
        var info = FfProbe.Parse("""
            {"streams": [{"codec_type": "video", "codec_name": "h264", "width": 1080, "height": 1920, "avg_frame_rate": "30000/1001"},
                         {"codec_type": "audio", "codec_name": "aac"}],
             "format": {"duration": "12.480000", "format_name": "mov,mp4,m4a,3gp,3g2,mj2"}}
            """);
        Assert.Equal((12.48, 1080, 1920, 29.97, "h264", "aac"), (info.DurationSeconds, info.Width, info.Height, info.Fps, info.VideoCodec, info.AudioCodec));
        Assert.True(info.HasVideo && info.HasAudio);
    }

    [Fact]
    public void StillImageHasNoFrameRateOrDuration()
    {
        var info = FfProbe.Parse("""
            {"streams": [{"codec_type": "video", "codec_name": "png", "width": 640, "height": 480, "avg_frame_rate": "0/0", "r_frame_rate": "25/1"}],
             "format": {"format_name": "png_pipe"}}
            """);
        Assert.Equal(((double?)null, (int?)640, (double?)null), (info.DurationSeconds, info.Width, info.Fps));
        Assert.False(info.HasAudio);
    }

    [Fact]
    public async Task UnreadableFileIsAMediaException()
    {
        var path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, "not media");
        try
        {
            await Assert.ThrowsAsync<MediaException>(() => FfProbe.ProbeAsync(path, CancellationToken.None));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
