using FentaWeb.Domain.Media;

namespace FentaWeb.Domain.Tests;

/// <summary>FfProbe on files ffmpeg makes here: what it reads of videos, stills and audio, and how it fails.</summary>
public class FfProbeTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fenta-probe-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private async Task<string> MakeAsync(string name, params string[] args)
    {
        var path = Path.Combine(_dir, name);
        await ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "error", .. args, path], $"ffmpeg could not make {name}", CancellationToken.None);
        return path;
    }

    [Fact]
    public async Task ReadsVideoAudioAndFractionalFrameRates()
    {
        var path = await MakeAsync("ntsc.mp4", "-f", "lavfi", "-i", "testsrc=size=108x192:rate=30000/1001", "-f", "lavfi", "-i", "sine=frequency=300",
            "-ac", "2", "-t", "1.5", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac");

        var info = await FfProbe.ProbeAsync(path, CancellationToken.None);

        Assert.Equal((108, 192, 29.97, "h264", "aac", 2), (info.Width, info.Height, info.Fps, info.VideoCodec, info.AudioCodec, info.AudioChannels));
        Assert.InRange(info.DurationSeconds!.Value, 1.45, 1.6);
        Assert.Contains("mp4", info.FormatName);
        Assert.True(info.HasVideo && info.HasAudio);
    }

    [Fact]
    public async Task StillImageHasNoFrameRateOrDuration()
    {
        var path = await MakeAsync("still.png", "-f", "lavfi", "-i", "color=teal:s=64x48", "-frames:v", "1");

        var info = await FfProbe.ProbeAsync(path, CancellationToken.None);

        Assert.Equal(((double?)null, (int?)64, (int?)48, (double?)null, "png"), (info.DurationSeconds, info.Width, info.Height, info.Fps, info.VideoCodec));
        Assert.False(info.HasAudio);
    }

    [Fact]
    public async Task AudioOnlyHasItsDurationToTheMicrosecondAndChannelsButNoPicture()
    {
        var path = Path.Combine(_dir, "voice.wav");
        await Wav.WriteAsync(path, new PcmAudio(22050, 1, new byte[49612 * 2]), CancellationToken.None); // 2.249977 s

        var info = await FfProbe.ProbeAsync(path, CancellationToken.None);

        Assert.Equal(49612 / 22050.0, info.DurationSeconds!.Value, 6);
        Assert.Equal(("pcm_s16le", 1, "wav"), (info.AudioCodec, info.AudioChannels, info.FormatName));
        Assert.Equal(((int?)null, (double?)null), (info.Width, info.Fps));
        Assert.False(info.HasVideo);
    }

    [Fact]
    public async Task UnreadableFileIsAMediaExceptionNamingIt()
    {
        var path = Path.Combine(_dir, "notes.mp4");
        await File.WriteAllTextAsync(path, "not media");

        var error = await Assert.ThrowsAsync<MediaException>(() => FfProbe.ProbeAsync(path, CancellationToken.None));
        Assert.Contains("notes.mp4", error.Message);
        Assert.Contains("Invalid data", error.Message); // ffprobe's own words
    }

    [Fact]
    public async Task MissingFileIsAMediaException()
    {
        var error = await Assert.ThrowsAsync<MediaException>(() => FfProbe.ProbeAsync(Path.Combine(_dir, "gone.mov"), CancellationToken.None));
        Assert.Contains("gone.mov", error.Message);
    }

    [Fact]
    public async Task ACancelledProbeIsCancelled()
    {
        var path = await MakeAsync("short.wav", "-f", "lavfi", "-i", "sine=duration=1");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FfProbe.ProbeAsync(path, new CancellationToken(canceled: true)));
    }
}
