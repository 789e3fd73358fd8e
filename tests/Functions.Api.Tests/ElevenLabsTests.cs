using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// ElevenLabs speech through KIE.ai (Voice.TTS provider 'elevenlabs') over HTTP with the real activities and renderer
/// against the KIE simulator, which speaks each task's text with espeak-ng: one task per sentence with the voice asked
/// for, the narration rendered with its subtitles, one generation row metered at the registry's price of the characters
/// spoken, an estimate that counts it, a refused voice and a failed task that cost nothing, and the voice picker.
/// </summary>
public class ElevenLabsTests(ElevenLabsTests.Host host) : IClassFixture<ElevenLabsTests.Host>
{
    public sealed class Host : KieHost
    {
        protected override bool RunsRenderer => true;
    }

    private const string Model = "elevenlabs-tts-multilingual-v2";

    // Two scenes of two sentences, 22 words and 121 characters of speech.
    private static readonly object Script = new
    {
        title = "Harbour",
        scenes = new object[]
        {
            new { narration = "The harbour wakes before dawn. Gulls circle the little boats.", visual_prompt = "harbour at dawn" },
            new { narration = "By noon the fish market is loud. Everyone goes home with supper.", visual_prompt = "fish market" },
        },
    };

    private static object Graph(string voice, bool render) => new
    {
        nodes = render
            ? new object[]
            {
                new { id = "script", type = "Script.Generate", @params = new { script = Script } },
                new { id = "voice", type = "Voice.TTS", @params = new { provider = "elevenlabs", voice } },
                new { id = "stock", type = "Input.Stock", @params = new { provider = "local", query = "harbour", count = 2 } },
                new { id = "subtitles", type = "Subtitle.Auto", @params = new { style = "clean_box" } },
                new { id = "timeline", type = "Edit.Timeline", @params = new { transition = "cut" } },
                new { id = "render", type = "Output.Render", @params = new { profile = "9x16_720p", quality = "draft" } },
            }
            : new object[]
            {
                new { id = "script", type = "Script.Generate", @params = new { script = Script } },
                new { id = "voice", type = "Voice.TTS", @params = new { provider = "elevenlabs", voice } },
            },
        edges = render
            ? new object[]
            {
                new { from = "script", to = "voice" }, new { from = "voice", to = "subtitles" }, new { from = "stock", to = "timeline" },
                new { from = "subtitles", to = "timeline" }, new { from = "timeline", to = "render" },
            }
            : new object[] { new { from = "script", to = "voice" } },
    };

    private async Task<HttpClient> PaidClientAsync()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        return session.Client();
    }

    private static async Task<JsonElement> RunAsync(HttpClient client, object graph, int seconds = 240)
    {
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        return await client.JobEndedAsync(jobId, TimeSpan.FromSeconds(seconds));
    }

    private List<KieSimulator.SimTask> SpeechTasksSince(DateTimeOffset since) =>
        [.. host.Kie.Tasks.Values.Where(t => t.Model == KieSimulator.SpeechModel && t.Created >= since).OrderBy(t => t.Created)];

    [Fact]
    public async Task ANarrationSpokenSentenceBySentenceOnKieIsRenderedAndMeteredAtTheRegistrysPriceOfItsCharacters()
    {
        var client = await PaidClientAsync();
        var model = Assert.Single((await (await client.GetAsync("/v1/models?content_type=text_to_speech")).ReadJsonAsync(200)).EnumerateArray());
        Assert.Equal((Model, "audio", 12), (model.GetProperty("id").GetString(), model.GetProperty("output").GetString(), model.GetProperty("base_credits").GetInt32()));

        var estimate = await (await client.PostAsJsonAsync("/v1/jobs/estimate", new { graph = Graph("aria", render: true) })).ReadJsonAsync(200);
        var estimated = estimate.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "voice").GetProperty("kai_credits").GetInt32();

        var since = DateTimeOffset.UtcNow;
        var job = await RunAsync(client, Graph("aria", render: true));
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());
        var jobId = job.GetProperty("id").GetString()!;

        // One KIE task per sentence the narration has, with its text and the voice in KIE's spelling.
        var sentences = await host.StringsAsync("""
            SELECT s->>'text' FROM node_runs n CROSS JOIN LATERAL jsonb_array_elements(n.output->'sentences') s
            WHERE n.job_id = $1 AND n.node_id = 'voice' ORDER BY (s->>'start')::numeric
            """, jobId);
        var tasks = SpeechTasksSince(since);
        Assert.Equal(4, sentences.Count);
        Assert.Equal(sentences.Order(), tasks.Select(t => t.Body.GetProperty("input").GetProperty("text").GetString()!).Order());
        Assert.All(tasks, t => Assert.Equal("Aria", t.Body.GetProperty("input").GetProperty("voice").GetString()));
        Assert.Equal("elevenlabs", (string?)await host.ScalarAsync("SELECT output->>'provider' FROM node_runs WHERE job_id = $1 AND node_id = 'voice'", jobId));
        // Real speech: the narration lasts what four spoken sentences last, and the render carries it.
        var seconds = Convert.ToDouble(await host.ScalarAsync("SELECT (output->>'duration_seconds')::float8 FROM node_runs WHERE job_id = $1 AND node_id = 'voice'", jobId));
        Assert.InRange(seconds, 4, 20);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM assets WHERE job_id = $1 AND node_id = 'render' AND content_type = 'video/mp4'", jobId));

        // Priced per 1,000 characters of what was spoken, once for the narration: the job, its generation row and its usage record agree.
        var characters = sentences.Sum(s => s.Length);
        var credits = (int)Math.Ceiling(characters * 12 / 1000.0);
        Assert.Equal(2, credits);
        Assert.Equal(credits, job.GetProperty("cost_kai_credits").GetInt32());
        Assert.Equal($"kie|audio|completed|{credits}|{Model}", (string?)await host.ScalarAsync(
            "SELECT provider || '|' || type || '|' || status || '|' || credits_used || '|' || model FROM kai_generations WHERE job_id = $1 AND node_id = 'voice'", jobId));
        Assert.Equal($"{credits}|{Model}", (string?)await host.ScalarAsync(
            "SELECT kai_credits || '|' || kai_model FROM usage_records WHERE job_id = $1 AND resource_type = 'kai_credits'", jobId));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE job_id = $1", jobId));
        // The estimate counted the same credits from the script's words.
        Assert.Equal(credits, estimated);
    }

    [Fact]
    public async Task AVoiceElevenLabsDoesNotHaveIsRefusedAndAFailedTaskFailsTheNodeWithAClearCodeAndCostsNothing()
    {
        var client = await PaidClientAsync();

        // A voice ElevenLabs does not have (here OpenAI's default) is refused when the job is posted, naming the field.
        var since = DateTimeOffset.UtcNow;
        var refused = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph("alloy", render: false) })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[1].params.voice"], refused.Fields());
        Assert.Empty(SpeechTasksSince(since));

        // KIE fails a sentence's task: the node fails for good (a retry would pay again for every sentence), and the credits
        // reserved for the narration are refunded.
        host.Kie.FailNextGenerations = 1;
        try
        {
            var failed = await RunAsync(client, Graph("Rachel", render: false), 120);
            var failedId = failed.GetProperty("id").GetString()!;
            Assert.Equal("failed", failed.GetProperty("status").GetString());
            Assert.Equal("failed:KIE_GENERATION_FAILED", (string?)await host.ScalarAsync(
                "SELECT status || ':' || coalesce(error->>'code', '') FROM node_runs WHERE job_id = $1 AND node_id = 'voice'", failedId));
            Assert.Equal("kie|audio|failed|KIE_GENERATION_FAILED", (string?)await host.ScalarAsync(
                "SELECT provider || '|' || type || '|' || status || '|' || (error->>'code') FROM kai_generations WHERE job_id = $1 AND node_id = 'voice'", failedId));
            Assert.Equal(0, failed.GetProperty("cost_kai_credits").GetInt32());
            Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1 AND resource_type = 'kai_credits'", failedId));
            Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE job_id = $1", failedId));
        }
        finally
        {
            host.Kie.FailNextGenerations = 0;
        }
    }

    [Fact]
    public async Task TheVoicePickerListsElevenLabsVoicesAndPlaysASampleSpokenOnKie()
    {
        var client = await PaidClientAsync();
        var providers = await (await client.GetAsync("/v1/voices")).ReadJsonAsync(200);
        var eleven = providers.EnumerateArray().Single(p => p.GetProperty("provider").GetString() == "elevenlabs");
        Assert.True(eleven.GetProperty("configured").GetBoolean());
        Assert.Contains("Rachel", eleven.GetProperty("voices").EnumerateArray().Select(v => v.GetString()));

        var since = DateTimeOffset.UtcNow;
        using var sample = await client.GetAsync("/v1/voices/elevenlabs/charlotte/sample");
        Assert.Equal(System.Net.HttpStatusCode.OK, sample.StatusCode);
        Assert.Equal("audio/wav", sample.Content.Headers.ContentType?.MediaType);
        Assert.True((await sample.Content.ReadAsByteArrayAsync()).Length > 44 + 44100); // more than half a second of 16-bit mono
        var task = Assert.Single(SpeechTasksSince(since));
        Assert.Equal(("Charlotte", "Hello, this is how I sound."),
            (task.Body.GetProperty("input").GetProperty("voice").GetString(), task.Body.GetProperty("input").GetProperty("text").GetString()));

        await (await client.GetAsync("/v1/voices/elevenlabs/alloy/sample")).ReadProblemAsync(404, "NOT_FOUND");
    }
}
