using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Tests;

public class GraphValidatorTests
{
    [Fact]
    public void SeedDailyNewsShortsValidatesAsWrittenWithInferredPorts()
    {
        var validated = GraphValidator.Validate(Graphs.Parse(Graphs.DailyNewsShorts));

        Assert.Equal(
            ["e1 n1.media->n5.media", "e2 n2.script->n3.script", "e3 n3.audio->n4.audio", "e4 n4.subtitles->n5.subtitles", "e5 n5.timeline->n6.timeline"],
            validated.Edges.Select(e => $"{e.Id} {e.From}.{e.FromPort}->{e.To}.{e.ToPort}"));
        Assert.Equal(["n1", "n2", "n3", "n4", "n5", "n6"], validated.TopologicalOrder);
        var reference = Assert.Single(validated.References);
        Assert.Equal((ParamReference.Template, "tmpl_shorts_v1", "graph.nodes[4].params.template_id"), (reference.Kind, reference.Id, reference.Field));
    }

    [Fact]
    public void StockPicksStandInForAQueryAndMustBeStockSearchIds()
    {
        Assert.Single(GraphValidator.Validate(Graphs.Parse("""{"nodes": [{"id": "st", "type": "Input.Stock", "params": {"stock_ids": ["pexels:1002", "local:stock-01.mp4"]}}], "edges": []}""")).TopologicalOrder);
        var errors = Graphs.Errors("""{"nodes": [{"id": "st", "type": "Input.Stock", "params": {"stock_ids": ["pexels:abc", "https://example.com/clip.mp4"]}}], "edges": []}""");
        Assert.Equal(["graph.nodes[0].params.stock_ids[0]", "graph.nodes[0].params.stock_ids[1]"], errors.Select(e => e.Field).Order());
        Assert.Contains("graph.nodes[0].params.query", Graphs.Errors("""{"nodes": [{"id": "st", "type": "Input.Stock", "params": {}}], "edges": []}""").Select(e => e.Field));
    }

    [Fact]
    public void EveryNodeTypeOfTheSeedIsInTheCatalog()
    {
        string[] seedTypes =
        [
            "Input.Upload", "Input.Stock", "Input.KAI.GenerateImage", "Input.KAI.GenerateVideo", "Input.KAI.EditVideo",
            "Script.Generate", "Script.Transform", "Voice.TTS", "Audio.Mix", "Subtitle.Auto", "Edit.Timeline",
            "Output.Render", "Output.Download", "Schedule.Cron",
            // Seed 003's publishing, as a node.
            "Output.Publish",
            // Issue 29's music (Suno), for Audio.Mix's music input.
            "Input.KAI.GenerateMusic",
        ];
        Assert.Equal(seedTypes.Order(), NodeCatalog.All.Select(d => d.Type).Order());
    }

    [Fact]
    public void CycleIsRejectedNamingTheNodesOnIt()
    {
        var errors = Graphs.Errors("""
        {"nodes": [
            {"id": "a", "type": "Script.Generate", "params": {"prompt": "x"}},
            {"id": "t1", "type": "Script.Transform", "params": {"operation": "compress"}},
            {"id": "t2", "type": "Script.Transform", "params": {"operation": "compress"}}],
         "edges": [{"from": "a", "to": "t1"}, {"from": "t1", "to": "t2"}, {"from": "t2", "to": "t1", "toPort": "script"}]}
        """);
        var cycle = Assert.Single(errors, e => e.Field == "graph.edges" && e.Message.Contains("cycle"));
        Assert.Contains("t1", cycle.Message);
        Assert.Contains("t2", cycle.Message);
        Assert.DoesNotContain("a,", cycle.Message);
    }

    [Fact]
    public void UnknownNodeTypeIsNamedWithItsNode()
    {
        var error = Assert.Single(Graphs.Errors("""{"nodes": [{"id": "x1", "type": "Input.Magic"}], "edges": []}"""));
        Assert.Equal(("graph.nodes[0].type", "x1"), (error.Field, error.NodeId));
        Assert.Contains("unknown node type 'Input.Magic'", error.Message);
    }

    [Fact]
    public void UnknownAndOutOfRangeParamsAreEachReported()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p", "duration_seconds": 900, "genre": "opera", "colour": "red", "lang": 5}}],
         "edges": []}
        """);
        Assert.Equal(
            ["graph.nodes[0].params.colour", "graph.nodes[0].params.duration_seconds", "graph.nodes[0].params.genre", "graph.nodes[0].params.lang"],
            errors.Select(e => e.Field).Order());
        Assert.All(errors, e => Assert.Equal("s", e.NodeId));
        Assert.Contains("between 5 and 180", errors.Single(e => e.Field.EndsWith("duration_seconds")).Message);
    }

    [Fact]
    public void MissingRequiredParamAndRequiredInputAreReported()
    {
        var errors = Graphs.Errors("""{"nodes": [{"id": "tts", "type": "Voice.TTS"}, {"id": "gen", "type": "Script.Generate"}], "edges": []}""");
        Assert.Contains(errors, e => e.Field == "graph.nodes[0].inputs.script" && e.NodeId == "tts");
        Assert.Contains(errors, e => e.Field == "graph.nodes[1].params.prompt" && e.Message == "is required");
    }

    [Fact]
    public void EdgeBetweenIncompatiblePortsIsRejected()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "r", "type": "Output.Render"}],
         "edges": [{"id": "bad", "from": "s", "to": "r"}]}
        """);
        Assert.Contains(errors, e => e.Field == "graph.edges[0]" && e.Message.StartsWith("no output of 's'"));
    }

    [Fact]
    public void ExplicitPortOfTheWrongTypeIsRejectedOnThatPort()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "t", "type": "Edit.Timeline"},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "q"}}],
         "edges": [{"from": "s", "to": "t", "fromPort": "script", "toPort": "media"}, {"from": "st", "to": "t"}]}
        """);
        Assert.Contains(errors, e => e.Field == "graph.edges[0].toPort");
    }

    [Fact]
    public void UnknownPortNameIsRejected()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "v", "type": "Voice.TTS"}],
         "edges": [{"from": "s", "to": "v", "fromPort": "text"}]}
        """);
        Assert.Contains(errors, e => e.Field == "graph.edges[0].fromPort" && e.Message.Contains("no output 'text'"));
    }

    [Fact]
    public void EdgeWithTwoPossiblePortPairsIsAmbiguous()
    {
        // Audio.Mix has two Audio inputs (voice, music): an Audio edge without toPort could mean either.
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "v", "type": "Voice.TTS"}, {"id": "m", "type": "Audio.Mix"}],
         "edges": [{"from": "s", "to": "v"}, {"from": "v", "to": "m"}]}
        """);
        var ambiguous = Assert.Single(errors, e => e.Field == "graph.edges[1]");
        Assert.Contains("ambiguous", ambiguous.Message);
        Assert.Contains("audio -> voice", ambiguous.Message);
        Assert.Contains("audio -> music", ambiguous.Message);
    }

    [Fact]
    public void AmbiguityIsResolvedByNamingThePort()
    {
        var validated = GraphValidator.Validate(Graphs.Parse("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "v", "type": "Voice.TTS"}, {"id": "m", "type": "Audio.Mix"}],
         "edges": [{"from": "s", "to": "v"}, {"from": "v", "to": "m", "toPort": "voice"}]}
        """));
        Assert.Equal("voice", validated.Edges[1].ToPort);
    }

    [Fact]
    public void EdgesToMissingNodesAndSelfLoopsAreRejected()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "t", "type": "Script.Transform", "params": {"operation": "compress"}}],
         "edges": [{"from": "ghost", "to": "t"}, {"from": "t", "to": "t"}]}
        """);
        Assert.Contains(errors, e => e.Field == "graph.edges[0].from" && e.Message.Contains("ghost"));
        Assert.Contains(errors, e => e.Field == "graph.edges[1]" && e.Message.Contains("cannot feed itself"));
    }

    [Fact]
    public void DuplicateNodeIdsAndBadIdsAreRejected()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "a", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "a", "type": "Script.Generate", "params": {"prompt": "p"}},
                   {"id": "has space", "type": "Script.Generate", "params": {"prompt": "p"}}],
         "edges": []}
        """);
        Assert.Contains(errors, e => e.Field == "graph.nodes[1].id" && e.Message.Contains("duplicate"));
        Assert.Contains(errors, e => e.Field == "graph.nodes[2].id");
    }

    [Fact]
    public void SingleInputFedTwiceIsRejectedButMediaFansIn()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "s1", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "s2", "type": "Script.Generate", "params": {"prompt": "q"}},
                   {"id": "v", "type": "Voice.TTS"}],
         "edges": [{"from": "s1", "to": "v"}, {"from": "s2", "to": "v"}]}
        """);
        Assert.Contains(errors, e => e.Field == "graph.nodes[2].inputs.script" && e.Message.Contains("accepts one edge"));

        // AI Story (seed 000): three generated clips all feed the timeline's media input.
        var story = GraphValidator.Validate(Graphs.Parse("""
        {"nodes": [{"id": "c1", "type": "Input.KAI.GenerateVideo", "params": {"prompt": "a"}}, {"id": "c2", "type": "Input.KAI.GenerateVideo", "params": {"prompt": "b"}},
                   {"id": "c3", "type": "Input.KAI.GenerateVideo", "params": {"prompt": "c"}}, {"id": "t", "type": "Edit.Timeline"}, {"id": "r", "type": "Output.Render"}],
         "edges": [{"from": "c1", "to": "t"}, {"from": "c2", "to": "t"}, {"from": "c3", "to": "t"}, {"from": "t", "to": "r"}]}
        """));
        Assert.Equal(3, story.Edges.Count(e => e.To == "t" && e.ToPort == "media"));
    }

    [Fact]
    public void AGenerationFansOutOverItsImagesWhenConnectedElseOverTheScript()
    {
        var chain = CompiledGraph.Compile(Graphs.Parse("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "i", "type": "Input.KAI.GenerateImage"},
                   {"id": "v", "type": "Input.KAI.GenerateVideo", "params": {"model": "kling-2.6-image-to-video"}}, {"id": "u", "type": "Input.KAI.GenerateVideo"},
                   {"id": "m", "type": "Input.KAI.GenerateMusic", "params": {"prompt": "calm"}}],
         "edges": [{"from": "s", "to": "i"}, {"from": "s", "to": "v"}, {"from": "i", "to": "v"}, {"from": "s", "to": "u"}]}
        """));
        Assert.Equal(("script", "media", "script", null), (chain.Nodes["i"].FanOutPort, chain.Nodes["v"].FanOutPort, chain.Nodes["u"].FanOutPort, chain.Nodes["m"].FanOutPort));
        Assert.False(chain.Nodes["m"].FansOut);
    }

    [Fact]
    public void WhichModelsTakeImagesIsTheRegistrysAndEveryModelThatNeedsAnInputHasAParamForIt()
    {
        Assert.All(Models.ModelRegistry.All.Where(m => m.NeedsInput), m => Assert.NotNull(m.Takes));
        Assert.Equal("video", Models.ModelRegistry.Find("runway-aleph")!.Takes);
        Assert.Null(Models.ModelRegistry.Find("kling-2.6-text-to-video")!.Takes);
        var errors = Graphs.Errors("""{"nodes": [{"id": "g", "type": "Input.KAI.GenerateImage", "params": {"prompt": "p", "model": "nano-banana-edit"}}], "edges": []}""");
        Assert.Contains(errors, e => e.Field == "graph.nodes[0].params.model" && e.Message.StartsWith("nano-banana-edit (image_editing) needs an input image", StringComparison.Ordinal));
    }

    [Fact]
    public void NodeRulesNeedEitherAPromptOrAConnectedScript()
    {
        var errors = Graphs.Errors("""{"nodes": [{"id": "g", "type": "Input.KAI.GenerateImage"}], "edges": []}""");
        Assert.Contains(errors, e => e.Field == "graph.nodes[0].params.prompt" && e.Message.Contains("unless a script is connected"));

        GraphValidator.Validate(Graphs.Parse("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "p"}}, {"id": "g", "type": "Input.KAI.GenerateImage"}],
         "edges": [{"from": "s", "to": "g"}]}
        """));
    }

    [Fact]
    public void ScheduleCronExpressionAndTimeZoneAreChecked()
    {
        var errors = Graphs.Errors("""
        {"nodes": [{"id": "c", "type": "Schedule.Cron", "params": {"cron": "61 * * * *"}},
                   {"id": "d", "type": "Schedule.Cron", "params": {"cron": "0 10 * * *", "timezone": "Mars/Olympus"}}],
         "edges": []}
        """);
        Assert.Contains(errors, e => e.Field == "graph.nodes[0].params.cron");
        Assert.Contains(errors, e => e.Field == "graph.nodes[1].params.timezone");
        Assert.Contains(errors, e => e.Field == "graph.nodes" && e.Message.Contains("at most one Schedule.Cron"));
    }

    [Fact]
    public void EmptyGraphIsRejected()
    {
        var error = Assert.Single(Graphs.Errors("""{"nodes": [], "edges": []}"""));
        Assert.Equal("graph.nodes", error.Field);
    }

    [Fact]
    public void DefaultsFillParamsTheUserLeftOut()
    {
        var graph = Graphs.Parse(Graphs.DailyNewsShorts);
        var tts = graph.Nodes.Single(n => n.Id == "n3");
        var effective = GraphValidator.EffectiveParams(tts, NodeCatalog.Find("Voice.TTS")!);
        Assert.Equal(1.02, effective["speed"].GetDouble());
        Assert.Equal("auto", effective["provider"].GetString());
        Assert.False(effective.ContainsKey("lang"));
    }
}
