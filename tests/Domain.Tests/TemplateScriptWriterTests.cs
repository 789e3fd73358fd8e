using FentaWeb.Domain.Scripts;

namespace FentaWeb.Domain.Tests;

public class TemplateScriptWriterTests
{
    private readonly TemplateScriptWriter _writer = new();

    [Theory]
    [InlineData("news", 30)]
    [InlineData("story", 60)]
    [InlineData("review", 15)]
    [InlineData("education", 90)]
    public async Task ScriptFitsTheTargetDuration(string genre, int seconds)
    {
        var request = new ScriptRequest("electric bikes in Amsterdam", genre, "en", seconds, 0);
        var script = await _writer.WriteAsync(request, CancellationToken.None);
        Assert.Equal(request.SceneCount, script.Scenes.Count);
        Assert.InRange(script.WordCount, request.TargetWords * 0.7, request.TargetWords * 1.4);
        Assert.All(script.Scenes, s => Assert.NotEmpty(s.SearchTerms));
        Assert.All(script.Scenes, s => Assert.Matches(@"[.!?]$", s.Narration));
        Assert.Contains("electric bikes in amsterdam", script.FullNarration.ToLowerInvariant());
        Assert.Equal(script.Hook, script.Scenes[0].Narration.Split('.')[0] + ".");
    }

    [Fact]
    public async Task SameRequestGivesTheSameScript()
    {
        var request = new ScriptRequest("home coffee roasting", "education", "en", 30, 4);
        var first = await _writer.WriteAsync(request, CancellationToken.None);
        var second = await _writer.WriteAsync(request, CancellationToken.None);
        Assert.Equal(first.FullNarration, second.FullNarration);
        Assert.Equal(4, first.Scenes.Count);
        Assert.Contains("#coffee", first.Hashtags);
    }

    [Theory]
    [InlineData("30s punchy headline + 3 beats", "today's top story")]
    [InlineData("Mars rover finds water, 45 seconds", "mars rover finds water")]
    public void TopicDropsProductionInstructions(string prompt, string topic) => Assert.Equal(topic, TemplateScriptWriter.Topic(prompt));
}
