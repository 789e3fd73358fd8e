using System.Net.Http.Json;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>The product's documentation (seed 002) shows sample bodies; they are accepted as published.</summary>
public class DocumentedSampleTests(DocumentedSampleTests.Host host) : IClassFixture<DocumentedSampleTests.Host>
{
    public sealed class Host : ApiHost;

    /// <summary>Seed 002, "Sample Template Spec", verbatim.</summary>
    private const string SampleTemplate = """
        {
          "id": "tmpl_shorts_v1",
          "name": "Shorts Clean Bold",
          "aspect": "9:16",
          "resolution": "1080x1920",
          "spec": {
            "tracks": [
              {"type": "video", "id": "main", "z": 0},
              {
                "type": "subtitle",
                "id": "subs",
                "z": 10,
                "style": {
                  "font": "Inter",
                  "size": 44,
                  "shadow": true,
                  "bg": "box",
                  "position": "bottom",
                  "margin": 120
                }
              },
              {"type": "overlay", "id": "top_text", "z": 20}
            ],
            "overlays": [
              {
                "track": "top_text",
                "from": 0,
                "to": 3,
                "content": {
                  "type": "text",
                  "text": "BREAKING STORY",
                  "pos": "top",
                  "anim": "slide-down"
                }
              }
            ],
            "placeholders": {
              "cover": "image",
              "logo": "image_optional",
              "music": "audio_optional"
            },
            "rules": {
              "cuts": "auto_by_beats_or_speech",
              "min_scene": 1.2,
              "max_scene": 4.0
            },
            "subtitle_style_presets": ["karaoke_bounce", "clean_box"]
          }
        }
        """;

    /// <summary>Seed 002, "Sample Workflow Graph", verbatim.</summary>
    private const string SampleWorkflow = """
        {
          "id": "wf_daily_news_01",
          "name": "Daily News Shorts",
          "graph": {
            "nodes": [
              {
                "id": "n1",
                "type": "Input.Stock",
                "params": {
                  "provider": "pexels",
                  "query": "breaking news city"
                },
                "position": {"x": 100, "y": 100}
              },
              {
                "id": "n2",
                "type": "Script.Generate",
                "params": {
                  "genre": "news",
                  "lang": "en",
                  "prompt": "30s punchy headline + 3 beats"
                },
                "position": {"x": 100, "y": 250}
              },
              {
                "id": "n3",
                "type": "Voice.TTS",
                "params": {
                  "voice": "alloy_en",
                  "speed": 1.02
                },
                "position": {"x": 100, "y": 400}
              },
              {
                "id": "n4",
                "type": "Subtitle.Auto",
                "params": {
                  "style": "clean_box"
                },
                "position": {"x": 300, "y": 400}
              },
              {
                "id": "n5",
                "type": "Edit.Timeline",
                "params": {
                  "template_id": "tmpl_shorts_v1"
                },
                "position": {"x": 500, "y": 300}
              },
              {
                "id": "n6",
                "type": "Output.Render",
                "params": {
                  "profile": "9x16_1080p"
                },
                "position": {"x": 700, "y": 300}
              }
            ],
            "edges": [
              {"id": "e1", "from": "n1", "to": "n5"},
              {"id": "e2", "from": "n2", "to": "n3"},
              {"id": "e3", "from": "n3", "to": "n4"},
              {"id": "e4", "from": "n4", "to": "n5"},
              {"id": "e5", "from": "n5", "to": "n6"}
            ]
          }
        }
        """;

    private static StringContent Json(string body) => new(body, System.Text.Encoding.UTF8, "application/json");

    [Fact]
    public async Task TheSampleTemplateAndWorkflowAreAcceptedWithTheirReadOnlyIdsIgnored()
    {
        var client = (await host.RegisterAsync()).Client();
        var template = await (await client.PostAsync("/v1/templates", Json(SampleTemplate))).ReadJsonAsync(201);
        Assert.NotEqual("tmpl_shorts_v1", template.GetProperty("id").GetString()); // the server names it
        Assert.Equal(("Shorts Clean Bold", "9:16", "1080x1920"),
            (template.GetProperty("name").GetString(), template.GetProperty("aspect").GetString(), template.GetProperty("resolution").GetString()));
        Assert.Equal("BREAKING STORY", template.GetProperty("spec").GetProperty("overlays")[0].GetProperty("content").GetProperty("text").GetString());

        var workflow = await (await client.PostAsync("/v1/workflows", Json(SampleWorkflow))).ReadJsonAsync(201);
        var workflowId = workflow.GetProperty("id").GetString()!;
        Assert.NotEqual("wf_daily_news_01", workflowId);
        Assert.Equal(6, workflow.GetProperty("graph").GetProperty("nodes").GetArrayLength());
        Assert.Equal(5, workflow.GetProperty("graph").GetProperty("edges").GetArrayLength());
    }

    [Fact]
    public async Task AFetchedResourceCanBeSentBackWholeButNotUnderAnotherIdAndUndocumentedFieldsAreStillRefused()
    {
        var client = (await host.RegisterAsync()).Client();
        var created = await (await client.PostAsync("/v1/workflows", Json(SampleWorkflow))).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        var fetched = await (await client.GetAsync($"/v1/workflows/{id}")).ReadJsonAsync(200);

        // Everything the GET returned (version, run_count, timestamps …) goes back; only the name changes.
        var edited = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(fetched.GetRawText())!;
        edited["name"] = JsonSerializer.SerializeToElement("Daily News Shorts, edited");
        var saved = await (await client.PatchAsJsonAsync($"/v1/workflows/{id}", edited)).ReadJsonAsync(200);
        Assert.Equal(("Daily News Shorts, edited", 2), (saved.GetProperty("name").GetString(), saved.GetProperty("version").GetInt32()));

        edited["id"] = JsonSerializer.SerializeToElement("wf_someone_else");
        var moved = await (await client.PatchAsJsonAsync($"/v1/workflows/{id}", edited)).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["id"], moved.Fields());
        Assert.Equal("Daily News Shorts, edited", (await (await client.GetAsync($"/v1/workflows/{id}")).ReadJsonAsync(200)).GetProperty("name").GetString());

        var unknown = await (await client.PostAsync("/v1/templates", Json(SampleTemplate.Replace("\"aspect\"", "\"colour\": \"red\",\n  \"aspect\"")))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["colour"], unknown.Fields());
    }
}
