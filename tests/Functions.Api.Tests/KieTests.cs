using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Generations over HTTP with the real activities, against a local KIE.ai simulator: the API's callback endpoint
/// wakes the waiting node, a polling timer (8 s here) completes it without callbacks, errors become outcomes.
/// </summary>
public class KieTests(KieTests.Host host) : IClassFixture<KieTests.Host>
{
    public sealed class Host : KieHost
    {
        protected override string PollSeconds => "8";
        protected override IReadOnlyDictionary<string, string?> MoreSettings => new Dictionary<string, string?> { ["FENTA_KIE_DEADLINE_SECONDS"] = "12" };
    }

    /// <summary>The job of generation <paramref name="id"/>, once it has ended.</summary>
    private static async Task<JsonElement> GenerationAsync(HttpClient client, string id, int seconds = 40)
    {
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        return await client.JobEndedAsync(generation.GetProperty("job_id").GetString()!, TimeSpan.FromSeconds(seconds));
    }

    /// <summary>A member of an org on a paid plan: a Veo clip's 60 credits are more than the free tier's 50 a month.</summary>
    private async Task<HttpClient> PaidClientAsync()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        return session.Client();
    }

    private async Task<(HttpClient Client, string Id)> StartAsync(string path, object body)
    {
        var client = await PaidClientAsync();
        var started = await (await client.PostAsJsonAsync(path, body)).ReadJsonAsync(202);
        // A worker may already have picked the generation up by the time the 202 is written.
        Assert.Contains(started.GetProperty("status").GetString(), new[] { "queued", "processing" });
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
                     "seedream-4.0", "nano-banana", "suno-v4.5", "suno-v5",
                     // Issue 29: the rest of what seeds 000 and 001 name that KIE serves.
                     "kling-2.5-turbo-text-to-video", "kling-2.5-turbo-image-to-video", "wan-2.5-image-to-video", "hailuo-02-text-to-video-pro",
                     "seedance-1.0-pro-text-to-video", "seedance-1.0-pro-image-to-video", "flux-2-pro-text-to-image", "flux-2-pro-image-to-image",
                     "seedream-4.0-edit", "midjourney-v7", "suno-v4", "suno-v4.5-plus", "elevenlabs-tts-multilingual-v2" })
            Assert.Contains(id, ids);
        Assert.Equal(ids.Count, ids.Distinct().Count());

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
        var runway = await (await client.PostAsJsonAsync("/v1/workflows",
            Workflow(new { prompt = "a fox", model = "runway-gen4", duration = 10, resolution = "1080p" }))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0].params.model_params.quality"], runway.Fields());
    }

    [Fact]
    public async Task AVeoClipCompletesOnKiesCallbackWithOneTaskAndBecomesAnAsset()
    {
        host.Kie.SendCallbacks = true;
        using var measurements = new Measurements();
        var before = host.Kie.CreateTaskCalls;
        var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a red fox in snow", aspect_ratio = "9:16" });

        var job = await GenerationAsync(client, id);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(before + 1, host.Kie.CreateTaskCalls);
        var created = host.Kie.Requests.Last(r => r.Path == "/api/v1/veo/generate");
        // The callback woke the wait: KIE was asked about the task once, after it called back, not on the 8 s polling timer.
        var taskId = (string)(await host.ScalarAsync("SELECT external_id FROM kai_generations WHERE id = $1", id))!;
        Assert.Equal(1, host.Kie.Requests.Count(r => r.Path == $"/api/v1/veo/record-info?taskId={taskId}"));
        Assert.Equal(("veo3_fast", "9:16"), (created.Body!.Value.GetProperty("model").GetString(), created.Body.Value.GetProperty("aspectRatio").GetString()));
        Assert.Contains("/v1/kai/callbacks/", created.Body.Value.GetProperty("callBackUrl").GetString());

        var cost = job.GetProperty("cost");
        Assert.Equal((60, 3.00m), // 60 credits at Starter's $0.05
             (cost.GetProperty("kai_credits").GetInt32(), cost.GetProperty("total_usd").GetDecimal()));
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal(("completed", "kie", 60), (generation.GetProperty("status").GetString(), generation.GetProperty("provider").GetString(),
            generation.GetProperty("credits_used").GetInt32()));
        Assert.Equal(60L, Convert.ToInt64(await host.ScalarAsync("SELECT sum(kai_credits) FROM usage_records WHERE job_id = $1", job.GetProperty("id").GetString()!)));
        // The credits metric names the model (other classes' generations count too, so only that this one's is among them).
        Assert.Contains(measurements.Of("fenta.kie.credits"), m => (m.Value, m.Tag("fenta.model")) == (60, "veo-3.1-fast"));
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
    public async Task AMidjourneyGridBecomesFourImagesAtOnePrice()
    {
        var (client, id) = await StartAsync("/v1/kai/generate-image", new { model = "midjourney-v7", prompt = "a lighthouse in fog", model_params = new { speed = "turbo" } });
        Assert.Equal("completed", (await GenerationAsync(client, id)).GetProperty("status").GetString());
        var created = host.Kie.Requests.Last(r => r.Path == "/api/v1/mj/generate").Body!.Value;
        Assert.Equal(("mj_txt2img", "turbo", "9:16"), (created.GetProperty("taskType").GetString(), created.GetProperty("speed").GetString(),
            created.GetProperty("aspectRatio").GetString()));
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal((4, 16), (generation.GetProperty("result_asset_ids").GetArrayLength(), generation.GetProperty("credits_used").GetInt32()));
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
    public async Task AGenerationWhoseJobIsCancelledReportsIt()
    {
        host.Kie.NeverFinish = true;
        try
        {
            var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a fox that waits" });
            var jobId = (await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200)).GetProperty("job_id").GetString();
            await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
            var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
            Assert.Equal(("failed", "CANCELLED"), (generation.GetProperty("status").GetString(), generation.GetProperty("error").GetProperty("code").GetString()));
        }
        finally
        {
            host.Kie.NeverFinish = false;
        }
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

        var images = await (await client.GetAsync("/v1/kai/generations?type=image&status=completed")).ReadJsonAsync(200);
        Assert.Equal([id], images.GetProperty("data").EnumerateArray().Select(g => g.GetProperty("id").GetString()));
        Assert.Empty((await (await client.GetAsync("/v1/kai/generations?type=video")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());
        Assert.Contains("status", (await (await client.GetAsync("/v1/kai/generations?status=done")).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var stranger = (await host.RegisterAsync()).Client();
        Assert.Empty((await (await stranger.GetAsync("/v1/kai/generations")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task ACallbackAndAPollArrivingTogetherCompleteTheNodeOnce()
    {
        // The task takes exactly the poll interval, so the first poll and KIE's callback land at the same moment.
        host.Kie.TaskDuration = TimeSpan.FromSeconds(8);
        try
        {
            var before = host.Kie.CreateTaskCalls;
            var (client, id) = await StartAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a race at dawn" });
            var job = await GenerationAsync(client, id);
            Assert.Equal("completed", job.GetProperty("status").GetString());
            Assert.Equal(before + 1, host.Kie.CreateTaskCalls);
            var jobId = job.GetProperty("id").GetString()!;
            Assert.Equal(1L, await host.CountAsync("SELECT count(*) FROM assets WHERE job_id = $1 AND source = 'kai'", jobId));
            Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'generate'", jobId))!);

            // A late or repeated callback changes nothing.
            var token = (string)(await host.ScalarAsync("SELECT callback_token FROM kai_generations WHERE id = $1", id))!;
            for (var i = 0; i < 2; i++)
                await (await host.Client().PostAsJsonAsync($"/v1/kai/callbacks/{token}", new { code = 200, msg = "success", data = new { taskId = "x" } })).ReadJsonAsync(200);
            Assert.Equal(1L, await host.CountAsync("SELECT count(*) FROM assets WHERE job_id = $1 AND source = 'kai'", jobId));
            await (await host.Client().PostAsJsonAsync("/v1/kai/callbacks/not-a-token", new { code = 200 })).ReadProblemAsync(404, "NOT_FOUND");
        }
        finally
        {
            host.Kie.TaskDuration = TimeSpan.FromSeconds(1);
        }
    }

    [Fact]
    public async Task MaintenanceWaitsServerErrorsAndFailedGenerationsAreRetriedByTheNodesPolicy()
    {
        var client = await PaidClientAsync();
        var before = host.Kie.CreateTaskCalls;
        var requestsBefore = host.Kie.Requests.Count(r => r.Path == "/api/v1/jobs/createTask");
        host.Kie.EnqueueError(200, """{"code": 455, "msg": "Service unavailable: maintenance"}""", retryAfterSeconds: 1);
        host.Kie.EnqueueError(200, """{"code": 500, "msg": "Internal error"}""");
        host.Kie.FailNextGenerations = 1;
        var graph = new
        {
            nodes = new object[]
            {
                new { id = "g", type = "Input.KAI.GenerateVideo", @params = new { model = "kling-2.6-text-to-video", prompt = "a lighthouse" },
                    retry = new { max_attempts = 3, first_interval_seconds = 0.5, backoff_coefficient = 1 } },
            },
            edges = Array.Empty<object>(),
        };
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202);
        var jobId = started.GetProperty("id").GetString()!;
        var watch = Stopwatch.StartNew();
        string status;
        do
        {
            await Task.Delay(200);
            status = (await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200)).GetProperty("status").GetString()!;
        } while (status is "queued" or "processing" && watch.Elapsed < TimeSpan.FromSeconds(60));

        Assert.Equal("completed", status);
        // 455 waited without an attempt; 500 used attempt 1; the 501 generation failure used attempt 2; attempt 3 succeeded.
        Assert.Equal(3, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'g'", jobId))!);
        Assert.Equal(before + 2, host.Kie.CreateTaskCalls); // two tasks created: the failed generation and the good one
        Assert.Equal(requestsBefore + 4, host.Kie.Requests.Count(r => r.Path == "/api/v1/jobs/createTask")); // plus the 455 and the 500
        var logs = await host.StringsAsync("SELECT message FROM job_logs WHERE job_id = $1 ORDER BY id", jobId);
        Assert.Contains(logs, m => m.StartsWith("KIE is under maintenance", StringComparison.Ordinal) && m.EndsWith("Trying again in 1 s.", StringComparison.Ordinal));
        Assert.Contains(logs, m => m.Contains("KIE_ERROR"));
        Assert.Contains(logs, m => m.Contains("KIE_GENERATION_FAILED"));
    }

    private static async Task<JsonElement> UploadClipAsync(HttpClient client, double seconds)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kai-edit-{Guid.NewGuid():N}.mp4");
        using (var ffmpeg = Process.Start("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x568:rate=25", "-t",
                   seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-pix_fmt", "yuv420p", path]))
            await ffmpeg!.WaitForExitAsync();
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return await client.UploadAsync(bytes, "clip.mp4");
    }

    [Fact]
    public async Task AWorkflowEditsEachClipInParallelAndKeepsTheirOrder()
    {
        var client = await PaidClientAsync();
        var first = (await UploadClipAsync(client, 1)).GetProperty("id").GetString();
        var second = (await UploadClipAsync(client, 2)).GetProperty("id").GetString();
        var graph = new
        {
            nodes = new object[]
            {
                new { id = "clips", type = "Input.Upload", @params = new { asset_ids = new[] { first, second } } },
                new { id = "edit", type = "Input.KAI.EditVideo", @params = new { prompt = "warmer", provider = "local", operation = "extend" } },
            },
            edges = new object[] { new { from = "clips", to = "edit" } },
        };
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var watch = Stopwatch.StartNew();
        JsonElement job;
        do
        {
            await Task.Delay(200);
            job = await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200);
        } while (job.GetProperty("status").GetString() is "queued" or "processing" && watch.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Equal("completed", job.GetProperty("status").GetString());

        // One edit per clip (two items), fanned back in clip order: the 1 s clip extends to 2 s, the 2 s clip to 4 s.
        Assert.Equal(2L, await host.CountAsync("SELECT count(*) FROM node_runs WHERE job_id = $1 AND node_id = 'edit' AND item_index >= 0", jobId));
        var edited = await host.StringsAsync("""
            SELECT a.metadata->>'source_asset_id' || '=' || round(a.duration_seconds)::text
            FROM node_runs n CROSS JOIN LATERAL jsonb_array_elements(n.output) WITH ORDINALITY AS o(item, i) JOIN assets a ON a.id = o.item->>'asset_id'
            WHERE n.job_id = $1 AND n.node_id = 'edit' AND n.item_index >= 0 ORDER BY n.item_index, o.i
            """, jobId);
        Assert.Equal([$"{first}=2", $"{second}=4"], edited);
        var many = await (await client.PostAsJsonAsync("/v1/kai/edit-video", new { prompt = "x", asset_ids = new[] { first, second } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("asset_ids", many.Fields());
    }

    [Fact]
    public async Task EditingAClipLocallyAppliesTheOperationToTheUploadedClip()
    {
        var client = await PaidClientAsync();
        var bad = await (await client.PostAsJsonAsync("/v1/kai/edit-video", new { prompt = "warmer", provider = "local" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("asset_ids", bad.Fields());

        var upload = await UploadClipAsync(client, 2);

        var started = await (await client.PostAsJsonAsync("/v1/kai/edit-video",
            new { prompt = "play it back and forth", provider = "local", operation = "extend", asset_ids = new[] { upload.GetProperty("id").GetString() } })).ReadJsonAsync(202);
        var id = started.GetProperty("id").GetString()!;
        Assert.Equal("completed", (await GenerationAsync(client, id)).GetProperty("status").GetString());
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal(("edit", "runway-aleph", "local"), (generation.GetProperty("type").GetString(), generation.GetProperty("model").GetString(),
            generation.GetProperty("provider").GetString()));
        var edited = await (await client.GetAsync($"/v1/assets/{generation.GetProperty("result_asset_ids")[0].GetString()}")).ReadJsonAsync(200);
        Assert.Equal((720, 1280), (edited.GetProperty("width").GetInt32(), edited.GetProperty("height").GetInt32()));
        Assert.InRange(edited.GetProperty("duration_seconds").GetDecimal(), 3.9m, 4.1m); // extended: forward then backward
    }

    [Fact]
    public async Task AGenerationWithReuseTakesTheOrgsIdenticalEarlierOneAtNoChargeAndAnythingElseIsPaidAsUsual()
    {
        var client = await PaidClientAsync();
        async Task<JsonElement> GenerateAsync(string prompt, bool? reuse, string provider = "auto")
        {
            var started = await (await client.PostAsJsonAsync("/v1/kai/generate-image", new { model = "gpt-4o-image", prompt, aspect_ratio = "9:16", reuse, provider })).ReadJsonAsync(202);
            var id = started.GetProperty("id").GetString()!;
            Assert.Equal("completed", (await GenerationAsync(client, id)).GetProperty("status").GetString());
            return await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        }
        var calls = host.Kie.CreateTaskCalls;

        var first = await GenerateAsync("a lighthouse at dusk", reuse: true); // nothing to reuse yet: made and paid
        var reused = await GenerateAsync("a lighthouse at dusk", reuse: true);
        Assert.Equal(calls + 1, host.Kie.CreateTaskCalls); // KIE was not asked again
        Assert.Equal((6, 0), (first.GetProperty("credits_used").GetInt32(), reused.GetProperty("credits_used").GetInt32()));
        Assert.Equal(first.GetProperty("result_asset_ids").ToString(), reused.GetProperty("result_asset_ids").ToString());
        var reusedJob = reused.GetProperty("job_id").GetString()!;
        Assert.Equal(0L, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1", reusedJob));
        var logs = await (await client.GetAsync($"/v1/jobs/{reusedJob}/logs")).ReadJsonAsync(200);
        Assert.Contains(logs.GetProperty("data").EnumerateArray(), l => l.GetProperty("message").GetString()!.StartsWith($"Reused generation {first.GetProperty("id").GetString()}", StringComparison.Ordinal));

        // Without reuse (the default), with another prompt, or in another org, a generation is made and paid for.
        Assert.Equal(6, (await GenerateAsync("a lighthouse at dusk", reuse: null)).GetProperty("credits_used").GetInt32());
        Assert.Equal(6, (await GenerateAsync("a lighthouse at dawn", reuse: true)).GetProperty("credits_used").GetInt32());
        client = await PaidClientAsync();
        Assert.Equal(6, (await GenerateAsync("a lighthouse at dusk", reuse: true)).GetProperty("credits_used").GetInt32());
        Assert.Equal(calls + 4, host.Kie.CreateTaskCalls);

        // Stand-ins drawn locally are reused the same way (and never taken for KIE's: the provider is part of the key).
        var drawn = await GenerateAsync("a lighthouse at dusk", reuse: true, provider: "local");
        Assert.NotEqual(first.GetProperty("result_asset_ids").ToString(), drawn.GetProperty("result_asset_ids").ToString());
        Assert.Equal(drawn.GetProperty("result_asset_ids").ToString(), (await GenerateAsync("a lighthouse at dusk", reuse: true, provider: "local")).GetProperty("result_asset_ids").ToString());
        Assert.Equal(calls + 4, host.Kie.CreateTaskCalls);
    }
}
