using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Domain.Tests;

/// <summary>Graph JSON in the shapes the tests need, parsed the way the API parses it.</summary>
public static class Graphs
{
    /// <summary>Seed 002's "Daily News Shorts" graph, exactly as the seed writes it.</summary>
    public const string DailyNewsShorts = """
    {
      "nodes": [
        {"id": "n1", "type": "Input.Stock", "params": {"provider": "pexels", "query": "breaking news city"}, "position": {"x": 100, "y": 100}},
        {"id": "n2", "type": "Script.Generate", "params": {"genre": "news", "lang": "en", "prompt": "30s punchy headline + 3 beats"}, "position": {"x": 100, "y": 250}},
        {"id": "n3", "type": "Voice.TTS", "params": {"voice": "alloy_en", "speed": 1.02}, "position": {"x": 100, "y": 400}},
        {"id": "n4", "type": "Subtitle.Auto", "params": {"style": "clean_box"}, "position": {"x": 300, "y": 400}},
        {"id": "n5", "type": "Edit.Timeline", "params": {"template_id": "tmpl_shorts_v1"}, "position": {"x": 500, "y": 300}},
        {"id": "n6", "type": "Output.Render", "params": {"profile": "9x16_1080p"}, "position": {"x": 700, "y": 300}}
      ],
      "edges": [
        {"id": "e1", "from": "n1", "to": "n5"},
        {"id": "e2", "from": "n2", "to": "n3"},
        {"id": "e3", "from": "n3", "to": "n4"},
        {"id": "e4", "from": "n4", "to": "n5"},
        {"id": "e5", "from": "n5", "to": "n6"}
      ]
    }
    """;

    public static WorkflowGraph Parse(string json) => JsonSerializer.Deserialize<WorkflowGraph>(json, FentaJson.Options)!;

    public static IReadOnlyList<FieldError> Errors(string json) => Errors(Parse(json));

    public static IReadOnlyList<FieldError> Errors(WorkflowGraph graph)
    {
        var failure = Assert.Throws<ValidationFailedException>(() => GraphValidator.Validate(graph));
        return failure.Errors;
    }
}
