using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Media;
using FentaWeb.Simulators;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>Polling a storyboard until its work has ended.</summary>
internal static class Storyboards
{
    /// <summary>GET the storyboard until <paramref name="done"/> holds.</summary>
    public static async Task<JsonElement> UntilAsync(HttpClient client, string id, Func<JsonElement, bool> done, int seconds = 120)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var storyboard = await (await client.GetAsync($"/v1/storyboards/{id}")).ReadJsonAsync(200);
            if (done(storyboard)) return storyboard;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"storyboard {id} did not get there in {seconds} s: {storyboard}");
            await Task.Delay(250);
        }
    }

    public static bool Idle(JsonElement s) =>
        s.GetProperty("status").GetString() is "ready" or "failed" && s.GetProperty("scenes").EnumerateArray().All(x => x.GetProperty("status").GetString() != "generating");

    public static List<JsonElement> Scenes(JsonElement s) => [.. s.GetProperty("scenes").EnumerateArray()];

    public static List<string?> Images(JsonElement s) => [.. Scenes(s).Select(x => x.GetProperty("image_asset_id").GetString())];
}

/// <summary>
/// Storyboards over HTTP with the real worker and renderer, generations drawn locally (no KIE key): planned from a
/// prompt or a given script, edited, one scene redrawn, reordered and rendered to an MP4 of the scene images.
/// </summary>
public class StoryboardTests(StoryboardTests.Host host) : IClassFixture<StoryboardTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override bool RunsWorker => true;
        protected override bool RunsRenderer => true;
        protected override void ConfigureWorker(IServiceCollection services) { } // the real activities: espeak-ng, ffmpeg
    }

    private static async Task<JsonElement> CreateAsync(HttpClient client, object body)
    {
        var created = await (await client.PostAsJsonAsync("/v1/storyboards", body)).ReadJsonAsync(202);
        Assert.Equal("generating", created.GetProperty("status").GetString());
        return created;
    }

    [Fact]
    public async Task APromptBecomesScenesWithAnImageEachThatAreEditedRedrawnOneAtATimeReorderedAndRendered()
    {
        var client = (await host.RegisterAsync()).Client();
        var created = await CreateAsync(client, new { prompt = "a lighthouse keeper's last winter", scene_count = 3, aspect_ratio = "9:16", style = "story" });
        var id = created.GetProperty("id").GetString()!;
        var planJob = created.GetProperty("job_id").GetString()!;
        Assert.Equal(3, created.GetProperty("estimate").GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "images").GetProperty("items").GetInt32());
        // While the plan runs, the scenes are not the person's to edit.
        await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}", new { title = "Too soon" })).ReadProblemAsync(409, "STORYBOARD_BUSY");

        var ready = await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        var scenes = Storyboards.Scenes(ready);
        Assert.Equal(3, scenes.Count);
        Assert.Equal([1, 2, 3], scenes.Select(s => s.GetProperty("index").GetInt32()));
        using var http = new HttpClient();
        foreach (var scene in scenes)
        {
            Assert.Equal("ready", scene.GetProperty("status").GetString());
            Assert.False(string.IsNullOrWhiteSpace(scene.GetProperty("narration").GetString()));
            Assert.True(scene.GetProperty("duration_seconds").GetDouble() >= 2);
            var image = await http.GetByteArrayAsync(scene.GetProperty("image_url").GetString());
            Assert.True(image.Length > 1000);
        }
        Assert.Equal(3L, await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1", planJob));
        Assert.Equal(scenes.Select(s => s.GetProperty("generation_id").GetString()).Order(),
            await host.StringsAsync("SELECT id FROM kai_generations WHERE job_id = $1 ORDER BY id", planJob));
        Assert.False(string.IsNullOrEmpty(ready.GetProperty("title").GetString())); // the script's, as none was given

        // Edit scene 2's text and duration.
        var edited = await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/2",
            new { narration = "The lamp turns one last time over a quiet sea.", duration_seconds = 4.5 })).ReadJsonAsync(200);
        Assert.Equal(("The lamp turns one last time over a quiet sea.", 4.5),
            (Storyboards.Scenes(edited)[1].GetProperty("narration").GetString(), Storyboards.Scenes(edited)[1].GetProperty("duration_seconds").GetDouble()));

        // Redraw scene 2 only: one new generation, in a job of its own; the other scenes keep their images.
        var org = (string)(await host.ScalarAsync("SELECT org_id FROM storyboards WHERE id = $1", id))!;
        var generationsBefore = await host.CountAsync("SELECT count(*) FROM kai_generations WHERE org_id = $1", org);
        var before = Storyboards.Images(edited);
        var regenerating = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/scenes/2/regenerate", new { image_prompt = "a lighthouse lamp at night, oil painting" }))
            .ReadJsonAsync(202);
        var scene2 = Storyboards.Scenes(regenerating)[1];
        Assert.Equal(("generating", "a lighthouse lamp at night, oil painting"), (scene2.GetProperty("status").GetString(), scene2.GetProperty("image_prompt").GetString()));
        Assert.Equal(1, regenerating.GetProperty("estimate").GetProperty("nodes").EnumerateArray().Single().GetProperty("items").GetInt32());
        // The scene being drawn is not editable meanwhile; the others are.
        await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/2", new { narration = "Not now." })).ReadProblemAsync(409, "SCENE_BUSY");
        await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/scenes/2/regenerate", new { })).ReadProblemAsync(409, "SCENE_BUSY");

        var redrawn = await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        var after = Storyboards.Images(redrawn);
        Assert.Equal(before[0], after[0]);
        Assert.Equal(before[2], after[2]);
        Assert.NotEqual(before[1], after[1]);
        Assert.Equal(generationsBefore + 1, await host.CountAsync("SELECT count(*) FROM kai_generations WHERE org_id = $1", org));
        var newGeneration = Storyboards.Scenes(redrawn)[1].GetProperty("generation_id").GetString()!;
        Assert.Equal(scene2.GetProperty("generation_id").GetString(), newGeneration);
        Assert.Equal("a lighthouse lamp at night, oil painting. Style: story",
            (await (await client.GetAsync($"/v1/kai/generations/{newGeneration}")).ReadJsonAsync(200)).GetProperty("prompt").GetString());

        // Move scene 3 to the front, then put the order back by ids.
        var ids = Storyboards.Scenes(redrawn).Select(s => s.GetProperty("id").GetString()!).ToList();
        var moved = await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/3", new { index = 1 })).ReadJsonAsync(200);
        Assert.Equal([ids[2], ids[0], ids[1]], Storyboards.Scenes(moved).Select(s => s.GetProperty("id").GetString()));
        var reordered = await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}", new { scene_order = new[] { ids[1], ids[2], ids[0] } })).ReadJsonAsync(200);
        Assert.Equal([ids[1], ids[2], ids[0]], Storyboards.Scenes(reordered).Select(s => s.GetProperty("id").GetString()));
        var order = Storyboards.Images(reordered);

        // Render: the images in the scenes' order, each while its narration is spoken.
        var rendering = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/render", new { quality = "draft", resolution = "720p", subtitles = "bold_outline" }))
            .ReadJsonAsync(202);
        Assert.Equal("rendering", rendering.GetProperty("status").GetString());
        Assert.True(rendering.GetProperty("estimate").GetProperty("total").GetProperty("render_seconds").GetDecimal() > 0);
        await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/1", new { narration = "Not now." })).ReadProblemAsync(409, "STORYBOARD_BUSY");
        var renderJob = rendering.GetProperty("render").GetProperty("job_id").GetString()!;

        var rendered = await Storyboards.UntilAsync(client, id, s => s.GetProperty("status").GetString() != "rendering", 240);
        var render = rendered.GetProperty("render");
        Assert.Equal("completed", render.GetProperty("status").GetString());
        var file = Path.Combine(host.LocalFolder, $"{id}.mp4");
        Directory.CreateDirectory(host.LocalFolder);
        await File.WriteAllBytesAsync(file, await http.GetByteArrayAsync(render.GetProperty("video_url").GetString()));
        var video = await FfProbe.ProbeAsync(file, CancellationToken.None);
        Assert.Equal((720, 1280, "h264", "aac"), (video.Width, video.Height, video.VideoCodec, video.AudioCodec));
        var narration = JsonDocument.Parse((string)(await host.ScalarAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'voice' AND item_index = 0", renderJob))!)
            .RootElement.Deserialize<Narration>(FentaWeb.Domain.Common.FentaJson.Options)!;
        Assert.InRange(video.DurationSeconds!.Value, narration.DurationSeconds + Narration.TailSeconds - 0.2, narration.DurationSeconds + Narration.TailSeconds + 0.2);
        // One cut per scene, where its narration starts, showing its image.
        var timeline = JsonDocument.Parse((string)(await host.ScalarAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'timeline' AND item_index = 0", renderJob))!).RootElement;
        Assert.Equal(order, timeline.GetProperty("scenes").EnumerateArray().Select(s => s.GetProperty("source").GetString()));
        Assert.Equal(0, timeline.GetProperty("overlays").GetArrayLength()); // not the template's headline: the scenes are the person's own
        var starts = narration.Sentences.GroupBy(s => s.Scene).Select(g => g.Min(s => s.Start)).ToList();
        Assert.Equal(3, starts.Count);
        Assert.InRange(timeline.GetProperty("scenes")[1].GetProperty("start").GetDouble(), starts[1] - 0.01, starts[1] + 0.01);
        Assert.Equal(Storyboards.Scenes(reordered)[0].GetProperty("narration").GetString()!.Split(' ')[0], narration.Sentences[0].Text.Split(' ')[0]);
    }

    [Fact]
    public async Task AGivenScriptIsUsedAsItIsWithItsDurationsAndTextIsSplitIntoScenes()
    {
        var client = (await host.RegisterAsync()).Client();
        var created = await CreateAsync(client, new
        {
            title = "Tides",
            aspect_ratio = "1:1",
            script = new
            {
                scenes = new object[]
                {
                    new { narration = "The sea goes out twice a day.", image_prompt = "a beach at low tide", duration = 3.5 },
                    new { narration = "And twice a day it comes back." },
                },
            },
        });
        Assert.Equal(["The sea goes out twice a day.", "And twice a day it comes back."],
            Storyboards.Scenes(created).Select(s => s.GetProperty("narration").GetString()));
        var ready = await Storyboards.UntilAsync(client, created.GetProperty("id").GetString()!, Storyboards.Idle);
        var scenes = Storyboards.Scenes(ready);
        Assert.Equal(("Tides", "ready", 2), (ready.GetProperty("title").GetString(), ready.GetProperty("status").GetString(), scenes.Count));
        Assert.Equal(("The sea goes out twice a day.", "a beach at low tide", 3.5),
            (scenes[0].GetProperty("narration").GetString(), scenes[0].GetProperty("image_prompt").GetString(), scenes[0].GetProperty("duration_seconds").GetDouble()));
        Assert.Equal("And twice a day it comes back.", scenes[1].GetProperty("image_prompt").GetString()); // the narration, without a prompt
        Assert.All(scenes, s => Assert.Equal("ready", s.GetProperty("status").GetString()));
        var image = await (await client.GetAsync($"/v1/assets/{scenes[0].GetProperty("image_asset_id").GetString()}")).ReadJsonAsync(200);
        Assert.Equal(image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32()); // 1:1

        // Text: its paragraphs are the scenes; or its sentences shared out over scene_count.
        var paragraphs = await CreateAsync(client, new { script = "One lamp.\n\nTwo ships. A storm.\n\nMorning." });
        Assert.Equal(["One lamp.", "Two ships. A storm.", "Morning."], Storyboards.Scenes(paragraphs).Select(s => s.GetProperty("narration").GetString()));
        var shared = await CreateAsync(client, new { script = "One. Two. Three. Four.", scene_count = 2 });
        Assert.Equal(["One. Two.", "Three. Four."], Storyboards.Scenes(shared).Select(s => s.GetProperty("narration").GetString()));
        await Storyboards.UntilAsync(client, paragraphs.GetProperty("id").GetString()!, Storyboards.Idle);
        await Storyboards.UntilAsync(client, shared.GetProperty("id").GetString()!, Storyboards.Idle);

        // Added and removed scenes; a new one has no image until it is drawn.
        var id = created.GetProperty("id").GetString()!;
        var added = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/scenes", new { narration = "Then the gulls.", index = 2 })).ReadJsonAsync(201);
        Assert.Equal(("Then the gulls.", "pending"), (Storyboards.Scenes(added)[1].GetProperty("narration").GetString(), Storyboards.Scenes(added)[1].GetProperty("status").GetString()));
        await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/render", new { })).ReadProblemAsync(409, "SCENES_NOT_READY");
        var removed = await (await client.DeleteAsync($"/v1/storyboards/{id}/scenes/2")).ReadJsonAsync(200);
        Assert.Equal(2, Storyboards.Scenes(removed).Count);
        var list = await (await client.GetAsync("/v1/storyboards?limit=2")).ReadJsonAsync(200);
        Assert.Equal(2, list.GetProperty("data").GetArrayLength());
        Assert.True(list.GetProperty("has_more").GetBoolean());
        Assert.Equal((await (await client.GetAsync($"/v1/storyboards?limit=2&cursor={list.GetProperty("next_cursor").GetString()}")).ReadJsonAsync(200))
            .GetProperty("data")[0].GetProperty("id").GetString(), id);
        await (await client.DeleteAsync($"/v1/storyboards/{id}")).ReadJsonAsync(204);
        await (await client.GetAsync($"/v1/storyboards/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task ARenderCanAnimateEachSceneImageAndGenerateItsMusic()
    {
        var client = (await host.RegisterAsync()).Client();
        var created = await CreateAsync(client, new { script = "Waves fold over. Gulls lift off.", provider = "local" });
        var id = created.GetProperty("id").GetString()!;
        var images = Storyboards.Images(await Storyboards.UntilAsync(client, id, Storyboards.Idle));

        var rendering = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/render", new
        {
            quality = "draft", resolution = "720p", subtitles = false,
            image_to_video = new { model = "kling-2.6-image-to-video" },
            music = new { prompt = "calm ambient piano", volume = 0.3 },
        })).ReadJsonAsync(202);
        var estimate = rendering.GetProperty("estimate").GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!);
        Assert.Equal(2, estimate["clips"].GetProperty("items").GetInt32());
        Assert.True(estimate.ContainsKey("music"));
        var renderJob = rendering.GetProperty("render").GetProperty("job_id").GetString()!;
        var rendered = await Storyboards.UntilAsync(client, id, s => s.GetProperty("status").GetString() != "rendering", 300);
        Assert.Equal("completed", rendered.GetProperty("render").GetProperty("status").GetString());

        // Each scene's image became a clip (in scene order, from that image), and the clips are what the video shows.
        var clips = await host.StringsAsync("""
            SELECT r.output->0->>'asset_id' FROM node_runs r WHERE r.job_id = $1 AND r.node_id = 'clips' AND r.item_index >= 0 ORDER BY r.item_index
            """, renderJob);
        Assert.Equal(2, clips.Count);
        Assert.Equal(images.Select(x => x!).ToList(), await host.StringsAsync("""
            SELECT a.metadata->>'source_asset_id' FROM unnest($1::text[]) WITH ORDINALITY c(id, i) JOIN assets a ON a.id = c.id ORDER BY c.i
            """, new object[] { clips.ToArray() }));
        var timeline = JsonDocument.Parse((string)(await host.ScalarAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'timeline' AND item_index = 0", renderJob))!).RootElement;
        Assert.Equal(clips, timeline.GetProperty("scenes").EnumerateArray().Select(x => x.GetProperty("source").GetString()));
        Assert.All(timeline.GetProperty("scenes").EnumerateArray(), x => Assert.Equal("video", x.GetProperty("kind").GetString()));
        // The music was generated and mixed under the narration.
        Assert.Equal(["audio", "video", "video"], await host.StringsAsync("SELECT type FROM kai_generations WHERE job_id = $1 ORDER BY type", renderJob));
        Assert.Equal("succeeded", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1 AND node_id = 'mix' AND item_index = 0", renderJob))!);

        var bad = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/render", new { image_to_video = new { model = "flux-kontext-pro" }, music = new { prompt = "x", asset_id = "ast_1" } }))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["image_to_video.model", "music"], bad.Fields().Order());
    }

    [Fact]
    public async Task APlanStartedButNotRecordedIsFoundByItsKeyAndOneNeverStartedFails()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var created = await CreateAsync(client, new { script = "A bell rings. The doors open." });
        var id = created.GetProperty("id").GetString()!;
        var plan = created.GetProperty("job_id").GetString()!;
        // As if the API had stopped between starting the plan and recording it.
        await host.ScalarAsync("UPDATE storyboards SET job_id = NULL WHERE id = $1", id);
        var ready = await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        Assert.Equal(("ready", plan), (ready.GetProperty("status").GetString(), ready.GetProperty("job_id").GetString()));
        Assert.Equal(2, Storyboards.Scenes(ready).Count(x => x.GetProperty("status").GetString() == "ready"));

        // Stopped before the plan started: given up once a run would long have been scheduled.
        await host.ScalarAsync("""
            INSERT INTO storyboards (id, org_id, title, settings, status, created_at)
            VALUES ('sb_neverstarted', $1, 'Lost', '{"scene_count": 1, "aspect_ratio": "9:16", "image_model": "flux-kontext-pro", "provider": "local", "lang": "en"}',
                    'generating', now() - interval '3 minutes')
            """, session.OrgId);
        var lost = await (await client.GetAsync("/v1/storyboards/sb_neverstarted")).ReadJsonAsync(200);
        Assert.Equal("failed", lost.GetProperty("status").GetString());
        Assert.Contains("never started", lost.GetProperty("error").GetString());
    }

    [Fact]
    public async Task AnotherOrgsStoryboardIsNotFound()
    {
        var owner = (await host.RegisterAsync()).Client();
        var created = await CreateAsync(owner, new { script = "Only mine." });
        var id = created.GetProperty("id").GetString()!;
        await Storyboards.UntilAsync(owner, id, Storyboards.Idle);
        var other = (await host.RegisterAsync()).Client();
        await (await other.GetAsync($"/v1/storyboards/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await other.PatchAsJsonAsync($"/v1/storyboards/{id}", new { title = "Theirs" })).ReadProblemAsync(404, "NOT_FOUND");
        await (await other.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/1", new { narration = "Theirs." })).ReadProblemAsync(404, "NOT_FOUND");
        await (await other.PostAsJsonAsync($"/v1/storyboards/{id}/scenes/1/regenerate", new { })).ReadProblemAsync(404, "NOT_FOUND");
        await (await other.PostAsJsonAsync($"/v1/storyboards/{id}/render", new { })).ReadProblemAsync(404, "NOT_FOUND");
        await (await other.DeleteAsync($"/v1/storyboards/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.DoesNotContain((await (await other.GetAsync("/v1/storyboards")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray(),
            s => s.GetProperty("id").GetString() == id);
        Assert.Equal("Only mine.", Storyboards.Scenes(await (await owner.GetAsync($"/v1/storyboards/{id}")).ReadJsonAsync(200))[0].GetProperty("narration").GetString());
    }

    [Fact]
    public async Task BadBodiesAreRefusedNamingTheField()
    {
        var client = (await host.RegisterAsync()).Client();
        async Task<IEnumerable<string>> Refused(HttpResponseMessage response) => (await response.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields();

        Assert.Equal(["prompt"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { scene_count = 3 })));
        Assert.Equal(["script"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { prompt = "x", script = "y" })));
        Assert.Equal(["scene_count"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { prompt = "fox" })));
        Assert.Equal(["scene_count"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { prompt = "fox", scene_count = 21 })));
        Assert.Equal(["scene_count"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { prompt = "fox", scene_count = 0 })));
        Assert.Equal(["aspect_ratio", "image_model", "provider"], (await Refused(await client.PostAsJsonAsync("/v1/storyboards",
            new { prompt = "fox", scene_count = 2, aspect_ratio = "2:1", image_model = "veo-3.1-fast", provider = "cloud" }))).Order());
        Assert.Equal(["script.scenes[0].narration", "script.scenes[1].duration"], (await Refused(await client.PostAsJsonAsync("/v1/storyboards",
            new { script = new { scenes = new object[] { new { narration = " " }, new { narration = "ok", duration = 0 } } } }))).Order());
        Assert.Equal(["script.scenes"], await Refused(await client.PostAsJsonAsync("/v1/storyboards", new { script = new { scenes = Array.Empty<object>() } })));

        var created = await CreateAsync(client, new { script = "First. Second.", scene_count = 2 });
        var id = created.GetProperty("id").GetString()!;
        await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        Assert.Equal(["duration_seconds", "index"], (await Refused(await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/1", new { duration_seconds = 0, index = 9 }))).Order());
        Assert.Equal(["narration"], await Refused(await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/1", new { narration = "" })));
        Assert.Equal(["scene_order"], await Refused(await client.PatchAsJsonAsync($"/v1/storyboards/{id}", new { scene_order = new[] { "scene-1" } })));
        Assert.Equal(["image_prompt"], await Refused(await client.PostAsJsonAsync($"/v1/storyboards/{id}/scenes/1/regenerate", new { image_prompt = "" })));
        Assert.Equal(["music.asset_id", "quality", "subtitles"], (await Refused(await client.PostAsJsonAsync($"/v1/storyboards/{id}/render",
            new { subtitles = "fancy", quality = "ultra", music = new { asset_id = "ast_nope" } }))).Order());
        Assert.Equal(["template_id"], await Refused(await client.PostAsJsonAsync($"/v1/storyboards/{id}/render", new { template_id = "tmpl_explainer_landscape_v1" })));
        await (await client.PatchAsJsonAsync($"/v1/storyboards/{id}/scenes/3", new { narration = "Third." })).ReadProblemAsync(404, "NOT_FOUND");
    }
}

/// <summary>Storyboards on the KIE simulator: the plan pays for one image per scene, a redraw for that one image alone.</summary>
public class StoryboardKieTests(StoryboardKieTests.Host host) : IClassFixture<StoryboardKieTests.Host>
{
    public sealed class Host : KieHost
    {
        protected override string PollSeconds => "2";
    }

    [Fact]
    public async Task RedrawingOneSceneChargesThatOneImageOnly()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        var client = session.Client();
        var price = (await (await client.GetAsync("/v1/models/gpt-4o-image")).ReadJsonAsync(200)).GetProperty("base_credits").GetInt32();
        async Task<long> Credits() => await host.CountAsync("SELECT coalesce(sum(kai_credits), 0) FROM usage_records WHERE org_id = $1", session.OrgId);
        var calls = host.Kie.CreateTaskCalls;

        var created = await (await client.PostAsJsonAsync("/v1/storyboards",
            new { script = "A kite rises. The string hums. It lands.", image_model = "gpt-4o-image", provider = "kie" })).ReadJsonAsync(202);
        Assert.Equal(3 * price, created.GetProperty("estimate").GetProperty("total").GetProperty("kai_credits").GetInt32());
        var id = created.GetProperty("id").GetString()!;
        var ready = await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        Assert.All(Storyboards.Scenes(ready), s => Assert.Equal("ready", s.GetProperty("status").GetString()));
        Assert.Equal(calls + 3, host.Kie.CreateTaskCalls);
        Assert.Equal(3 * price, await Credits());
        Assert.Equal(3 * price, ready.GetProperty("total_credits_used").GetInt32());

        var regenerating = await (await client.PostAsJsonAsync($"/v1/storyboards/{id}/scenes/2/regenerate", new { image_prompt = "a red kite, close up" })).ReadJsonAsync(202);
        Assert.Equal(price, regenerating.GetProperty("estimate").GetProperty("total").GetProperty("kai_credits").GetInt32());
        var redrawn = await Storyboards.UntilAsync(client, id, Storyboards.Idle);
        Assert.Equal("ready", Storyboards.Scenes(redrawn)[1].GetProperty("status").GetString());
        Assert.Equal(calls + 4, host.Kie.CreateTaskCalls);
        Assert.Contains("a red kite, close up", host.Kie.Requests.Last(r => r.Body is { } b && b.ToString().Contains("kite", StringComparison.Ordinal)).Body!.Value.ToString());
        Assert.Equal(4 * price, await Credits());
        Assert.Equal(4 * price, redrawn.GetProperty("total_credits_used").GetInt32());
        Assert.Equal(Storyboards.Images(ready)[0], Storyboards.Images(redrawn)[0]);
        Assert.NotEqual(Storyboards.Images(ready)[1], Storyboards.Images(redrawn)[1]);
    }
}
