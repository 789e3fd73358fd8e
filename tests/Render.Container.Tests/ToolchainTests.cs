namespace FentaWeb.Render.Tests;

public class ToolchainTests
{
    [Fact]
    public async Task ThisMachineHasEverythingTheRendererUses()
    {
        var capabilities = await Toolchain.CheckAsync();
        Assert.Contains(capabilities, c => c.Name == "encoder libx264");
        Assert.Contains(capabilities, c => c.Name == "filter subtitles");
        var missing = capabilities.Where(c => !c.Present).Select(c => c.Name).ToList();
        Assert.True(missing.Count == 0, $"missing: {string.Join(", ", missing)} (./test.sh installs ffmpeg and fonts)");
    }

    [Fact]
    public async Task ToolchainReportsMissingFfmpegAsMissing()
    {
        // A path where there is no ffmpeg, rather than emptying PATH: other test classes run processes meanwhile.
        var capabilities = await Toolchain.CheckAsync("/nonexistent/ffmpeg");
        Assert.False(capabilities.Single(c => c.Name == "ffmpeg").Present);
        Assert.False(capabilities.Single(c => c.Name == "ffprobe").Present);
        Assert.All(capabilities.Where(c => c.Name.StartsWith("filter ", StringComparison.Ordinal)), c => Assert.False(c.Present));
    }
}
