using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Models;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Kie;
using FentaWeb.Simulators;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>The KIE.ai client against the local simulator of its documented contract: requests, replies of every family, errors.</summary>
public class KieClientTests() : SimulatorTests<KieSimulator>(new() { SendCallbacks = false, TaskDuration = TimeSpan.Zero })
{
    private KieClient Client(string key = KieSimulator.ValidKey, double timeoutSeconds = 5) =>
        Clients.Get<KieClient>(services => services.AddKieClient(new KieOptions(Simulator.BaseAddress, key, TimeSpan.FromSeconds(timeoutSeconds), TimeSpan.FromSeconds(1))));

    private static JsonObject Input(string modelId, object? modelParams = null)
    {
        var errors = new FieldErrors();
        var model = ModelRegistry.Find(modelId)!;
        var input = model.Resolve(new GenerationSettings("9:16", 10, "720p", 1),
            modelParams is null ? null : System.Text.Json.JsonSerializer.SerializeToElement(modelParams), "model_params", errors);
        Assert.False(errors.Any, string.Join("; ", errors.All.Select(e => $"{e.Field} {e.Message}")));
        return input;
    }

    [Fact]
    public async Task MarketTasksAreCreatedWithModelCallbackAndInputAndReadBackFromResultJson()
    {
        var model = ModelRegistry.Find("sora-2-text-to-video")!;
        var taskId = await Client().SubmitAsync(model, "a paper boat", Input(model.Id), "https://example.test/v1/kai/callbacks/t0k", CancellationToken.None);

        var sent = Simulator.Requests.Single(r => r.Path == "/api/v1/jobs/createTask");
        Assert.Equal($"Bearer {KieSimulator.ValidKey}", sent.Authorization);
        var body = sent.Body!.Value;
        Assert.Equal(("sora-2-text-to-video", "https://example.test/v1/kai/callbacks/t0k"), (body.GetProperty("model").GetString(), body.GetProperty("callBackUrl").GetString()));
        var input = body.GetProperty("input");
        Assert.Equal(("a paper boat", "portrait", "10"), (input.GetProperty("prompt").GetString(), input.GetProperty("aspect_ratio").GetString(),
            input.GetProperty("n_frames").GetString()));

        var status = await Client().StatusAsync(model, taskId, CancellationToken.None);
        Assert.Equal(KieState.Succeeded, status.State);
        Assert.EndsWith($"/files/{taskId}.mp4", Assert.Single(status.ResultUrls));
    }

    [Fact]
    public async Task SpeechTasksCarryTheirSentenceAsTextAndReadBackAnAudioFile()
    {
        var model = ModelRegistry.Find(ModelRegistry.ElevenLabsSpeech)!;
        var taskId = await Client().SubmitAsync(model, "Gulls circle the boats.", Input(model.Id, new { voice = "Lily", speed = 1.1 }), null, CancellationToken.None);

        var input = Simulator.Requests.Last(r => r.Path == "/api/v1/jobs/createTask").Body!.Value.GetProperty("input");
        Assert.Equal(("Gulls circle the boats.", "Lily", 1.1), (input.GetProperty("text").GetString(), input.GetProperty("voice").GetString(), input.GetProperty("speed").GetDouble()));
        Assert.False(input.TryGetProperty("prompt", out _));
        Assert.EndsWith($"/files/{taskId}.mp3", Assert.Single((await Client().StatusAsync(model, taskId, CancellationToken.None)).ResultUrls));
        // KIE's voice names are case-sensitive: the simulator refuses another spelling, as KIE does.
        var lowerCase = Input(model.Id);
        lowerCase["voice"] = "lily";
        var refused = await Assert.ThrowsAsync<ProviderException>(() => Client().SubmitAsync(model, "Gulls circle the boats.", lowerCase, null, CancellationToken.None));
        Assert.Equal(("KIE_VALIDATION", true), (refused.Code, refused.Permanent));
    }

    [Fact]
    public async Task EachFamilysStatusShapeIsRead()
    {
        string? family = null;
        async Task<KieStatus> StatusWith(string modelId, object data)
        {
            Simulator.Enqueue(http => http.Response.WriteAsJsonAsync(new { code = 200, msg = "success", data }));
            var status = await Client().StatusAsync(ModelRegistry.Find(modelId)!, "task-1", CancellationToken.None);
            family = Simulator.Requests.Last().Path;
            return status;
        }

        var runway = await StatusWith("runway-gen4", new { taskId = "task-1", state = "success", videoInfo = new { videoUrl = "https://x.test/r.mp4", imageUrl = "https://x.test/r.jpg" } });
        Assert.Equal(("/api/v1/runway/record-detail?taskId=task-1", KieState.Succeeded, "https://x.test/r.mp4"), (family, runway.State, runway.ResultUrls[0]));
        var flux = await StatusWith("flux-kontext-pro", new { taskId = "task-1", successFlag = 1, response = new { resultImageUrl = "https://x.test/f.png" } });
        Assert.Equal(("/api/v1/flux/kontext/record-info?taskId=task-1", "https://x.test/f.png"), (family, flux.ResultUrls[0]));
        var aleph = await StatusWith("runway-aleph", new { taskId = "task-1", successFlag = 1, response = new { resultVideoUrl = "https://x.test/a.mp4" } });
        Assert.Equal(("/api/v1/aleph/record-info?taskId=task-1", "https://x.test/a.mp4"), (family, aleph.ResultUrls[0]));
        var suno = await StatusWith("suno-v5", new { taskId = "task-1", status = "SUCCESS", response = new { sunoData = new[] { new { audioUrl = "https://x.test/s.mp3", duration = 120 } } } });
        Assert.Equal(("/api/v1/generate/record-info?taskId=task-1", "https://x.test/s.mp3"), (family, suno.ResultUrls[0]));
        var pending = await StatusWith("veo-3.1-fast", new { taskId = "task-1", successFlag = 0 });
        Assert.Equal(KieState.Pending, pending.State);
        var failed = await StatusWith("gpt-4o-image", new { taskId = "task-1", successFlag = 2, errorCode = 400, errorMessage = "prompt flagged" });
        Assert.Equal((KieState.Failed, "prompt flagged"), (failed.State, failed.FailMessage));
        var sunoFailed = await StatusWith("suno-v4.5", new { taskId = "task-1", status = "SENSITIVE_WORD_ERROR", errorMessage = "lyrics flagged" });
        Assert.Equal((KieState.Failed, "SENSITIVE_WORD_ERROR"), (sunoFailed.State, sunoFailed.FailCode));
    }

    [Fact]
    public async Task FamiliesGetTheirOwnBodies()
    {
        var veo = ModelRegistry.Find("veo-3.1-quality")!;
        await Client().SubmitAsync(veo, "a fox", Input(veo.Id), null, CancellationToken.None);
        var body = Simulator.Requests.Single(r => r.Path == "/api/v1/veo/generate").Body!.Value;
        Assert.Equal(("veo3", "9:16", "TEXT_2_VIDEO"), (body.GetProperty("model").GetString(), body.GetProperty("aspectRatio").GetString(),
            body.GetProperty("generationType").GetString()));
        Assert.False(body.TryGetProperty("callBackUrl", out _));

        var image = ModelRegistry.Find("gpt-4o-image")!;
        await Client().SubmitAsync(image, "a poster", Input(image.Id, new { nVariants = "2" }), null, CancellationToken.None);
        var imageBody = Simulator.Requests.Single(r => r.Path == "/api/v1/gpt4o-image/generate").Body!.Value;
        Assert.Equal((2, "2:3"), (imageBody.GetProperty("nVariants").GetInt32(), imageBody.GetProperty("size").GetString())); // a number on the wire
        Assert.Equal(12, image.Credits(Input(image.Id, new { nVariants = "2" })));
    }

    [Fact]
    public async Task MidjourneyAndSunoHaveTheirOwnBodiesAndStatusShapes()
    {
        var mj = ModelRegistry.Find("midjourney-v7")!;
        var taskId = await Client().SubmitAsync(mj, "a lighthouse", Input(mj.Id, new { speed = "relaxed" }), "https://example.test/cb", CancellationToken.None);
        var body = Simulator.Requests.Last(r => r.Path == "/api/v1/mj/generate").Body!.Value;
        Assert.Equal(("mj_txt2img", "relaxed", "7", "9:16", false), (body.GetProperty("taskType").GetString(), body.GetProperty("speed").GetString(),
            body.GetProperty("version").GetString(), body.GetProperty("aspectRatio").GetString(), body.TryGetProperty("fileUrls", out _)));
        var grid = await Client().StatusAsync(mj, taskId, CancellationToken.None);
        Assert.Equal((KieState.Succeeded, 4), (grid.State, grid.ResultUrls.Count));
        Assert.Equal(3, mj.Credits(Input(mj.Id, new { speed = "relaxed" })));
        Assert.Equal(16, mj.Credits(Input(mj.Id, new { speed = "turbo" })));

        // With images it is image-to-image; the simulator fetches them as KIE would, so they must be readable.
        var image = $"{Simulator.BaseAddress}files/reference.png";
        await Client().SubmitAsync(mj, "the same, at night", Input(mj.Id, new { fileUrls = new[] { image } }), null, CancellationToken.None);
        Assert.Equal("mj_img2img", Simulator.Requests.Last(r => r.Path == "/api/v1/mj/generate").Body!.Value.GetProperty("taskType").GetString());
        Assert.Contains(Simulator.InputsFetched, f => f.Url == image && f.Status == 200);

        // Suno: without a public address the required callBackUrl goes nowhere (the task is polled); a style makes it custom mode.
        var suno = ModelRegistry.Find("suno-v4.5-plus")!;
        await Client().SubmitAsync(suno, "a calm piano bed", Input(suno.Id, new { style = "ambient piano" }), null, CancellationToken.None);
        var song = Simulator.Requests.Last(r => r.Path == "/api/v1/generate").Body!.Value;
        Assert.Equal(("V4_5PLUS", true, true, "ambient piano", "a calm piano bed", "https://callback.invalid/fenta/polled"),
            (song.GetProperty("model").GetString(), song.GetProperty("customMode").GetBoolean(), song.GetProperty("instrumental").GetBoolean(),
             song.GetProperty("style").GetString(), song.GetProperty("title").GetString(), song.GetProperty("callBackUrl").GetString()));
    }

    [Fact]
    public void PricesFollowKiesPriceList()
    {
        int Credits(string model, object? modelParams = null) => ModelRegistry.Find(model)!.Credits(Input(model, modelParams));
        // Input() asks for 10 s at 720p: Seedance 1.0 Pro is 30 credits per 5 s at 720p, 14 at 480p, 70 at 1080p.
        Assert.Equal((60, 28, 140), (Credits("seedance-1.0-pro-text-to-video"), Credits("seedance-1.0-pro-text-to-video", new { resolution = "480p" }),
            Credits("seedance-1.0-pro-image-to-video", new { resolution = "1080p", image_url = "https://x.test/a.png" })));
        Assert.Equal((84, 42), (Credits("kling-2.5-turbo-text-to-video"), Credits("kling-2.5-turbo-text-to-video", new { duration = "5" })));
        Assert.Equal((90, 80), (Credits("hailuo-2.3-image-to-video-pro", new { image_url = "https://x.test/a.png" }),
            Credits("hailuo-2.3-image-to-video-pro", new { image_url = "https://x.test/a.png", duration = "6", resolution = "1080P" })));
        Assert.Equal((20, 25), (Credits("sora-2-text-to-video"), Credits("sora-2-text-to-video", new { n_frames = "15" })));
        Assert.Equal((120, 200), (Credits("wan-2.5-text-to-video"), Credits("wan-2.5-text-to-video", new { resolution = "1080p" })));
        Assert.Equal((5, 7), (Credits("flux-2-pro-text-to-image"), Credits("flux-2-pro-text-to-image", new { resolution = "2K" })));
        Assert.Equal((12, 50), (Credits("suno-v5"), Credits("hailuo-02-text-to-video-standard")));
    }

    [Fact]
    public async Task ErrorsBecomeTypedOutcomes()
    {
        var model = ModelRegistry.Find("kling-2.6-text-to-video")!;
        Task Submit(KieClient? client = null) => (client ?? Client()).SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None);

        await FailsWithAsync("KIE_UNAUTHORIZED", true, () => Submit(Client("wrong-key")));

        Simulator.EnqueueError(200, """{"code": 422, "msg": "duration must be 5 or 10"}""");
        var invalid = await FailsWithAsync("KIE_VALIDATION", true, () => Submit());
        Assert.Contains("duration must be 5 or 10", invalid.Message);

        Simulator.EnqueueError(429, """{"code": 429, "msg": "slow down"}""", retryAfterSeconds: 7);
        var limited = await FailsAsync(() => Submit());
        Assert.Equal(("KIE_RATE_LIMITED", TimeSpan.FromSeconds(7)), (limited.Code, limited.RetryAfter));

        Simulator.EnqueueError(200, """{"code": 505, "msg": "feature disabled"}""");
        await FailsWithAsync("KIE_FEATURE_DISABLED", true, () => Submit());

        Simulator.EnqueueError(200, """{"code": 501, "msg": "generation failed"}""");
        var generation = await FailsWithAsync("KIE_GENERATION_FAILED", false, () => Submit());
        Assert.Null(generation.RetryAfter);
        Assert.Equal(0, Simulator.CreateTaskCalls); // none of those created a task
    }

    [Fact]
    public async Task StatusReadsRetryTransientFailuresButCreatesAreNotRepeated()
    {
        var model = ModelRegistry.Find("kling-2.6-text-to-video")!;
        var taskId = await Client().SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None);
        Simulator.EnqueueError(503, "busy");
        Simulator.EnqueueError(502, "bad gateway");
        Assert.Equal(KieState.Succeeded, (await Client().StatusAsync(model, taskId, CancellationToken.None)).State);
        Assert.Equal(3, Simulator.Requests.Count(r => r.Path.StartsWith("/api/v1/jobs/recordInfo", StringComparison.Ordinal)));

        Simulator.EnqueueError(500, """{"code": 500, "msg": "oops"}""");
        await FailsWithAsync("KIE_ERROR", false, () => Client().SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None));
        Assert.Equal(2, Simulator.Requests.Count(r => r.Path == "/api/v1/jobs/createTask")); // the failed create was sent once
    }

    [Fact]
    public async Task ASlowAnswerTimesOutAndAFailingFamilyOpensItsCircuit()
    {
        var model = ModelRegistry.Find("kling-2.6-text-to-video")!;
        Simulator.EnqueueDelay(TimeSpan.FromSeconds(3));
        var slow = await FailsAsync(() => Client(timeoutSeconds: 0.5).SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None));
        Assert.Equal("KIE_TIMEOUT", slow.Code);

        var client = Client();
        for (var i = 0; i < 12; i++) Simulator.EnqueueError(500, "down");
        ProviderException? last = null;
        for (var i = 0; i < 12 && last?.Code != "KIE_UNAVAILABLE"; i++)
            last = await FailsAsync(() => client.SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None));
        Assert.Equal("KIE_UNAVAILABLE", last!.Code);
        Assert.InRange(last.RetryAfter!.Value, TimeSpan.FromSeconds(1), ProviderResilience.BreakDuration);
        var sent = Simulator.Requests.Count;
        Assert.Equal("KIE_UNAVAILABLE", (await FailsAsync(() => client.SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None))).Code);
        Assert.Equal(sent, Simulator.Requests.Count); // paused: the open breaker answers without calling KIE
        // The breaker is per family: Veo still goes through.
        Simulator.ClearScripted();
        var veo = ModelRegistry.Find("veo-3.1-fast")!;
        Assert.NotEmpty(await client.SubmitAsync(veo, "a fox", Input(veo.Id), null, CancellationToken.None));
    }

    [Fact]
    public async Task AnOutageLongerThanTheRetriesIsAnErrorTheEngineRetries()
    {
        var model = ModelRegistry.Find("veo-3.1-fast")!;
        var taskId = await Client().SubmitAsync(model, "a fox", Input(model.Id), null, CancellationToken.None);
        EnqueueOutage(503, "busy");

        await FailsWithAsync("KIE_ERROR", false, () => Client().StatusAsync(model, taskId, CancellationToken.None));
        Assert.Equal(ProviderResilience.Attempts, Simulator.Requests.Count(r => r.Path.StartsWith("/api/v1/veo/record-info", StringComparison.Ordinal)));
    }
}
