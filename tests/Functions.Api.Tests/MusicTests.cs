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
/// Music over HTTP with the real activities and renderer: the offline bed mixed under narration, ducked, and in the
/// render; Suno on the KIE.ai simulator (its strict create rules, status stages and two tracks), charged per the
/// registry, and refunded when the task fails.
/// </summary>
public partial class MusicTests(MusicTests.Host host) : IClassFixture<MusicTests.Host>
{
    public sealed class Host : KieHost
    {
        public Host() => Kie.TaskDuration = TimeSpan.FromSeconds(2);
        protected override bool RunsRenderer => true;
    }

    private async Task<(HttpClient Client, string OrgId)> PaidClientAsync()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        return (session.Client(), session.OrgId);
    }

    [Fact]
    public async Task TheOfflineBedIsMixedUnderTheNarrationDuckedAndIsInTheRender()
    {
        var (client, _) = await PaidClientAsync();
        object Mix(bool ducking) => new { music_volume = 0.8, ducking };
        var graph = new
        {
            nodes = new object[]
            {
                new { id = "script", type = "Script.Generate", @params = new { prompt = "why lighthouses still matter", duration_seconds = 12, scenes = 2 } },
                new { id = "voice", type = "Voice.TTS", @params = new { provider = "espeak" } },
                new { id = "music", type = "Input.KAI.GenerateMusic", @params = new { prompt = "calm warm piano", provider = "local", duration_seconds = 20 } },
                new { id = "mix", type = "Audio.Mix", @params = Mix(ducking: true) },
                // The same mix without ducking, as the reference the ducked music is measured against.
                new { id = "flat", type = "Audio.Mix", @params = Mix(ducking: false) },
                new { id = "images", type = "Input.KAI.GenerateImage", @params = new { provider = "local" } },
                new { id = "timeline", type = "Edit.Timeline", @params = new { transition = "cut" } },
                new { id = "render", type = "Output.Render", @params = new { profile = "9x16_720p", quality = "draft" } },
            },
            edges = new object[]
            {
                new { from = "script", to = "voice" }, new { from = "script", to = "images" },
                new { from = "voice", to = "mix", toPort = "voice" }, new { from = "music", to = "mix", toPort = "music" },
                new { from = "voice", to = "flat", toPort = "voice" }, new { from = "music", to = "flat", toPort = "music" },
                new { from = "images", to = "timeline" }, new { from = "mix", to = "timeline" }, new { from = "timeline", to = "render" },
            },
        };
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var job = await client.JobEndedAsync(jobId, TimeSpan.FromSeconds(240));
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());

        // The track: a 20 s MP3 audio asset drawn locally, recorded as a free generation.
        var track = (string)(await host.ScalarAsync("SELECT output->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'music'", jobId))!;
        var asset = await (await client.GetAsync($"/v1/assets/{track}")).ReadJsonAsync(200);
        Assert.Equal("audio", asset.GetProperty("type").GetString());
        Assert.InRange(asset.GetProperty("duration_seconds").GetDecimal(), 19.5m, 20.5m);
        Assert.Equal("local|audio|0", (string?)await host.ScalarAsync(
            "SELECT provider || '|' || type || '|' || credits_used FROM kai_generations WHERE job_id = $1 AND node_id = 'music'", jobId));

        // Measured where the narration pauses between sentences (its own timings) and where it speaks: in the pauses the
        // render's audio is the music (the narration alone is near silence there); under speech the ducked music is far
        // below the same music mixed without ducking, measured below 90 Hz where the bed's bass and kick are.
        using var video = await CopyAsync((string)(await host.ScalarAsync("SELECT id FROM assets WHERE job_id = $1 AND node_id = 'render' AND content_type = 'video/mp4'", jobId))!);
        using var flat = await CopyAsync((string)(await host.ScalarAsync("SELECT output->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'flat'", jobId))!);
        using var voice = await CopyAsync((string)(await host.ScalarAsync("SELECT output->>'asset_id' FROM node_runs WHERE job_id = $1 AND node_id = 'voice'", jobId))!);
        var sentences = (await host.StringsAsync("""
            SELECT (s->>'start') || ' ' || (s->>'end') FROM node_runs n CROSS JOIN LATERAL jsonb_array_elements(n.output->'sentences') s
            WHERE n.job_id = $1 AND n.node_id = 'voice' ORDER BY (s->>'start')::numeric
            """, jobId)).Select(t => t.Split(' ').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        var pauses = sentences.Zip(sentences.Skip(1), (a, b) => (Start: a[1] + 0.03, End: b[0] - 0.03)).Where(p => p.End - p.Start > 0.1).ToList();
        var speech = sentences.Select(s => (Start: s[0] + 0.1, End: s[1] - 0.1)).Where(p => p.End - p.Start > 0.3).ToList();
        const string Bed = "highpass=f=30,highpass=f=30,lowpass=f=60,lowpass=f=60,lowpass=f=60,lowpass=f=60"; // the bed's kick and bass; no speech, no DC
        var (renderPauses, voicePauses) = (await LevelAsync(video.Path, pauses, "anull"), await LevelAsync(voice.Path, pauses, "anull"));
        var (bedInPauses, bedUnderSpeech) = (await LevelAsync(video.Path, pauses, Bed), await LevelAsync(video.Path, speech, Bed));
        var undockedUnderSpeech = await LevelAsync(flat.Path, speech, Bed);
        var figures = $"render in pauses {renderPauses:0.0} dB (narration alone {voicePauses:0.0}); the bed's band in the render: in pauses {bedInPauses:0.0}, " +
                      $"under speech {bedUnderSpeech:0.0}, mixed without ducking {undockedUnderSpeech:0.0}";
        Assert.True(pauses.Count >= 1 && speech.Count >= 2, figures);
        // The music is in the render: where the narration pauses, the render is far from silent.
        Assert.True(renderPauses > voicePauses + 40, figures);
        // Ducked: under speech the music drops well below its level in the pauses, and far below the same music mixed without ducking.
        Assert.True(bedInPauses > bedUnderSpeech + 8, figures);
        Assert.True(undockedUnderSpeech > bedUnderSpeech + 10, figures);
    }

    [Fact]
    public async Task SunoOnKieMakesAnAudioAssetOfTheFirstTrackChargedPerTheRegistry()
    {
        var (client, _) = await PaidClientAsync();
        var before = host.Kie.Requests.Count;
        var started = await (await client.PostAsJsonAsync("/v1/kai/generate-music", new { prompt = "an upbeat ukulele jingle", model = "suno-v5" })).ReadJsonAsync(202);
        Assert.Equal("audio", started.GetProperty("type").GetString());
        var id = started.GetProperty("id").GetString()!;
        var job = await client.JobEndedAsync(started.GetProperty("job_id").GetString()!, TimeSpan.FromSeconds(60));
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());

        var created = host.Kie.Requests.Skip(before).Single(r => r.Path == "/api/v1/generate").Body!.Value;
        Assert.Equal(("V5", false, true, "an upbeat ukulele jingle"), (created.GetProperty("model").GetString(), created.GetProperty("customMode").GetBoolean(),
            created.GetProperty("instrumental").GetBoolean(), created.GetProperty("prompt").GetString()));
        Assert.Contains("/v1/kai/callbacks/", created.GetProperty("callBackUrl").GetString());
        Assert.False(created.TryGetProperty("title", out _));

        var generation = await (await client.GetAsync($"/v1/kai/generations/{id}")).ReadJsonAsync(200);
        Assert.Equal(("completed", "kie", 12, 1), (generation.GetProperty("status").GetString(), generation.GetProperty("provider").GetString(),
            generation.GetProperty("credits_used").GetInt32(), generation.GetProperty("result_asset_ids").GetArrayLength()));
        Assert.Equal(12, job.GetProperty("cost").GetProperty("kai_credits").GetInt32());
        var asset = await (await client.GetAsync($"/v1/assets/{generation.GetProperty("result_asset_ids")[0].GetString()}")).ReadJsonAsync(200);
        Assert.Equal("audio", asset.GetProperty("type").GetString());
        Assert.InRange(asset.GetProperty("duration_seconds").GetDecimal(), 11.5m, 12.5m);

        // Custom mode: a style makes it so, and the title comes from the prompt; a title without a style is refused.
        var custom = await (await client.PostAsJsonAsync("/v1/kai/generate-music", new { prompt = "rain on a tin roof", style = "ambient, lo-fi" })).ReadJsonAsync(202);
        await client.JobEndedAsync(custom.GetProperty("job_id").GetString()!, TimeSpan.FromSeconds(60));
        var customBody = host.Kie.Requests.Last(r => r.Path == "/api/v1/generate").Body!.Value;
        Assert.Equal((true, "ambient, lo-fi", "rain on a tin roof", "V4_5"), (customBody.GetProperty("customMode").GetBoolean(), customBody.GetProperty("style").GetString(),
            customBody.GetProperty("title").GetString(), customBody.GetProperty("model").GetString()));
        var titleOnly = await (await client.PostAsJsonAsync("/v1/kai/generate-music", new { prompt = "x", title = "X" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("model_params.style", titleOnly.Fields());
        var wrongModel = await (await client.PostAsJsonAsync("/v1/kai/generate-music", new { prompt = "x", model = "veo-3.1-fast" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["model"], wrongModel.Fields());
        Assert.Equal(["prompt"], (await (await client.PostAsJsonAsync("/v1/kai/generate-music", new { model = "suno-v4" })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task AFailedSunoTaskRefundsItsReservedCredits()
    {
        var (client, orgId) = await PaidClientAsync();
        host.Kie.FailNextGenerations = 1;
        var graph = new
        {
            nodes = new object[]
            {
                new { id = "music", type = "Input.KAI.GenerateMusic", @params = new { prompt = "a doomed jingle", provider = "kie" }, retry = new { max_attempts = 1 } },
            },
            edges = Array.Empty<object>(),
        };
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        // While Suno works on it, its 12 credits are held.
        var watch = Stopwatch.StartNew();
        long held;
        do
        {
            held = await host.CountAsync("SELECT coalesce(sum(kai_credits), 0)::bigint FROM spend_reservations WHERE job_id = $1", jobId);
        } while (held == 0 && watch.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal(12L, held);

        var job = await client.JobEndedAsync(jobId, TimeSpan.FromSeconds(60));
        Assert.Equal(("failed", "KIE_GENERATION_FAILED"), (job.GetProperty("status").GetString(), job.GetProperty("error").GetProperty("code").GetString()));
        Assert.Contains("GENERATE_AUDIO_FAILED", job.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal(0, (int)(await host.ScalarAsync("SELECT cost_kai_credits FROM jobs WHERE id = $1", jobId))!);
        Assert.Equal(0L, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE org_id = $1", orgId));
        Assert.Equal(0L, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1", jobId));
        Assert.Equal("failed", (string?)await host.ScalarAsync("SELECT status FROM kai_generations WHERE job_id = $1", jobId));
    }

    private async Task<TemporaryCopy> CopyAsync(string assetId) =>
        await StoredAssets.CopyAsync(host.Storage, (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", assetId))!);

    /// <summary>The mean level (dB) of the file's audio through <paramref name="filter"/> over <paramref name="windows"/> (seconds), averaged in power.</summary>
    private static async Task<double> LevelAsync(string path, IReadOnlyList<(double Start, double End)> windows, string filter)
    {
        var power = 0.0;
        foreach (var (start, end) in windows)
        {
            using var ffmpeg = Process.Start(new ProcessStartInfo("ffmpeg", ["-v", "info", "-nostats", "-i", path, "-vn", "-af",
                string.Create(CultureInfo.InvariantCulture, $"aresample=48000,atrim={start:0.###}:{end:0.###},{filter},volumedetect"), "-f", "null", "-"]) { RedirectStandardError = true })!;
            var log = await ffmpeg.StandardError.ReadToEndAsync();
            await ffmpeg.WaitForExitAsync();
            power += Math.Pow(10, double.Parse(MeanVolume().Match(log).Groups[1].Value, CultureInfo.InvariantCulture) / 10);
        }
        return 10 * Math.Log10(power / windows.Count);
    }

    [GeneratedRegex(@"mean_volume:\s*(-?[\d.]+) dB")]
    private static partial Regex MeanVolume();
}
