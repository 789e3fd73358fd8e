namespace FentaWeb.Api.Tests;

public static class Samples
{
    /// <summary>Seed 002's "Daily News Shorts" graph, as the seed writes it.</summary>
    public static object DailyNewsGraph() => new
    {
        nodes = new object[]
        {
            new { id = "n1", type = "Input.Stock", @params = new { provider = "pexels", query = "breaking news city" }, position = new { x = 100, y = 100 } },
            new { id = "n2", type = "Script.Generate", @params = new { genre = "news", lang = "en", prompt = "30s punchy headline + 3 beats" }, position = new { x = 100, y = 250 } },
            new { id = "n3", type = "Voice.TTS", @params = new { voice = "alloy_en", speed = 1.02 }, position = new { x = 100, y = 400 } },
            new { id = "n4", type = "Subtitle.Auto", @params = new { style = "clean_box" }, position = new { x = 300, y = 400 } },
            new { id = "n5", type = "Edit.Timeline", @params = new { template_id = "tmpl_shorts_v1" }, position = new { x = 500, y = 300 } },
            new { id = "n6", type = "Output.Render", @params = new { profile = "9x16_1080p" }, position = new { x = 700, y = 300 } },
        },
        edges = new object[]
        {
            new { id = "e1", from = "n1", to = "n5" },
            new { id = "e2", from = "n2", to = "n3" },
            new { id = "e3", from = "n3", to = "n4" },
            new { id = "e4", from = "n4", to = "n5" },
            new { id = "e5", from = "n5", to = "n6" },
        },
    };

    public static object Workflow(string name = "Daily News Shorts") => new { name, graph = DailyNewsGraph() };

    public static object Template(string name = "My vertical") => new
    {
        name,
        aspect = "9:16",
        resolution = "720x1280",
        spec = new
        {
            tracks = new object[] { new { type = "video", id = "main", z = 0 }, new { type = "subtitle", id = "subs", z = 10, style = new { size = 40, bg = "box" } } },
            rules = new { cuts = "by_speech", min_scene = 1.5, max_scene = 3.5 },
            subtitle_style_presets = new[] { "clean_box" },
        },
    };
}
