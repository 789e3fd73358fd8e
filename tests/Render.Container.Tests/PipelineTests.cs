using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Orchestrations;
using FentaWeb.Runs;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace FentaWeb.Render.Tests;

/// <summary>The seed's "Daily News Shorts" run end to end on real workers: script, espeak voice, subtitles, stock, timeline, render.</summary>
public class PipelineTests : IAsyncLifetime
{
    private readonly string _storage = Path.Combine(Path.GetTempPath(), $"fenta-pipeline-{Guid.NewGuid():N}");
    private NpgsqlDataSource _db = null!;
    private Dictionary<string, string?> _settings = null!;
    private IHost _media = null!;
    private IHost _renderer = null!;
    // No API runs here, so KIE's callbacks have nowhere to go: generations complete by polling.
    private readonly KieSimulator _kie = new() { SendCallbacks = false };
    private readonly WebhookReceiver _hooks = new();

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        var cs = await server.CreateDatabaseAsync("pipeline");
        _db = FentaDb.CreateDataSource(cs);
        await using (var cmd = _db.CreateCommand("""
            INSERT INTO users (id, email, password_hash, name) VALUES ('user_p', 'p@example.test', 'x', 'P');
            -- A paid plan: three generated clips are more KIE credits than the free tier's 50 a month.
            INSERT INTO orgs (id, name, slug, owner_id, plan) VALUES ('org_p', 'P', 'p', 'user_p', 'starter');
            """)) await cmd.ExecuteNonQueryAsync();
        await _kie.StartAsync();
        await _hooks.StartAsync();
        await using (var hook = _db.CreateCommand("INSERT INTO webhooks (id, org_id, url, events, secret) VALUES ('hook_p', 'org_p', $1, '{render.succeeded,job.completed}', 'whsec_p')"))
        {
            hook.Parameters.Add(new() { Value = _hooks.Url().ToString() });
            await hook.ExecuteNonQueryAsync();
        }
        var settings = _settings = new Dictionary<string, string?>(await TaskHubs.SettingsAsync(nameof(PipelineTests)))
        {
            ["FENTA_KIE_API_KEY"] = KieSimulator.ValidKey,
            ["FENTA_KIE_BASE_URL"] = _kie.BaseAddress.ToString(),
            ["FENTA_KIE_POLL_SECONDS"] = "0.5",
            ["FENTA_DB"] = cs,
            ["FENTA_STOCK_DIR"] = Path.Combine(_storage, "stock"),
            ["FENTA_STOCK_CLIPS"] = "4",
            ["FENTA_PUBLIC_URL"] = "http://127.0.0.1:8080",
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        _media = WorkerHost.Build([], settings);
        _renderer = RenderHost.Build([], once: false, settings);
        await _media.StartAsync();
        await _renderer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _media.StopAsync();
        await _renderer.StopAsync();
        _media.Dispose();
        _renderer.Dispose();
        await _db.DisposeAsync();
        await _kie.DisposeAsync();
        await _hooks.DisposeAsync();
        if (Directory.Exists(_storage)) Directory.Delete(_storage, recursive: true);
    }

    [Fact]
    public async Task DailyNewsShortsRendersAWatchableShort()
    {
        var graph = JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [
              {"id": "n1", "type": "Input.Stock", "params": {"provider": "pexels", "query": "breaking news city"}},
              {"id": "n2", "type": "Script.Generate", "params": {"genre": "news", "lang": "en", "prompt": "city council approves night buses", "duration_seconds": 8}},
              {"id": "n3", "type": "Voice.TTS", "params": {"voice": "alloy_en", "speed": 1.02}},
              {"id": "n4", "type": "Subtitle.Auto", "params": {"style": "clean_box"}},
              {"id": "n5", "type": "Edit.Timeline", "params": {"template_id": "tmpl_shorts_v1"}},
              {"id": "n6", "type": "Output.Render", "params": {"profile": "9x16_720p", "quality": "draft"}},
              {"id": "n7", "type": "Output.Download"}],
             "edges": [{"from": "n1", "to": "n5"}, {"from": "n2", "to": "n3"}, {"from": "n3", "to": "n4"}, {"from": "n4", "to": "n5"},
                       {"from": "n5", "to": "n6"}, {"from": "n6", "to": "n7"}]}
            """, FentaJson.Options)!;
        var jobId = await RunAsync(graph);

        var render = await OutputAsync(jobId, "n6");
        var narration = await OutputAsync(jobId, "n3");
        var download = await OutputAsync(jobId, "n7");
        var videoKey = await KeyAsync(render.GetProperty("video_asset_id").GetString()!);
        using var video = await StoredAssets.CopyAsync(_settings, videoKey);
        var info = await FfProbe.ProbeAsync(video.Path, CancellationToken.None);
        Assert.Equal((720, 1280, "h264", "aac"), (info.Width, info.Height, info.VideoCodec, info.AudioCodec));
        var expected = narration.GetProperty("duration_seconds").GetDouble() + 0.5;
        Assert.InRange(info.DurationSeconds!.Value, expected - 0.1, expected + 0.1);
        // Output.Download links straight to the render's blob: signed, read-only, expiring, with Range.
        var url = download.GetProperty("url").GetString()!;
        Assert.StartsWith($"{_settings["FENTA_AZURE_BLOB_URL"]}/{videoKey}?", url);
        Assert.InRange(download.GetProperty("expires_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));
        var head = new HttpRequestMessage(HttpMethod.Get, url);
        head.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 7);
        var part = await new HttpClient().SendAsync(head);
        Assert.Equal(System.Net.HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal((await File.ReadAllBytesAsync(video.Path))[..8], await part.Content.ReadAsByteArrayAsync());
        Assert.True(await StoredAssets.ExistsAsync(_settings, await KeyAsync(render.GetProperty("thumbnail_asset_id").GetString()!)));
        await using var logs = _db.CreateCommand("SELECT count(*) FROM job_logs WHERE job_id = $1 AND stage = 'n6' AND message LIKE 'Rendered 9x16_720p%'");
        logs.Parameters.Add(new() { Value = jobId });
        Assert.Equal(1L, await logs.ExecuteScalarAsync());

        // The rendered seconds are metered once, and the job's cost says so.
        await using (var metered = _db.CreateCommand("""
            SELECT u.render_seconds, j.cost_render_seconds, (SELECT count(*) FROM usage_records WHERE job_id = $1)
            FROM usage_records u JOIN jobs j ON j.id = u.job_id WHERE u.job_id = $1 AND u.resource_type = 'render_seconds'
            """))
        {
            metered.Parameters.Add(new() { Value = jobId });
            await using var row = await metered.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.InRange(row.GetDecimal(0), (decimal)info.DurationSeconds!.Value - 0.02m, (decimal)info.DurationSeconds.Value + 0.02m);
            Assert.Equal(row.GetDecimal(0), row.GetDecimal(1));
            Assert.Equal(1L, row.GetInt64(2));
        }

        // The render.succeeded webhook carries the render node's output.
        var watch = System.Diagnostics.Stopwatch.StartNew();
        JsonElement? hooked = null;
        while (hooked is null && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            hooked = _hooks.Received.Select(r => JsonDocument.Parse(r.Body).RootElement)
                .Where(e => e.GetProperty("type").GetString() == "render.succeeded" && e.GetProperty("data").GetProperty("job_id").GetString() == jobId)
                .Cast<JsonElement?>().FirstOrDefault();
            await Task.Delay(50);
        }
        Assert.NotNull(hooked);
        Assert.Equal(("render.succeeded", "n6"), (hooked.Value.GetProperty("type").GetString(), hooked.Value.GetProperty("data").GetProperty("node_id").GetString()));
        Assert.Equal(render.GetProperty("video_asset_id").GetString(), hooked.Value.GetProperty("data").GetProperty("render").GetProperty("video_asset_id").GetString());

        // The job's documented result: signed links to what was rendered (the render node is not a sink here) and the
        // video's duration, with the sinks' outputs beside them; another org gets no links to these files.
        await using (var stored = _db.CreateCommand("SELECT result::text FROM jobs WHERE id = $1"))
        {
            stored.Parameters.Add(new() { Value = jobId });
            var outputs = JsonDocument.Parse((string)(await stored.ExecuteScalarAsync())!).RootElement;
            var results = _media.Services.GetRequiredService<JobResults>();
            var result = (await results.ForAsync("org_p", jobId, outputs, CancellationToken.None))!;
            using var http = new HttpClient();
            Assert.Equal(await File.ReadAllBytesAsync(video.Path), await http.GetByteArrayAsync(result.VideoUrl));
            Assert.Equal([0xFF, 0xD8], (await http.GetByteArrayAsync(result.ThumbnailUrl))[..2]); // a JPEG
            Assert.Contains(" --> ", await http.GetStringAsync(result.SrtUrl));
            Assert.Equal(render.GetProperty("duration_seconds").GetDouble(), result.Duration);
            Assert.True(result.Outputs.TryGetProperty("n7", out _));
            Assert.Null((await results.ForAsync("org_other", jobId, outputs, CancellationToken.None))!.VideoUrl);

            // job.completed shows the job the same way, with links signed when it was posted.
            JsonElement? completed = null;
            while (completed is null && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                completed = _hooks.Received.Select(r => JsonDocument.Parse(r.Body).RootElement)
                    .Where(e => e.GetProperty("type").GetString() == "job.completed" && e.GetProperty("data").GetProperty("job").GetProperty("id").GetString() == jobId)
                    .Cast<JsonElement?>().FirstOrDefault();
                await Task.Delay(50);
            }
            Assert.NotNull(completed);
            var job = completed.Value.GetProperty("data").GetProperty("job");
            Assert.Equal(await File.ReadAllBytesAsync(video.Path), await http.GetByteArrayAsync(job.GetProperty("result").GetProperty("video_url").GetString()));
            Assert.Equal(render.GetProperty("duration_seconds").GetDouble(), job.GetProperty("result").GetProperty("duration").GetDouble());
            Assert.Equal(job.GetProperty("cost").GetProperty("render_seconds").GetDecimal(), job.GetProperty("cost_render_seconds").GetDecimal());
        }
    }

    [Fact]
    public async Task APreviewRendersSmallWithoutAThumbnailAndIsMeteredAtAQuarter()
    {
        var graph = JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [
              {"id": "stock", "type": "Input.Stock", "params": {"provider": "local", "query": "harbour", "count": 2}},
              {"id": "script", "type": "Script.Generate", "params": {"prompt": "ferries at dawn", "duration_seconds": 6}},
              {"id": "voice", "type": "Voice.TTS"},
              {"id": "subs", "type": "Subtitle.Auto"},
              {"id": "timeline", "type": "Edit.Timeline"},
              {"id": "render", "type": "Output.Render", "params": {"profile": "16x9_1080p", "quality": "preview"}}],
             "edges": [{"from": "stock", "to": "timeline"}, {"from": "script", "to": "voice"}, {"from": "voice", "to": "subs"},
                       {"from": "subs", "to": "timeline"}, {"from": "timeline", "to": "render"}]}
            """, FentaJson.Options)!;
        var jobId = await RunAsync(graph);

        var render = await OutputAsync(jobId, "render");
        Assert.Equal(JsonValueKind.Null, render.GetProperty("thumbnail_asset_id").ValueKind);
        using var video = await StoredAssets.CopyAsync(_settings, await KeyAsync(render.GetProperty("video_asset_id").GetString()!));
        var info = await FfProbe.ProbeAsync(video.Path, CancellationToken.None);
        // 540 px on the short side, the profile's aspect kept.
        Assert.Equal((960, 540, "h264", "aac"), (info.Width, info.Height, info.VideoCodec, info.AudioCodec));
        await using var metered = _db.CreateCommand("""
            SELECT u.render_seconds, u.render_profile, j.cost_render_seconds,
                   (SELECT count(*) FROM assets WHERE job_id = $1 AND source = 'render' AND content_type = 'image/jpeg')
            FROM usage_records u JOIN jobs j ON j.id = u.job_id WHERE u.job_id = $1 AND u.resource_type = 'render_seconds'
            """);
        metered.Parameters.Add(new() { Value = jobId });
        await using var row = await metered.ExecuteReaderAsync();
        Assert.True(await row.ReadAsync());
        var quarter = (decimal)info.DurationSeconds!.Value / 4;
        Assert.InRange(row.GetDecimal(0), quarter - 0.02m, quarter + 0.02m);
        Assert.Equal(("16x9_1080p preview", row.GetDecimal(0), 0L), (row.GetString(1), row.GetDecimal(2), row.GetInt64(3)));
    }

    [Fact]
    public async Task ThreeKieClipsFanOutOverTheScenesAndFanBackInToARender()
    {
        var graph = JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [
              {"id": "script", "type": "Script.Generate", "params": {"genre": "story", "prompt": "a lighthouse keeper finds a bottle", "duration_seconds": 9, "scenes": 3}},
              {"id": "clips", "type": "Input.KAI.GenerateVideo", "params": {"model": "kling-2.6-text-to-video", "prompt": "cinematic"}},
              {"id": "voice", "type": "Voice.TTS"},
              {"id": "subs", "type": "Subtitle.Auto"},
              {"id": "timeline", "type": "Edit.Timeline", "params": {"template_id": "tmpl_shorts_v1"}},
              {"id": "render", "type": "Output.Render", "params": {"profile": "9x16_720p", "quality": "draft"}}],
             "edges": [{"from": "script", "to": "clips"}, {"from": "script", "to": "voice"}, {"from": "voice", "to": "subs"},
                       {"from": "clips", "to": "timeline"}, {"from": "subs", "to": "timeline"}, {"from": "timeline", "to": "render"}]}
            """, FentaJson.Options)!;
        var jobId = await RunAsync(graph);

        Assert.Equal(3, _kie.CreateTaskCalls);
        await using (var cost = _db.CreateCommand("SELECT cost_kai_credits FROM jobs WHERE id = $1"))
        {
            cost.Parameters.Add(new() { Value = jobId });
            Assert.Equal(3 * 55, (int)(await cost.ExecuteScalarAsync())!); // three 5 s Kling clips
        }
        await using (var usage = _db.CreateCommand("SELECT count(*), sum(kai_credits), sum(cost_usd) FROM usage_records WHERE job_id = $1 AND resource_type = 'kai_credits'"))
        {
            usage.Parameters.Add(new() { Value = jobId });
            await using var row = await usage.ExecuteReaderAsync();
            Assert.True(await row.ReadAsync());
            Assert.Equal((3L, 165L, 8.25m), (row.GetInt64(0), row.GetInt64(1), row.GetDecimal(2))); // one record per generated clip, at Starter's $0.05 a credit
        }
        // Each scene's own prompt went to KIE, and the clips reach the timeline in scene order.
        var script = await OutputAsync(jobId, "script");
        var prompts = _kie.Tasks.Values.Select(t => t.Body.GetProperty("input").GetProperty("prompt").GetString()!).ToList();
        foreach (var scene in script.GetProperty("scenes").EnumerateArray())
            Assert.Contains(prompts, p => p.StartsWith(scene.GetProperty("visual_prompt").GetString()!, StringComparison.Ordinal));
        var clipIds = new List<string>();
        for (var item = 0; item < 3; item++)
        {
            await using var cmd = _db.CreateCommand("SELECT output->0->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'clips' AND item_index = $2");
            cmd.Parameters.Add(new() { Value = jobId });
            cmd.Parameters.Add(new() { Value = item });
            clipIds.Add((string)(await cmd.ExecuteScalarAsync())!);
        }
        var timeline = await OutputAsync(jobId, "timeline");
        Assert.Equal(clipIds, timeline.GetProperty("scenes").EnumerateArray().Select(s => s.GetProperty("source").GetString()!).Take(3));

        var render = await OutputAsync(jobId, "render");
        using var video = await StoredAssets.CopyAsync(_settings, await KeyAsync(render.GetProperty("video_asset_id").GetString()!));
        var info = await FfProbe.ProbeAsync(video.Path, CancellationToken.None);
        Assert.Equal((720, 1280, "h264", "aac"), (info.Width, info.Height, info.VideoCodec, info.AudioCodec));
        var narration = await OutputAsync(jobId, "voice");
        Assert.InRange(info.DurationSeconds!.Value, narration.GetProperty("duration_seconds").GetDouble(), narration.GetProperty("duration_seconds").GetDouble() + 1);
    }

    private async Task<string> RunAsync(WorkflowGraph graph)
    {
        var (jobId, _) = await _media.Services.GetRequiredService<JobStarter>().StartAsync(_media.Services.GetRequiredService<DurableTaskClient>(), new JobRequest("org_p", null, new JobConfig(graph, JsonDocument.Parse("{}").RootElement)));
        string status;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        do
        {
            await Task.Delay(200);
            await using var cmd = _db.CreateCommand("SELECT status || coalesce(' ' || error::text, '') FROM jobs WHERE id = $1");
            cmd.Parameters.Add(new() { Value = jobId });
            status = (string)(await cmd.ExecuteScalarAsync())!;
        } while (status is "queued" or "processing" && DateTime.UtcNow < deadline);
        Assert.Equal("completed", status);
        return jobId;
    }

    private async Task<JsonElement> OutputAsync(string jobId, string nodeId)
    {
        await using var cmd = _db.CreateCommand("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = $2 AND item_index <= 0 ORDER BY item_index LIMIT 1");
        cmd.Parameters.Add(new() { Value = jobId });
        cmd.Parameters.Add(new() { Value = nodeId });
        return JsonDocument.Parse((string)(await cmd.ExecuteScalarAsync())!).RootElement.Clone();
    }

    private async Task<string> KeyAsync(string assetId)
    {
        await using var cmd = _db.CreateCommand("SELECT storage_key FROM assets WHERE id = $1");
        cmd.Parameters.Add(new() { Value = assetId });
        return (string)(await cmd.ExecuteScalarAsync())!;
    }
}
