using System.Net.Http.Json;
using System.Text;

namespace FentaWeb.Api.Tests;

public class WorkflowTests(WorkflowTests.Host host) : IClassFixture<WorkflowTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task SeedWorkflowIsCreatedAndEveryUpdateIsAVersion()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var created = await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("wf_", id);
        Assert.Equal((1, "draft"), (created.GetProperty("version").GetInt32(), created.GetProperty("status").GetString()));
        Assert.Equal(6, created.GetProperty("graph").GetProperty("nodes").GetArrayLength());

        var renamed = await (await client.PatchAsJsonAsync($"/v1/workflows/{id}", new { name = "Morning News", status = "production" })).ReadJsonAsync(200);
        Assert.Equal(2, renamed.GetProperty("version").GetInt32());
        var variables = await (await client.PatchAsJsonAsync($"/v1/workflows/{id}", new { variables = new { city = "Lisbon" } })).ReadJsonAsync(200);
        Assert.Equal("Lisbon", variables.GetProperty("variables").GetProperty("city").GetString());

        var versions = await (await client.GetAsync($"/v1/workflows/{id}/versions")).ReadJsonAsync(200);
        Assert.Equal([3, 2, 1], versions.GetProperty("data").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        var first = await (await client.GetAsync($"/v1/workflows/{id}/versions/1")).ReadJsonAsync(200);
        Assert.Equal("Daily News Shorts", first.GetProperty("name").GetString());
        Assert.Equal(["create", "update", "update"], await Actions(id));
    }

    [Fact]
    public async Task IfMatchGuardsAgainstLostUpdates()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var id = (await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201)).GetProperty("id").GetString();
        var get = await client.GetAsync($"/v1/workflows/{id}");
        Assert.Equal("\"1\"", get.Headers.ETag?.Tag);

        var stale = new HttpRequestMessage(HttpMethod.Patch, $"/v1/workflows/{id}") { Content = JsonContent.Create(new { name = "B" }) };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"7\"");
        await (await client.SendAsync(stale)).ReadProblemAsync(412, "PRECONDITION_FAILED");
        var fresh = new HttpRequestMessage(HttpMethod.Patch, $"/v1/workflows/{id}") { Content = JsonContent.Create(new { name = "B" }) };
        fresh.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        await (await client.SendAsync(fresh)).ReadJsonAsync(200);
    }

    [Fact]
    public async Task InvalidGraphIsRejectedAndNothingIsStored()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var body = new
        {
            name = "Broken",
            graph = new
            {
                nodes = new object[]
                {
                    new { id = "s", type = "Script.Generate", @params = new { prompt = "p", duration_seconds = 1000 } },
                    new { id = "v", type = "Voice.Magic" },
                    new { id = "t", type = "Edit.Timeline", @params = new { template_id = "tmpl_missing" } },
                },
                edges = new object[] { new { from = "s", to = "t", toPort = "media" } },
            },
        };
        var problem = await (await client.PostAsJsonAsync("/v1/workflows", body)).ReadProblemAsync(400, "VALIDATION_FAILED");
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "graph.nodes[0].params.duration_seconds" && e.GetProperty("node_id").GetString() == "s");
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "graph.nodes[1].type" && e.GetProperty("node_id").GetString() == "v");
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "graph.edges[0].toPort");
        Assert.Contains(errors, e => e.GetProperty("field").GetString() == "graph.nodes[2].inputs.media");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM workflows WHERE org_id = $1", session.OrgId));

        var missingTemplate = System.Text.Json.JsonSerializer.Serialize(Samples.Workflow()).Replace("tmpl_shorts_v1", "tmpl_missing");
        var response = await client.PostAsync("/v1/workflows", new StringContent(missingTemplate, Encoding.UTF8, "application/json"));
        Assert.Equal(["graph.nodes[4].params.template_id"], (await response.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task InvalidUpdateLosesNothingAlreadyStored()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var id = (await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201)).GetProperty("id").GetString();
        var bad = await client.PatchAsJsonAsync($"/v1/workflows/{id}", new { name = "New", graph = new { nodes = Array.Empty<object>(), edges = Array.Empty<object>() } });
        await bad.ReadProblemAsync(400, "VALIDATION_FAILED");
        var badStatus = await client.PatchAsJsonAsync($"/v1/workflows/{id}", new { status = "live", variables = new[] { 1 } });
        Assert.Equal(["status", "variables"], (await badStatus.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields().Order());

        var stored = await (await client.GetAsync($"/v1/workflows/{id}")).ReadJsonAsync(200);
        Assert.Equal(("Daily News Shorts", 1, 6), (stored.GetProperty("name").GetString(), stored.GetProperty("version").GetInt32(),
            stored.GetProperty("graph").GetProperty("nodes").GetArrayLength()));
    }

    [Fact]
    public async Task DeletedWorkflowIsGone()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var id = (await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201)).GetProperty("id").GetString();
        await (await client.DeleteAsync($"/v1/workflows/{id}")).ReadJsonAsync(204);
        await (await client.GetAsync($"/v1/workflows/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.DeleteAsync($"/v1/workflows/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Contains("delete", await Actions(id!));
    }

    [Fact]
    public async Task NodeCatalogIsPublishedForClients()
    {
        var session = await host.RegisterAsync();
        var catalog = await (await session.Client().GetAsync("/v1/nodes")).ReadJsonAsync(200);
        Assert.Equal(16, catalog.GetArrayLength());
        var tts = catalog.EnumerateArray().Single(n => n.GetProperty("type").GetString() == "Voice.TTS");
        var speed = tts.GetProperty("params").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "speed");
        Assert.Equal(("number", 0.5, 2.0, 1.0), (speed.GetProperty("kind").GetString(), speed.GetProperty("min").GetDouble(),
            speed.GetProperty("max").GetDouble(), speed.GetProperty("default").GetDouble()));
        Assert.Equal("Script", tts.GetProperty("inputs")[0].GetProperty("type").GetString());
        var video = catalog.EnumerateArray().Single(n => n.GetProperty("type").GetString() == "Input.KAI.GenerateVideo");
        // Input images first (image-to-video), else a script's scenes.
        Assert.Equal(["media", "script"], video.GetProperty("fan_out_ports").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("render", catalog.EnumerateArray().Single(n => n.GetProperty("type").GetString() == "Output.Render").GetProperty("queue").GetString());
    }

    [Fact]
    public async Task VoicesListEspeakLanguagesAndOpenAiVoices()
    {
        var session = await host.RegisterAsync();
        var providers = await (await session.Client().GetAsync("/v1/voices")).ReadJsonAsync(200);
        var espeak = providers.EnumerateArray().Single(p => p.GetProperty("provider").GetString() == "espeak");
        Assert.True(espeak.GetProperty("configured").GetBoolean());
        Assert.Contains("en-us", espeak.GetProperty("voices").EnumerateArray().Select(v => v.GetString()));
        var openai = providers.EnumerateArray().Single(p => p.GetProperty("provider").GetString() == "openai");
        Assert.False(openai.GetProperty("configured").GetBoolean());
        Assert.Contains("alloy", openai.GetProperty("voices").EnumerateArray().Select(v => v.GetString()));
        // Its voices have no samples here: a paid service is asked only where it is configured.
        var sample = await (await session.Client().GetAsync("/v1/voices/openai/alloy/sample")).ReadProblemAsync(409, "TTS_NOT_CONFIGURED");
        Assert.Contains("FENTA_TTS_BASE_URL", sample.GetProperty("detail").GetString());
        // ElevenLabs is spoken through KIE: listed, but without FENTA_KIE_API_KEY neither configured nor sampled.
        var elevenLabs = providers.EnumerateArray().Single(p => p.GetProperty("provider").GetString() == "elevenlabs");
        Assert.False(elevenLabs.GetProperty("configured").GetBoolean());
        Assert.Contains("FENTA_KIE_API_KEY", elevenLabs.GetProperty("notes").GetString());
        var kieSample = await (await session.Client().GetAsync("/v1/voices/elevenlabs/rachel/sample")).ReadProblemAsync(409, "TTS_NOT_CONFIGURED");
        Assert.Contains("FENTA_KIE_API_KEY", kieSample.GetProperty("detail").GetString());
    }

    private Task<List<string>> Actions(string id) => host.StringsAsync(
        "SELECT action FROM audit_logs WHERE resource_type = 'workflow' AND resource_id = $1 ORDER BY created_at, action", id);
}
