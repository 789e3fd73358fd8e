using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Generation chains over HTTP with the real activities and renderer: a script's scenes drawn as images, each image made
/// into a clip (image-to-video, one per scene, with the scene's prompt), laid on a timeline and rendered; offline with
/// the local stand-ins and on the KIE.ai simulator (which fetches each input link, as KIE does); and the models that
/// cannot take the connected input refused, naming model and port.
/// </summary>
public partial class ChainTests(ChainTests.Host host) : IClassFixture<ChainTests.Host>
{
    public sealed class Host : KieHost
    {
        protected override bool RunsRenderer => true;
        protected override IReadOnlyDictionary<string, string?> MoreSettings => new Dictionary<string, string?> { ["FENTA_KIE_DEADLINE_SECONDS"] = "120" };
    }

    private async Task<HttpClient> PaidClientAsync()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        return session.Client();
    }

    /// <summary>Script (3 scenes) → one image per scene → one clip per image, each with its scene's prompt → timeline → render.</summary>
    private static object ChainGraph(string provider, string imageModel, string videoModel) => new
    {
        nodes = new object[]
        {
            new { id = "script", type = "Script.Generate", @params = new { prompt = "three facts about lighthouses", duration_seconds = 15, scenes = 3 } },
            new { id = "images", type = "Input.KAI.GenerateImage", @params = new { model = imageModel, provider, prompt = "poster style" } },
            new { id = "clips", type = "Input.KAI.GenerateVideo", @params = new { model = videoModel, provider, prompt = "slow camera move", duration = 5 } },
            new { id = "timeline", type = "Edit.Timeline", @params = new { transition = "cut" } },
            new { id = "render", type = "Output.Render", @params = new { profile = "9x16_720p", quality = "draft" } },
        },
        edges = new object[]
        {
            new { from = "script", to = "images" }, new { from = "script", to = "clips" }, new { from = "images", to = "clips" },
            new { from = "clips", to = "timeline" }, new { from = "timeline", to = "render" },
        },
    };

    private async Task<JsonElement> RunAsync(HttpClient client, object graph)
    {
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var job = await client.JobEndedAsync(jobId, TimeSpan.FromSeconds(240));
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());
        return job;
    }

    /// <summary>Each item's output asset of a fanned-out node, in item order.</summary>
    private Task<List<string>> ItemAssetsAsync(string jobId, string node) => host.StringsAsync("""
        SELECT o.item->>'asset_id' FROM node_runs n CROSS JOIN LATERAL jsonb_array_elements(n.output) WITH ORDINALITY AS o(item, i)
        WHERE n.job_id = $1 AND n.node_id = $2 AND n.item_index >= 0 ORDER BY n.item_index, o.i
        """, jobId, node);

    private Task<List<string>> ScenePromptsAsync(string jobId) => host.StringsAsync("""
        SELECT s->>'visual_prompt' FROM node_runs n CROSS JOIN LATERAL jsonb_array_elements(n.output->'scenes') s
        WHERE n.job_id = $1 AND n.node_id = 'script' ORDER BY (s->>'index')::int
        """, jobId);

    [Fact]
    public async Task OfflineEachSceneIsDrawnAsAnImageAndEachImageBecomesAClipMadeFromIt()
    {
        var client = await PaidClientAsync();
        var calls = host.Kie.CreateTaskCalls;
        var job = await RunAsync(client, ChainGraph("local", "flux-kontext-pro", "kling-2.6-image-to-video"));
        var jobId = job.GetProperty("id").GetString()!;
        Assert.Equal(calls, host.Kie.CreateTaskCalls);

        var images = await ItemAssetsAsync(jobId, "images");
        var clips = await ItemAssetsAsync(jobId, "clips");
        Assert.Equal(3, images.Count);
        Assert.Equal(3, clips.Count);
        // Clip i is made from image i and told scene i's visual prompt.
        var sources = await host.StringsAsync("""
            SELECT a.metadata->>'source_asset_id' FROM unnest($1::text[]) WITH ORDINALITY c(id, i) JOIN assets a ON a.id = c.id ORDER BY c.i
            """, new object[] { clips.ToArray() });
        Assert.Equal(images, sources);
        var scenes = await ScenePromptsAsync(jobId);
        var prompts = await host.StringsAsync("SELECT prompt FROM kai_generations WHERE job_id = $1 AND node_id = 'clips' ORDER BY item_index", jobId);
        Assert.Equal(3, prompts.Count);
        for (var i = 0; i < 3; i++) Assert.Equal($"{scenes[i]}. slow camera move", prompts[i]);

        // And visibly so: the clip's first frame is its own image, not another scene's.
        using var image0 = await CopyAsync(images[0]);
        using var image1 = await CopyAsync(images[1]);
        using var clip0 = await CopyAsync(clips[0]);
        var own = await SsimAsync(clip0.Path, image0.Path);
        var other = await SsimAsync(clip0.Path, image1.Path);
        Assert.True(own > 0.8 && own > other + 0.05, $"SSIM of clip 0's first frame with image 0: {own}, with image 1: {other}");
        var clip = await (await client.GetAsync($"/v1/assets/{clips[0]}")).ReadJsonAsync(200);
        Assert.Equal(("video", 720, 1280), (clip.GetProperty("type").GetString(), clip.GetProperty("width").GetInt32(), clip.GetProperty("height").GetInt32()));
        Assert.InRange(clip.GetProperty("duration_seconds").GetDecimal(), 4.9m, 5.1m);

        // The render has the three clips: 15 s of video.
        using var video = await CopyAsync((string)(await host.ScalarAsync(
            "SELECT id FROM assets WHERE job_id = $1 AND node_id = 'render' AND content_type = 'video/mp4'", jobId))!);
        Assert.InRange(await DurationAsync(video.Path), 14.5, 15.5);
    }

    [Fact]
    public async Task OnKieEachClipGetsAShortLivedLinkToItsOwnImageAndTheChainIsPricedAsEstimated()
    {
        var client = await PaidClientAsync();
        var graph = ChainGraph("kie", "gpt-4o-image", "kling-2.6-image-to-video");
        var estimate = await (await client.PostAsJsonAsync("/v1/jobs/estimate", new { graph })).ReadJsonAsync(200);
        var perNode = estimate.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!);
        // The clips fan out over the images: three items, counted from the images' shape (one per scene).
        Assert.Equal((3, 18), (perNode["images"].GetProperty("items").GetInt32(), perNode["images"].GetProperty("kai_credits").GetInt32()));
        Assert.Equal((3, 165), (perNode["clips"].GetProperty("items").GetInt32(), perNode["clips"].GetProperty("kai_credits").GetInt32()));

        var fetchedBefore = host.Kie.InputsFetched.Count;
        var requestsBefore = host.Kie.Requests.Count;
        var job = await RunAsync(client, graph);
        var jobId = job.GetProperty("id").GetString()!;
        Assert.Equal(183, job.GetProperty("cost").GetProperty("kai_credits").GetInt32());

        var images = await ItemAssetsAsync(jobId, "images");
        var keys = await host.StringsAsync("SELECT storage_key FROM unnest($1::text[]) WITH ORDINALITY c(id, i) JOIN assets a ON a.id = c.id ORDER BY c.i", new object[] { images.ToArray() });
        var scenes = await ScenePromptsAsync(jobId);
        var created = host.Kie.Requests.Skip(requestsBefore).Where(r => r.Path == "/api/v1/jobs/createTask").Select(r => r.Body!.Value.GetProperty("input")).ToList();
        Assert.Equal(3, created.Count);
        var fetched = host.Kie.InputsFetched.Skip(fetchedBefore).ToList();
        for (var i = 0; i < 3; i++)
        {
            // Which clip task is item i: the one whose prompt is scene i's (they run in parallel).
            var input = created.Single(c => c.GetProperty("prompt").GetString() == $"{scenes[i]}. slow camera move");
            Assert.Equal(("5", 1), (input.GetProperty("duration").GetString(), input.GetProperty("image_urls").GetArrayLength()));
            var link = input.GetProperty("image_urls")[0].GetString()!;
            Assert.Contains(Uri.EscapeDataString(keys[i]).Replace("%2F", "/"), link);
            // The simulator fetched it as KIE would: the image itself.
            Assert.Contains(fetched, f => f.Url == link && f.Status == 200 && f.ContentType == "image/png" && f.Bytes > 1000);
            // Short-lived: it expires with the generation's deadline (120 s here) and a 10 minute margin, not a day later.
            var expires = DateTimeOffset.Parse(Uri.UnescapeDataString(ExpiryOf().Match(link).Groups[1].Value), CultureInfo.InvariantCulture);
            Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.Zero, TimeSpan.FromMinutes(13));
        }
        // Generations from input media are never reused: no reuse key.
        Assert.Equal(0L, await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1 AND node_id = 'clips' AND reuse_key IS NOT NULL", jobId));
        Assert.Equal(3L, await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1 AND node_id = 'clips' AND status = 'completed' AND credits_used = 55", jobId));
    }

    [Fact]
    public async Task AModelThatCannotTakeTheConnectedInputOrNeedsOneItDoesNotGetIsRefusedNamingModelAndPort()
    {
        var client = await PaidClientAsync();
        object Graph(object clipParams) => new
        {
            name = $"chain-{Guid.NewGuid():N}",
            graph = new
            {
                nodes = new object[]
                {
                    new { id = "script", type = "Script.Generate", @params = new { prompt = "lighthouses" } },
                    new { id = "images", type = "Input.KAI.GenerateImage", @params = new { provider = "local" } },
                    new { id = "clips", type = "Input.KAI.GenerateVideo", @params = clipParams },
                },
                edges = new object[] { new { from = "script", to = "images" }, new { from = "images", to = "clips" } },
            },
        };
        var textOnly = await (await client.PostAsJsonAsync("/v1/workflows", Graph(new { model = "kling-2.6-text-to-video", prompt = "move" })))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        var error = Assert.Single(textOnly.GetProperty("errors").EnumerateArray());
        Assert.Equal("graph.nodes[2].params.model", error.GetProperty("field").GetString());
        Assert.StartsWith("kling-2.6-text-to-video cannot take images on 'media'", error.GetProperty("message").GetString());
        Assert.Contains("kling-2.6-image-to-video", error.GetProperty("message").GetString());
        await (await client.PostAsJsonAsync("/v1/workflows", Graph(new { model = "kling-2.6-image-to-video", prompt = "move" }))).ReadJsonAsync(201);
        // Veo takes images too (as first frame).
        await (await client.PostAsJsonAsync("/v1/workflows", Graph(new { model = "veo-3.1-quality", prompt = "move" }))).ReadJsonAsync(201);

        // An image-to-video model without an image: refused, unless the image is given by hand.
        object Alone(object @params) => new
        {
            name = $"alone-{Guid.NewGuid():N}",
            graph = new { nodes = new object[] { new { id = "clip", type = "Input.KAI.GenerateVideo", @params } }, edges = Array.Empty<object>() },
        };
        var alone = await (await client.PostAsJsonAsync("/v1/workflows", Alone(new { model = "sora-2-image-to-video", prompt = "move" }))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0].params.model"], alone.Fields());
        Assert.Contains("needs an input image", alone.GetProperty("errors")[0].GetProperty("message").GetString());
        await (await client.PostAsJsonAsync("/v1/workflows",
            Alone(new { model = "sora-2-image-to-video", prompt = "move", model_params = new { image_urls = new[] { "https://example.com/a.png" } } }))).ReadJsonAsync(201);
    }

    [Fact]
    public async Task DirectGenerationsTakeOneImageOfTheOrgForAModelThatTakesImages()
    {
        var client = await PaidClientAsync();
        var image = (await client.UploadAsync(await DrawPngAsync(), "still.png")).GetProperty("id").GetString()!;

        var started = await (await client.PostAsJsonAsync("/v1/kai/generate-video",
            new { model = "kling-2.6-image-to-video", prompt = "the camera drifts", provider = "local", asset_ids = new[] { image } })).ReadJsonAsync(202);
        var id = started.GetProperty("id").GetString()!;
        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal("completed", (await client.JobEndedAsync(generation.GetProperty("job_id").GetString()!, TimeSpan.FromSeconds(60))).GetProperty("status").GetString());
        generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        var clip = generation.GetProperty("result_asset_ids")[0].GetString()!;
        Assert.Equal(image, (string?)await host.ScalarAsync("SELECT metadata->>'source_asset_id' FROM assets WHERE id = $1", clip));

        var textModel = await (await client.PostAsJsonAsync("/v1/kai/generate-video",
            new { model = "kling-2.6-text-to-video", prompt = "x", asset_ids = new[] { image } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["model"], textModel.Fields());
        var two = await (await client.PostAsJsonAsync("/v1/kai/generate-image",
            new { model = "nano-banana-edit", prompt = "x", asset_ids = new[] { image, image } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["asset_ids"], two.Fields());
        var stranger = (await host.RegisterAsync()).Client();
        var theirs = await (await stranger.PostAsJsonAsync("/v1/kai/generate-image",
            new { model = "nano-banana-edit", prompt = "x", asset_ids = new[] { image } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["asset_ids[0]"], theirs.Fields());
        Assert.Contains("no ready asset", theirs.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Equal(["model"], (await (await client.PostAsJsonAsync("/v1/kai/generate-image",
            new { model = "sora-2-image-to-video", prompt = "x" })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [GeneratedRegex("[?&]se=([^&]+)")]
    private static partial Regex ExpiryOf();

    private async Task<TemporaryCopy> CopyAsync(string assetId) =>
        await StoredAssets.CopyAsync(host.Storage, (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", assetId))!);

    private static async Task<byte[]> DrawPngAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"chain-{Guid.NewGuid():N}.png");
        await FfmpegAsync(["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=360x640", "-frames:v", "1", path]);
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return bytes;
    }

    /// <summary>SSIM of <paramref name="clip"/>'s first frame against <paramref name="image"/>, both at the clip's size.</summary>
    private static async Task<double> SsimAsync(string clip, string image)
    {
        var log = await FfmpegAsync(["-v", "info", "-nostats", "-i", clip, "-i", image, "-filter_complex",
            "[0:v]trim=end_frame=1,format=gray[a];[1:v]scale=720:1280:force_original_aspect_ratio=increase,crop=720:1280,format=gray[b];[a][b]ssim", "-f", "null", "-"]);
        return double.Parse(Regex.Match(log, @"All:([\d.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static async Task<double> DurationAsync(string path)
    {
        using var probe = Process.Start(new ProcessStartInfo("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path]) { RedirectStandardOutput = true })!;
        var text = await probe.StandardOutput.ReadToEndAsync();
        await probe.WaitForExitAsync();
        return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task<string> FfmpegAsync(string[] args)
    {
        using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", args) { RedirectStandardError = true })!;
        var log = await ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.WaitForExitAsync();
        Assert.True(ffmpeg.ExitCode == 0, log);
        return log;
    }
}
