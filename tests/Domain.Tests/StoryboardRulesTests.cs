using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Storyboards;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Tests;

public class StoryboardRulesTests
{
    private static Storyboard Board(params string[] statuses) => new()
    {
        Id = "sb_1", OrgId = "org_1", Title = "t", Description = "", Status = StoryboardStatus.Ready,
        Settings = new StoryboardSettings(null, statuses.Length, "9:16", null, "flux-kontext-pro", "local", "en"),
        Scenes = [.. statuses.Select((s, i) => new StoryboardScene($"scene-{i + 1}", $"Line {i + 1}.", $"Picture {i + 1}", 3, s, $"ast_{i + 1}"))],
    };

    [Fact]
    public void AGivenScriptNeedsNoPromptAndIsCheckedSceneBySceneAndEstimatedFromItsWords()
    {
        GraphValidator.Validate(Graphs.Parse("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"script": {"title": "T", "scenes": [{"narration": "One two three."}]}}}], "edges": []}"""));
        var errors = Graphs.Errors("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"script": {"scenes": [{"narration": " "}, {"visual_prompt": "x"}]}}}], "edges": []}""");
        Assert.Equal(["graph.nodes[0].params.script.scenes[0].narration", "graph.nodes[0].params.script.scenes[1].narration"], errors.Select(e => e.Field));
        Assert.Equal(["graph.nodes[0].params.script.scenes"],
            Graphs.Errors("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"script": {"scenes": []}}}], "edges": []}""").Select(e => e.Field));

        var graph = JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"script": {"scenes": [{"narration": "a b c d e"}, {"narration": "f g h i j"}]}}},
                       {"id": "g", "type": "Input.KAI.GenerateImage", "params": {"provider": "kie", "model": "gpt-4o-image"}}],
             "edges": [{"from": "s", "to": "g"}]}
            """, FentaJson.Options)!;
        var estimate = Estimates.For(graph, Plan.For("starter"), new PaidProviders(Llm: true, Kie: true, OpenAiSpeech: false));
        Assert.Equal(2, estimate.Nodes.Single(n => n.NodeId == "g").Items);
        Assert.Equal(0, estimate.Nodes.Single(n => n.NodeId == "s").Tokens); // passed through: no LLM
    }

    [Fact]
    public void TextBecomesScenesByParagraphOrBySentencesSharedOut()
    {
        Assert.Equal(["A b.", "C d. E."], Storyboard.ScenesOfText("A b.\n\n  C d.\nE.", null));
        Assert.Equal(["One. Two.", "Three."], Storyboard.ScenesOfText("One. Two. Three.", 2));
        Assert.Equal(["One.", "Two.", "Three."], Storyboard.ScenesOfText("One. Two. Three.", null));
        Assert.Equal(["Only one."], Storyboard.ScenesOfText("Only one.", 4));
    }

    [Fact]
    public void ScenesMoveAndAreReorderedButNotWhileBusy()
    {
        var board = Board("ready", "ready", "ready");
        board.EditScene(3, null, null, null, moveTo: 1);
        Assert.Equal(["scene-3", "scene-1", "scene-2"], board.Scenes.Select(s => s.Id));
        board.Reorder(["scene-1", "scene-2", "scene-3"]);
        Assert.Equal(["scene-1", "scene-2", "scene-3"], board.Scenes.Select(s => s.Id));
        Assert.Equal("scene_order", Assert.Throws<ValidationFailedException>(() => board.Reorder(["scene-1", "scene-1", "scene-3"])).Errors.Single().Field);
        Assert.Throws<NotFoundException>(() => board.EditScene(4, "x", null, null, null));

        var drawing = Board("ready", "generating");
        Assert.Equal("SCENE_BUSY", Assert.Throws<ConflictException>(() => drawing.EditScene(2, "x", null, null, null)).Code);
        drawing.EditScene(1, "Fine.", null, 5, null);
        Assert.Equal("SCENES_NOT_READY", Assert.Throws<ConflictException>(drawing.EnsureRenderable).Code);
        var rendering = Board("ready");
        rendering.StartRender("job_1");
        Assert.Equal("STORYBOARD_BUSY", Assert.Throws<ConflictException>(() => rendering.EditScene(1, "x", null, null, null)).Code);
        Assert.Equal("LAST_SCENE", Assert.Throws<ConflictException>(() => Board("ready").RemoveScene(1)).Code);
    }
}
