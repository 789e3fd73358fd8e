using System.Text.Json;
using FentaWeb.Runs.Assets;
using FentaWeb.Simulators;
using FentaWeb.Testing;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Script.Generate through the engine with the real activity: offline writer, and the LLM client via the simulator.</summary>
public class ScriptActivityTests(RunHostWithoutWorker host) : IClassFixture<RunHostWithoutWorker>
{
    private const string Graph = """
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "night markets of Taipei", "genre": "story", "duration_seconds": 20}}], "edges": []}
        """;

    [Fact]
    public async Task OfflineWriterProducesTheScriptWithoutKeys()
    {
        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();
        var job = await host.StartJobAsync(Graph);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        var script = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", job);
        Assert.Equal("template", script.GetProperty("source").GetString());
        Assert.Contains("night markets of taipei", script.GetProperty("scenes")[0].GetProperty("narration").GetString()!.ToLowerInvariant());
        await worker.StopAsync();
    }

    [Fact]
    public async Task LlmWriterIsUsedWhenConfiguredAndRateLimitsOnlyDelayIt()
    {
        await using var llm = new OpenAiSimulator();
        await llm.StartAsync();
        llm.EnqueueError(429, """{"error": {"message": "rate limited"}}""", retryAfterSeconds: 1);
        var settings = host.WorkerSettings();
        settings["FENTA_LLM_BASE_URL"] = llm.ApiBase.ToString();
        settings["FENTA_LLM_API_KEY"] = OpenAiSimulator.ValidKey;
        settings["FENTA_LLM_MODEL"] = "sim-model";
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();

        var job = await host.StartJobAsync(Graph);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(20)));
        var script = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", job);
        Assert.Equal(("llm:sim-model", "Rivers of Light"), (script.GetProperty("source").GetString(), script.GetProperty("title").GetString()));
        Assert.Equal(2, llm.Requests.Count);
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1", job))!);
        // The completion's usage is metered once, and the job's token cost says so.
        var metered = await host.JsonAsync("""
            SELECT json_build_object('prompt', u.llm_tokens_prompt, 'output', u.llm_tokens_output, 'job', j.cost_tokens, 'records', (SELECT count(*) FROM usage_records WHERE job_id = $1))::text
            FROM usage_records u JOIN jobs j ON j.id = u.job_id WHERE u.job_id = $1
            """, job);
        var (prompt, completion) = llm.LastUsage;
        Assert.True(prompt > 100 && completion > 50, $"usage {prompt} + {completion} is not counted from the messages"); // the system prompt alone is over 100
        Assert.Equal((prompt, completion, prompt + completion, 1), (metered.GetProperty("prompt").GetInt32(), metered.GetProperty("output").GetInt32(), metered.GetProperty("job").GetInt32(),
            metered.GetProperty("records").GetInt32()));
        await worker.StopAsync();
    }

    [Fact]
    public async Task VoiceSpeaksTheScriptWithExactSentenceTimings()
    {
        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "the history of tea", "genre": "education", "duration_seconds": 15}},
                       {"id": "v", "type": "Voice.TTS", "params": {"voice": "alloy_en", "speed": 1.1}}],
             "edges": [{"from": "s", "to": "v"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();

        var narration = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job);
        Assert.Equal(("espeak", "en"), (narration.GetProperty("provider").GetString(), narration.GetProperty("lang").GetString()));
        var sentences = narration.GetProperty("sentences").EnumerateArray().ToList();
        Assert.True(sentences.Count >= 3);
        for (var i = 1; i < sentences.Count; i++)
            Assert.Equal(0.25, sentences[i].GetProperty("start").GetDouble() - sentences[i - 1].GetProperty("end").GetDouble(), 2);
        foreach (var sentence in sentences)
        {
            var words = sentence.GetProperty("words").EnumerateArray().ToList();
            Assert.Equal(sentence.GetProperty("text").GetString()!.Split(' ').Length, words.Count);
            Assert.Equal(sentence.GetProperty("start").GetDouble(), words[0].GetProperty("start").GetDouble(), 2);
            Assert.Equal(sentence.GetProperty("end").GetDouble(), words[^1].GetProperty("end").GetDouble(), 2);
        }

        var duration = narration.GetProperty("duration_seconds").GetDouble();
        Assert.Equal(duration, sentences[^1].GetProperty("end").GetDouble(), 2);
        var assetId = narration.GetProperty("asset_id").GetString()!;
        var (key, type, probed) = ((string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", assetId))!,
            (string)(await host.ScalarAsync("SELECT type FROM assets WHERE id = $1 AND job_id = $2 AND node_id = 'v'", assetId, job))!,
            Convert.ToDouble(await host.ScalarAsync("SELECT duration_seconds FROM assets WHERE id = $1", assetId)));
        Assert.Equal("audio", type);
        Assert.Equal(duration, probed, 2);
        var stored = await host.LocalCopyAsync(key);
        var info = await FentaWeb.Domain.Media.FfProbe.ProbeAsync(stored, CancellationToken.None);
        Assert.Equal(duration, info.DurationSeconds!.Value, 2);
        Assert.InRange(await FentaWeb.Domain.Media.Loudness.IntegratedLufsAsync(stored, CancellationToken.None), -15.5, -12.5); // espeak-ng alone sits near -21
    }

    [Fact]
    public async Task SubtitlesFollowTheNarrationAndCarryItOn()
    {
        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "deep sea creatures", "genre": "education", "duration_seconds": 12}},
                       {"id": "v", "type": "Voice.TTS"},
                       {"id": "sub", "type": "Subtitle.Auto", "params": {"style": "karaoke_bounce", "max_chars_per_line": 24}}],
             "edges": [{"from": "s", "to": "v"}, {"from": "v", "to": "sub"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();

        var track = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'sub'", job);
        var narration = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job);
        Assert.Equal(narration.GetProperty("asset_id").GetString(), track.GetProperty("narration").GetProperty("asset_id").GetString());
        var cues = track.GetProperty("cues").EnumerateArray().ToList();
        Assert.NotEmpty(cues);
        Assert.All(cues, c => Assert.All(c.GetProperty("lines").EnumerateArray(), l => Assert.True(l.GetString()!.Length <= 24)));
        Assert.True(cues[^1].GetProperty("end").GetDouble() <= narration.GetProperty("duration_seconds").GetDouble() + 0.001);

        var srtKey = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1 AND type = 'subtitles'", track.GetProperty("srt_asset_id").GetString()!))!;
        var srt = await StoredAssets.ReadTextAsync(host.TaskHub, srtKey);
        Assert.StartsWith("1\n00:00:00,000 --> ", srt);
        Assert.Equal(cues.Count, srt.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Length);
        var assKey = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", track.GetProperty("ass_asset_id").GetString()!))!;
        Assert.Contains("{\\kf", await StoredAssets.ReadTextAsync(host.TaskHub, assKey));
    }

    [Fact]
    public async Task AnUploadIsUsableOnlyOnceCompleted()
    {
        var png = Path.Combine(Path.GetTempPath(), $"still-{Guid.NewGuid():N}.png");
        await FentaWeb.Domain.Media.ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "color=teal:s=64x48", "-frames:v", "1", png],
            "could not draw a still", CancellationToken.None);
        var bytes = await File.ReadAllBytesAsync(png);
        File.Delete(png);
        var store = host.Uploads();
        var (upload, link) = await store.ReserveUploadAsync(new FentaWeb.Runs.Assets.NewAsset(RunHost.OrgId, "upload", "image/png", "still.png"), bytes.Length,
            CancellationToken.None);
        var graph = $$$"""{"nodes": [{"id": "u", "type": "Input.Upload", "params": {"asset_ids": ["{{{upload.Id}}}"]}}], "edges": []}""";
        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();

        var early = await host.StartJobAsync(graph);
        Assert.Equal("failed", await host.WaitForJobAsync(early));
        Assert.Equal("ASSET_NOT_FOUND", (string?)await host.ScalarAsync("SELECT error->>'code' FROM jobs WHERE id = $1", early));

        var put = new HttpRequestMessage(HttpMethod.Put, link.Url) { Content = new ByteArrayContent(bytes) };
        put.Headers.Add("x-ms-blob-type", "BlockBlob");
        Assert.Equal(System.Net.HttpStatusCode.Created, (await new HttpClient().SendAsync(put)).StatusCode);
        await store.CompleteUploadAsync(upload, DateTimeOffset.UtcNow, CancellationToken.None);
        await host.ExecAsync($"UPDATE assets SET status = '{upload.Status}', width = {upload.Width} WHERE id = '{upload.Id}'");

        var ready = await host.StartJobAsync(graph);
        Assert.Equal("completed", await host.WaitForJobAsync(ready));
        var media = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", ready);
        Assert.Equal((upload.Id, 64), (media[0].GetProperty("asset_id").GetString(), media[0].GetProperty("width").GetInt32()));
        await worker.StopAsync();
    }

    [Fact]
    public async Task MixDucksUploadedMusicUnderTheVoiceAtAboutMinus14Lufs()
    {
        var musicFile = Path.Combine(Path.GetTempPath(), $"music-{Guid.NewGuid():N}.wav");
        await FentaWeb.Domain.Media.ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=330:duration=4",
            "-ar", "44100", musicFile], CancellationToken.None);
        var store = host.Assets();
        var music = await store.AddFileAsync(new FentaWeb.Runs.Assets.NewAsset(RunHost.OrgId, "upload", "audio/wav", "music.wav"), musicFile, CancellationToken.None);
        File.Delete(musicFile);

        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();
        var job = await host.StartJobAsync($$$"""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "mountain trains", "duration_seconds": 10}},
                       {"id": "v", "type": "Voice.TTS"},
                       {"id": "m", "type": "Audio.Mix", "params": {"music_asset_id": "{{{music.Id}}}", "music_volume": 0.5}}],
             "edges": [{"from": "s", "to": "v"}, {"from": "v", "to": "m", "toPort": "voice"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();

        var voice = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job);
        var mix = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'm'", job);
        Assert.Equal(voice.GetProperty("sentences").GetRawText(), mix.GetProperty("sentences").GetRawText());
        var key = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", mix.GetProperty("asset_id").GetString()!))!;
        var path = await host.LocalCopyAsync(key);
        Assert.Equal(voice.GetProperty("duration_seconds").GetDouble(), (await FentaWeb.Domain.Media.FfProbe.ProbeAsync(path, CancellationToken.None)).DurationSeconds!.Value, 1);
        Assert.InRange(await FentaWeb.Domain.Media.Loudness.IntegratedLufsAsync(path, CancellationToken.None), -16.0, -12.0);
    }

    [Fact]
    public async Task TransformCompressesAndAdaptsOfflineButTranslationNeedsAnLlm()
    {
        using var worker = WorkerHost.Build([], host.WorkerSettings());
        await worker.StartAsync();
        string Graph(string transform) => $$$"""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "city gardens", "genre": "education", "duration_seconds": 40}},
                       {"id": "t", "type": "Script.Transform", "params": {{{transform}}}}],
             "edges": [{"from": "s", "to": "t"}]}
            """;
        var compress = await host.StartJobAsync(Graph("""{"operation": "compress", "target_duration_seconds": 15}"""));
        var adapt = await host.StartJobAsync(Graph("""{"operation": "adapt", "instructions": "make it a promo"}"""));
        var translate = await host.StartJobAsync(Graph("""{"operation": "translate", "target_lang": "de"}"""));
        Assert.Equal("completed", await host.WaitForJobAsync(compress));
        Assert.Equal("completed", await host.WaitForJobAsync(adapt));
        Assert.Equal("failed", await host.WaitForJobAsync(translate));
        await worker.StopAsync();

        var original = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 's'", compress);
        var shorter = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 't'", compress);
        int Words(System.Text.Json.JsonElement s) => s.GetProperty("scenes").EnumerateArray().Sum(x => x.GetProperty("narration").GetString()!.Split(' ').Length);
        Assert.True(Words(shorter) < Words(original));
        Assert.Equal("promo", (await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 't'", adapt)).GetProperty("genre").GetString());
        Assert.Equal("TRANSLATE_NEEDS_LLM", (await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", translate)).GetProperty("code").GetString());
    }

    [Fact]
    public async Task TransformTranslatesWithTheLlm()
    {
        await using var llm = new OpenAiSimulator();
        await llm.StartAsync();
        var settings = host.WorkerSettings();
        settings["FENTA_LLM_BASE_URL"] = llm.ApiBase.ToString();
        settings["FENTA_LLM_API_KEY"] = OpenAiSimulator.ValidKey;
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "city gardens"}},
                       {"id": "t", "type": "Script.Transform", "params": {"operation": "translate", "target_lang": "de"}}],
             "edges": [{"from": "s", "to": "t"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();
        var translated = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 't'", job);
        Assert.Equal("de", translated.GetProperty("lang").GetString());
        var request = llm.Requests.Last().Body!.Value.GetProperty("messages")[1].GetProperty("content").GetString();
        Assert.Contains("Translate the script into de", request);
        Assert.Contains("\"scenes\"", request);
    }
}
