using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Simulators;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Generations over HTTP with the real activities, against a local KIE.ai simulator: the API's callback endpoint
/// wakes the waiting node, a polling timer (8 s here) completes it without callbacks, errors become outcomes.
/// </summary>
public class KaiTests(KaiTests.Host host) : IClassFixture<KaiTests.Host>
{
    public sealed class Host : ApiHost
    {
        public KieSimulator Kie { get; } = new();
        protected override bool RunsWorker => true;

        protected override Task BeforeStartAsync() => Kie.StartAsync();

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>
        {
            ["FENTA_KIE_API_KEY"] = KieSimulator.ValidKey,
            ["FENTA_KIE_BASE_URL"] = Kie.BaseAddress.ToString(),
            ["FENTA_KIE_POLL_SECONDS"] = "8",
            ["FENTA_KIE_DEADLINE_SECONDS"] = "12",
        };

        protected override void ConfigureWorker(IServiceCollection services) { } // the real activities throughout
    }

    private static async Task<JsonElement> GenerationAsync(HttpClient client, string id, int seconds = 40)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
            var job = await (await client.GetAsync($"/v1/jobs/{generation.GetProperty("job_id").GetString()}")).ReadJsonAsync(200);
            if (job.GetProperty("status").GetString() is "completed" or "failed") return job;
            await Task.Delay(100);
        }
        throw new TimeoutException($"generation {id} did not finish in {seconds} s");
    }

    private async Task<(HttpClient Client, string Id)> StartAsync(string path, object body)
    {
        var client = (await host.RegisterAsync()).Client();
        var started = await (await client.PostAsJsonAsync(path, body)).ReadJsonAsync(202);
        Assert.Equal("queued", started.GetProperty("status").GetString());
        return (client, started.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task ModelsAreListedWithSchemasAndPricesAndFilterByContentType()
    {
        var client = (await host.RegisterAsync()).Client();
        var all = await (await client.GetAsync("/v1/models")).ReadJsonAsync(200);
        var ids = all.EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        foreach (var id in new[] { "veo-3.1-fast", "veo-3.1-quality", "sora-2-text-to-video", "sora-2-image-to-video", "kling-2.6-text-to-video",
                     "runway-gen4", "wan-2.5-text-to-video", "hailuo-2.3-image-to-video-pro", "gpt-4o-image", "flux-kontext-pro", "flux-kontext-max",
                     "seedream-4.0", "nano-banana", "suno-v4.5", "suno-v5" })
            Assert.Contains(id, ids);

        var videos = await (await client.GetAsync("/v1/models?content_type=prompt_to_video")).ReadJsonAsync(200);
        Assert.All(videos.EnumerateArray(), m => Assert.Equal("prompt_to_video", m.GetProperty("content_type").GetString()));
        var kling = await (await client.GetAsync("/v1/models/kling-2.6-text-to-video")).ReadJsonAsync(200);
        Assert.Equal(55, kling.GetProperty("base_credits").GetInt32());
        Assert.Equal(2, kling.GetProperty("multipliers").GetProperty("duration").GetProperty("10").GetDouble());
        var duration = kling.GetProperty("params").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "duration");
        Assert.Equal(["5", "10"], duration.GetProperty("values").EnumerateArray().Select(v => v.GetString()));

        await (await client.GetAsync("/v1/models/no-such-model")).ReadProblemAsync(404, "NOT_FOUND");
        var bad = await (await client.GetAsync("/v1/models?content_type=poems")).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("content_type", bad.Fields());
    }

    [Fact]
    public async Task SavingAWorkflowChecksTheModelAndItsOwnParams()
    {
        var client = (await host.RegisterAsync()).Client();
        object Workflow(object @params) => new
        {
            name = "AI clips",
            graph = new { nodes = new object[] { new { id = "g", type = "Input.KAI.GenerateVideo", @params } }, edges = Array.Empty<object>() },
        };
        var wrongKind = await (await client.PostAsJsonAsync("/v1/workflows", Workflow(new { prompt = "a fox", model = "flux-kontext-pro" })))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("graph.nodes[0].params.model", wrongKind.Fields());
        var badParam = await (await client.PostAsJsonAsync("/v1/workflows",
            Workflow(new { prompt = "a fox", model = "kling-2.6-text-to-video", model_params = new { duration = "7", loudness = 3 } }))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("graph.nodes[0].params.model_params.duration", badParam.Fields());
        Assert.Contains("graph.nodes[0].params.model_params.loudness", badParam.Fields());
        await (await client.PostAsJsonAsync("/v1/workflows",
            Workflow(new { prompt = "a fox", model = "kling-2.6-text-to-video", model_params = new { duration = "10", sound = true } }))).ReadJsonAsync(201);
    }

    [Fact]
    public async Task AVeoClipCompletesOnKiesCallbackWithOneTaskAndBecomesAnAsset()
    {
        host.Kie.SendCallbacks = true;
        var before = host.Kie.CreateTaskCalls;
        var watch = Stopwatch.StartNew();
        var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a red fox in snow", aspect_ratio = "9:16" });

        var job = await GenerationAsync(client, id);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        // The poll interval is 8 s, so finishing well before it means the callback woke the node.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(7), $"took {watch.Elapsed}");
        Assert.Equal(before + 1, host.Kie.CreateTaskCalls);
        var created = host.Kie.Requests.Last(r => r.Path == "/api/v1/veo/generate");
        Assert.Equal(("veo3_fast", "9:16"), (created.Body!.Value.GetProperty("model").GetString(), created.Body.Value.GetProperty("aspectRatio").GetString()));
        Assert.Contains("/v1/kai/callbacks/", created.Body.Value.GetProperty("callBackUrl").GetString());

        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal(("completed", "kie", 60), (generation.GetProperty("status").GetString(), generation.GetProperty("provider").GetString(),
            generation.GetProperty("credits_used").GetInt32()));
        var assetId = generation.GetProperty("result_asset_ids")[0].GetString();
        var asset = await (await client.GetAsync($"/v1/assets/{assetId}")).ReadJsonAsync(200);
        Assert.Equal(("video", "kai", 360, 640), (asset.GetProperty("type").GetString(), asset.GetProperty("source").GetString(),
            asset.GetProperty("width").GetInt32(), asset.GetProperty("height").GetInt32()));

        // Another org cannot see it.
        var stranger = (await host.RegisterAsync()).Client();
        await (await stranger.GetAsync($"/v1/kai/generations/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task WithoutCallbacksTheMarketTaskIsPolledToCompletion()
    {
        host.Kie.SendCallbacks = false;
        try
        {
            var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "kling-2.6-text-to-video", prompt = "waves at dusk", duration = 10 });
            var job = await GenerationAsync(client, id);
            Assert.Equal("completed", job.GetProperty("status").GetString());
            var created = host.Kie.Requests.Last(r => r.Path == "/api/v1/jobs/createTask").Body!.Value;
            Assert.Equal(("kling-2.6/text-to-video", "10", "waves at dusk"), (created.GetProperty("model").GetString(),
                created.GetProperty("input").GetProperty("duration").GetString(), created.GetProperty("input").GetProperty("prompt").GetString()));
            Assert.Contains(host.Kie.Requests, r => r.Path.StartsWith("/api/v1/jobs/recordInfo", StringComparison.Ordinal));
            var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
            Assert.Equal(110, generation.GetProperty("credits_used").GetInt32()); // 55 × 2 for 10 s
        }
        finally
        {
            host.Kie.SendCallbacks = true;
        }
    }

    [Fact]
    public async Task FourOImagesComeBackAsImageAssets()
    {
        var (client, id) = await StartAsync("/v1/kai/generate-image", new { model = "gpt-4o-image", prompt = "a lighthouse poster", aspect_ratio = "1:1" });
        Assert.Equal("completed", (await GenerationAsync(client, id)).GetProperty("status").GetString());
        Assert.Equal("1:1", host.Kie.Requests.Last(r => r.Path == "/api/v1/gpt4o-image/generate").Body!.Value.GetProperty("size").GetString());
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        var asset = await (await client.GetAsync($"/v1/assets/{generation.GetProperty("result_asset_ids")[0].GetString()}")).ReadJsonAsync(200);
        Assert.Equal("image", asset.GetProperty("type").GetString());
    }

    [Fact]
    public async Task InsufficientKieCreditsFailTheJobWithAClearError()
    {
        host.Kie.EnqueueError(200, """{"code": 402, "msg": "Credits insufficient", "data": null}""");
        var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a fox" });
        var job = await GenerationAsync(client, id);
        Assert.Equal("failed", job.GetProperty("status").GetString());
        var error = job.GetProperty("error");
        Assert.Equal("KIE_INSUFFICIENT_CREDITS", error.GetProperty("code").GetString());
        Assert.Contains("too few credits", error.GetProperty("message").GetString());
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal("failed", generation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ARateLimitStormIsWaitedOutWithoutFailingOrRepeatingTheTask()
    {
        var before = host.Kie.CreateTaskCalls;
        for (var i = 0; i < 3; i++) host.Kie.EnqueueError(429, """{"code": 429, "msg": "Too many requests"}""", retryAfterSeconds: 1);
        var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a fox" });
        var job = await GenerationAsync(client, id);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(before + 1, host.Kie.CreateTaskCalls);
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'generate'", job.GetProperty("id").GetString()!))!);
    }

    [Fact]
    public async Task AGenerationPastItsDeadlineFailsClearly()
    {
        host.Kie.NeverFinish = true;
        try
        {
            var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a slow fox" });
            var job = await GenerationAsync(client, id, seconds: 60);
            Assert.Equal("failed", job.GetProperty("status").GetString());
            Assert.Equal("KIE_DEADLINE", job.GetProperty("error").GetProperty("code").GetString());
            Assert.Contains("did not finish within 12 s", job.GetProperty("error").GetProperty("message").GetString());
        }
        finally
        {
            host.Kie.NeverFinish = false;
        }
    }

    [Fact]
    public async Task TheLocalGeneratorDrawsImagesWithoutKie()
    {
        var before = host.Kie.CreateTaskCalls;
        var (client, id) = await StartAsync("/v1/kai/generate-image", new { prompt = "a quiet harbour at dawn", provider = "local", count = 2 });
        Assert.Equal("completed", (await GenerationAsync(client, id)).GetProperty("status").GetString());
        Assert.Equal(before, host.Kie.CreateTaskCalls);
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal(("local", 2), (generation.GetProperty("provider").GetString(), generation.GetProperty("result_asset_ids").GetArrayLength()));
        var asset = await (await client.GetAsync($"/v1/assets/{generation.GetProperty("result_asset_ids")[0].GetString()}")).ReadJsonAsync(200);
        Assert.Equal(("image", 720, 1280), (asset.GetProperty("type").GetString(), asset.GetProperty("width").GetInt32(), asset.GetProperty("height").GetInt32()));
    }
}
