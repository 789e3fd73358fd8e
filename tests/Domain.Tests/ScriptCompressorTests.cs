using FentaWeb.Domain.Scripts;

namespace FentaWeb.Domain.Tests;

public class ScriptCompressorTests
{
    [Fact]
    public async Task CompressFitsTheTargetAndKeepsHookSceneOpenersAndClose()
    {
        var script = await new TemplateScriptWriter().WriteAsync(new ScriptRequest("solar sailing ships", "education", "en", 60, 4), CancellationToken.None);
        var compressed = ScriptCompressor.Compress(script, 60);

        Assert.True(compressed.WordCount <= 60 || compressed.Scenes.All(s => s.Narration.Split(". ").Length <= 2), $"{compressed.WordCount} words");
        Assert.True(compressed.WordCount < script.WordCount);
        Assert.Equal(script.Scenes.Count, compressed.Scenes.Count);
        Assert.StartsWith(script.Hook, compressed.Scenes[0].Narration);
        for (var i = 0; i < script.Scenes.Count; i++)
            Assert.StartsWith(script.Scenes[i].Narration.Split(". ")[0], compressed.Scenes[i].Narration);
        Assert.EndsWith(script.Scenes[^1].Narration.Split(". ")[^1], compressed.Scenes[^1].Narration);
    }
}
