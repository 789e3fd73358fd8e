using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Media;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The documented direct render job (POST /v1/jobs with a template and a config), run by the real activities and the
/// real renderer: it renders an MP4, and the job's result links download it.
/// </summary>
public class DirectJobTests(DirectJobTests.Host host) : IClassFixture<DirectJobTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override bool RunsWorker => true;
        protected override bool RunsRenderer => true;
        // The real node activities (espeak-ng, ffmpeg, the offline stock library), not the test doubles.
        protected override void ConfigureWorker(IServiceCollection services) { }

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>
        {
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
        };
    }

    private static object DirectJob(object? tts = null, object? output = null, string templateId = "tmpl_shorts_v1", object? budget = null, object? music = null) => new
    {
        template_id = templateId,
        config = new
        {
            sources = new object[] { new { type = "stock", provider = "local", query = "city night", count = 3 } },
            script = new { prompt = "night buses start running in the city", genre = "news", duration_seconds = 6 },
            tts = tts ?? new { provider = "espeak", speed = 1.1 },
            subtitles = new { style = "clean_box" },
            output = output ?? new { profile = "9x16_720p", quality = "draft" },
            music,
        },
        budget,
    };

    [Fact]
    public async Task ADirectRenderJobRendersAnMp4WhoseResultLinksDownloadIt()
    {
        var client = (await host.RegisterAsync()).Client();
        var started = await (await client.PostAsJsonAsync("/v1/jobs", DirectJob())).ReadJsonAsync(202);
        var jobId = started.GetProperty("id").GetString()!;

        var job = await client.JobEndedAsync(jobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        // The config became the graph a workflow would run.
        Assert.Equal(["render", "script", "sources_0", "subtitles", "timeline", "tts"], job.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node_id").GetString()).Order());

        var result = job.GetProperty("result");
        using var http = new HttpClient();
        var file = Path.Combine(host.LocalFolder, $"{jobId}.mp4");
        await File.WriteAllBytesAsync(file, await http.GetByteArrayAsync(result.GetProperty("video_url").GetString()));
        var video = await FfProbe.ProbeAsync(file, CancellationToken.None);
        Assert.Equal((720, 1280, "h264", "aac"), (video.Width, video.Height, video.VideoCodec, video.AudioCodec));
        Assert.InRange(video.DurationSeconds!.Value, result.GetProperty("duration").GetDouble() - 0.1, result.GetProperty("duration").GetDouble() + 0.1);
        Assert.Equal([0xFF, 0xD8], (await http.GetByteArrayAsync(result.GetProperty("thumbnail_url").GetString()))[..2]);
        Assert.Contains(" --> ", await http.GetStringAsync(result.GetProperty("srt_url").GetString()));
        Assert.True(job.GetProperty("cost_render_seconds").GetDecimal() > 0);
    }

    [Fact]
    public async Task MusicFromAPromptIsGeneratedAndMixedUnderTheNarration()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var started = await (await client.PostAsJsonAsync("/v1/jobs", DirectJob(music: new { prompt = "calm harbour piano", volume = 0.3 }))).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(["mix", "music", "render", "script", "sources_0", "subtitles", "timeline", "tts"],
            job.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node_id").GetString()).Order());
        var jobId = job.GetProperty("id").GetString()!;
        // The track is a generation of its own (drawn locally here), and the timeline plays the mix, not the bare narration.
        Assert.Equal("audio|completed|local", (string?)await host.ScalarAsync(
            "SELECT type || '|' || status || '|' || provider FROM kai_generations WHERE job_id = $1 AND node_id = 'music'", jobId));
        var mixed = (string?)await host.ScalarAsync("SELECT output->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'mix'", jobId);
        var narrated = (string?)await host.ScalarAsync("SELECT output->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'tts'", jobId);
        Assert.NotEqual(narrated, mixed);
        Assert.Equal(mixed, (string?)await host.ScalarAsync("SELECT output->'audio'->0->>'source' FROM node_runs WHERE job_id = $1 AND node_id = 'timeline'", jobId));
    }

    [Fact]
    public async Task AJobAnswersTheRequestThatMadeItAndThatRequestSentAgainMakesTheSameJob()
    {
        var client = (await host.RegisterAsync()).Client();
        var body = JsonSerializer.SerializeToNode(DirectJob())!.AsObject();
        body.Remove("budget"); // left out, as a client would
        body["config"]!.AsObject().Remove("music");
        var first = await (await client.PostAsJsonAsync("/v1/jobs", body)).ReadJsonAsync(202);
        var job = await (await client.GetAsync($"/v1/jobs/{first.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        var request = job.GetProperty("request");
        Assert.Equal(("POST", "/v1/jobs"), (request.GetProperty("method").GetString(), request.GetProperty("path").GetString()));
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(body, System.Text.Json.Nodes.JsonNode.Parse(request.GetProperty("body").GetRawText())),
            request.GetProperty("body").GetRawText());

        // Sent again as shown, it makes a job of the same graph.
        var again = await (await client.PostAsync(request.GetProperty("path").GetString(),
            new StringContent(request.GetProperty("body").GetRawText(), System.Text.Encoding.UTF8, "application/json"))).ReadJsonAsync(202);
        var second = await (await client.GetAsync($"/v1/jobs/{again.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        static IEnumerable<(string?, string?)> Nodes(JsonElement job) =>
            job.GetProperty("nodes").EnumerateArray().Select(n => (n.GetProperty("node_id").GetString(), n.GetProperty("type").GetString())).Order();
        Assert.Equal(Nodes(job), Nodes(second));

        // A retry is its own request, with no body.
        foreach (var id in new[] { first, again }.Select(j => j.GetProperty("id").GetString()))
            await (await client.PostAsync($"/v1/jobs/{id}/cancel", null)).ReadJsonAsync(202);
        var retried = await (await client.PostAsync($"/v1/jobs/{first.GetProperty("id").GetString()}/retry", null)).ReadJsonAsync(202);
        var retry = await (await client.GetAsync($"/v1/jobs/{retried.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        Assert.Equal(("POST", $"/v1/jobs/{first.GetProperty("id").GetString()}/retry", JsonValueKind.Null),
            (retry.GetProperty("request").GetProperty("method").GetString(), retry.GetProperty("request").GetProperty("path").GetString(), retry.GetProperty("request").GetProperty("body").ValueKind));
        await (await client.PostAsync($"/v1/jobs/{retried.GetProperty("id").GetString()}/cancel", null)).ReadJsonAsync(202);
    }

    [Fact]
    public async Task BadDirectJobsAreRefusedNamingTheConfigField()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        // The estimate of a job refuses exactly what creating it refuses.
        async Task<List<string>> Refused(object body)
        {
            var fields = (await (await client.PostAsJsonAsync("/v1/jobs", body)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields().ToList();
            Assert.Equal(fields, (await (await client.PostAsJsonAsync("/v1/jobs/estimate", body)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
            return fields;
        }

        Assert.Equal(["config.tts.speed"], await Refused(DirectJob(tts: new { speed = 9 })));
        Assert.Equal(["config.output.profile"], await Refused(DirectJob(output: new { profile = "8k_imax" })));
        Assert.Equal(["template_id"], await Refused(DirectJob(templateId: "tmpl_nobody_has")));
        Assert.Equal(["config.sources[0].type"], await Refused(new { template_id = "tmpl_shorts_v1", config = new { sources = new[] { new { type = "fax" } }, script = new { prompt = "x" } } }));
        Assert.Equal(["config.sources", "config.script"], await Refused(new { template_id = "tmpl_shorts_v1", config = new { } }));
        Assert.Equal(["config"], await Refused(new { }));
        Assert.Equal(["budget.max_cost_usd"], await Refused(DirectJob(budget: new { max_cost_usd = -1 })));
        Assert.Equal(["config.music.prompt", "config.music.volume"], (await Refused(DirectJob(music: new { volume = 2 }))).Order());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));
    }
}
