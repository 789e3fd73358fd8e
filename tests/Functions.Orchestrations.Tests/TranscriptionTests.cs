using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Runs.Assets;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>OpenAI transcriptions against the simulator, and subtitles for an uploaded clip made from them.</summary>
public class TranscriptionTests(RunHostWithoutWorker host) : SimulatorTests<OpenAiSimulator>(new()), IClassFixture<RunHostWithoutWorker>
{
    private OpenAiTranscriber Transcriber(string key = OpenAiSimulator.ValidKey, double timeoutSeconds = 5) =>
        Clients.OpenAi(new OpenAiEndpoint(Simulator.ApiBase, key, "whisper-1", TimeSpan.FromSeconds(timeoutSeconds)), (http, endpoint) => new OpenAiTranscriber(http, endpoint));

    private async Task<Asset> ClipAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"clip-{Guid.NewGuid():N}.mp4");
        await ProcessRunner.RunAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=frequency=300",
            "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", path], CancellationToken.None);
        var store = host.Assets();
        var asset = await store.AddFileAsync(new NewAsset(RunHost.OrgId, "upload", "video/mp4", "clip.mp4"), path, CancellationToken.None);
        File.Delete(path);
        return asset;
    }

    [Fact]
    public async Task SendsVerboseJsonWithWordTimestampsAndKeepsWordTimes()
    {
        var clip = await ClipAsync();
        var sentences = await Transcriber().TranscribeAsync(await host.LocalCopyAsync(clip.StorageKey), "en", CancellationToken.None);

        Assert.Equal(["Meet the lamp.", "It bends light."], sentences.Select(s => s.Text));
        Assert.Equal((1.5, 1.9), (sentences[1].Words[1].Start, sentences[1].Words[1].End));
        var form = Simulator.LastTranscriptionForm;
        Assert.Equal(("whisper-1", "verbose_json", "en"), (form["model"][0], form["response_format"][0], form["language"][0]));
        Assert.Contains("word", form["timestamp_granularities[]"]);
    }

    [Fact]
    public async Task KeyRateLimitOutageAndTimeoutErrorsAreTyped()
    {
        var media = await host.LocalCopyAsync((await ClipAsync()).StorageKey);
        Task<ProviderException> FailureAsync(string code, bool permanent, string key = OpenAiSimulator.ValidKey, double timeoutSeconds = 5) =>
            FailsWithAsync(code, permanent, () => Transcriber(key, timeoutSeconds).TranscribeAsync(media, null, CancellationToken.None));

        await FailureAsync("ASR_UNAUTHORIZED", true, key: "bad");
        Simulator.EnqueueError(429, """{"error": {"message": "slow down"}}""", retryAfterSeconds: 4);
        var limited = await FailureAsync("ASR_RATE_LIMITED", false);
        Assert.Equal(TimeSpan.FromSeconds(4), limited.RetryAfter);
        EnqueueOutage(500, """{"error": {"message": "internal error"}}""");
        await FailureAsync("ASR_UNAVAILABLE", false);
        Simulator.EnqueueDelay(TimeSpan.FromSeconds(3));
        await FailureAsync("ASR_TIMEOUT", false, timeoutSeconds: 0.5);
    }

    [Fact]
    public async Task AFailedUploadIsSentAgainWholeByThePipeline()
    {
        var media = await host.LocalCopyAsync((await ClipAsync()).StorageKey);
        Simulator.EnqueueError(502, "bad gateway");

        var sentences = await Transcriber().TranscribeAsync(media, "en", CancellationToken.None);

        Assert.Equal(2, sentences.Count);
        Assert.Equal(2, Simulator.Requests.Count(r => r.Path == "/v1/audio/transcriptions"));
        Assert.Equal("whisper-1", Simulator.LastTranscriptionForm["model"][0]); // the second try's form arrived complete
    }

    [Fact]
    public async Task SubtitlesForAnUploadedClipComeFromItsTranscript()
    {
        var clip = await ClipAsync();
        var settings = host.WorkerSettings();
        settings["FENTA_ASR_BASE_URL"] = Simulator.ApiBase.ToString();
        settings["FENTA_ASR_API_KEY"] = OpenAiSimulator.ValidKey;
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();
        var job = await host.StartJobAsync($$$"""
            {"nodes": [{"id": "u", "type": "Input.Upload", "params": {"asset_ids": ["{{{clip.Id}}}"]}},
                       {"id": "sub", "type": "Subtitle.Auto", "params": {"style": "minimal"}}],
             "edges": [{"from": "u", "to": "sub", "toPort": "media"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();
        var track = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'sub'", job);
        Assert.Equal(["Meet the lamp.", "It bends light."], track.GetProperty("cues").EnumerateArray().Select(c => c.GetProperty("lines")[0].GetString()));
        Assert.Equal(clip.Id, track.GetProperty("narration").GetProperty("asset_id").GetString());
    }
}
