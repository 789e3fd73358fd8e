using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>OpenAI text to speech against the simulator: the client, its errors, and Voice.TTS using it.</summary>
public class OpenAiSpeechTests(RunHostWithoutWorker host) : SimulatorTests<OpenAiSimulator>(new()), IClassFixture<RunHostWithoutWorker>
{
    private OpenAiSpeech Speech(string key = OpenAiSimulator.ValidKey, double timeoutSeconds = 5) =>
        Clients.OpenAi(new OpenAiEndpoint(Simulator.ApiBase, key, "tts-1", TimeSpan.FromSeconds(timeoutSeconds)), (http, endpoint) => new OpenAiSpeech(http, endpoint));

    private static Task<PcmAudio> SayAsync(OpenAiSpeech speech) => speech.SpeakAsync("x", new SpeechVoice("nova", "en", 1), CancellationToken.None);

    [Fact]
    public async Task SpeaksWavAndMapsSeedVoiceNames()
    {
        var audio = await Speech().SpeakAsync("Hello from the simulator.", new SpeechVoice("alloy_en", "en", 1.1), CancellationToken.None);
        Assert.Equal(24000, audio.SampleRate);
        Assert.Equal("Hello from the simulator.".Length * OpenAiSimulator.SecondsPerCharacter, audio.DurationSeconds, 2);
        var body = Assert.Single(Simulator.Requests).Body!.Value;
        Assert.Equal(("tts-1", "alloy", "wav", 1.1), (body.GetProperty("model").GetString(), body.GetProperty("voice").GetString(),
            body.GetProperty("response_format").GetString(), body.GetProperty("speed").GetDouble()));
    }

    [Fact]
    public async Task KeyRateLimitOutageAndTimeoutErrorsAreTyped()
    {
        await FailsWithAsync("TTS_UNAUTHORIZED", true, () => SayAsync(Speech("bad")));
        Simulator.EnqueueError(429, """{"error": {"message": "slow down"}}""", retryAfterSeconds: 3);
        var limited = await FailsWithAsync("TTS_RATE_LIMITED", false, () => SayAsync(Speech()));
        Assert.Equal(TimeSpan.FromSeconds(3), limited.RetryAfter);
        // An outage that outlasts the client's retries; the node's retry takes it from there.
        EnqueueOutage(503, """{"error": {"message": "overloaded"}}""");
        var outage = await FailsWithAsync("TTS_UNAVAILABLE", false, () => SayAsync(Speech()));
        Assert.Null(outage.RetryAfter);
        Assert.Contains("overloaded", outage.Message);
        Simulator.EnqueueDelay(TimeSpan.FromSeconds(3));
        await FailsWithAsync("TTS_TIMEOUT", false, () => SayAsync(Speech(timeoutSeconds: 0.5)));
        Assert.Equal(1 + 1 + ProviderResilience.Attempts + 1, Simulator.Requests.Count); // nor a rate limit, nor a timed-out POST, was sent twice
    }

    [Fact]
    public async Task A503IsRetriedByTheClientsPipeline()
    {
        Simulator.EnqueueError(503, """{"error": {"message": "overloaded"}}""");

        var audio = await SayAsync(Speech());

        Assert.True(audio.DurationSeconds > 0);
        Assert.Equal(2, Simulator.Requests.Count);
    }

    [Fact]
    public async Task AServiceThatKeepsFailingIsPausedByTheBreaker()
    {
        var speech = Speech();
        for (var i = 0; i < 40; i++) Simulator.EnqueueError(500, """{"error": {"message": "down"}}""");
        ProviderException? paused = null;
        for (var call = 0; call < 6 && paused is null; call++)
            paused = await FailsAsync(() => SayAsync(speech)) is { RetryAfter: not null } e ? e : null;

        Assert.NotNull(paused);
        Assert.Equal(("TTS_UNAVAILABLE", false), (paused.Code, paused.Permanent));
        Assert.InRange(paused.RetryAfter!.Value, TimeSpan.FromSeconds(1), ProviderResilience.BreakDuration); // a wait, not a failed attempt
        var sent = Simulator.Requests.Count;
        Simulator.ClearScripted();
        Assert.NotNull((await FailsAsync(() => SayAsync(speech))).RetryAfter);
        Assert.Equal(sent, Simulator.Requests.Count); // while open, calls do not reach the service
    }

    [Fact]
    public async Task VoiceNodeUsesOpenAiWhenConfigured()
    {
        var settings = host.WorkerSettings();
        settings["FENTA_TTS_BASE_URL"] = Simulator.ApiBase.ToString();
        settings["FENTA_TTS_API_KEY"] = OpenAiSimulator.ValidKey;
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "lighthouses", "scenes": 2, "duration_seconds": 6}},
                       {"id": "v", "type": "Voice.TTS", "params": {"voice": "nova"}}],
             "edges": [{"from": "s", "to": "v"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        await worker.StopAsync();
        var narration = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job);
        Assert.Equal("openai", narration.GetProperty("provider").GetString());
        var sentences = narration.GetProperty("sentences").EnumerateArray().ToList();
        var spoken = sentences.Sum(s => s.GetProperty("text").GetString()!.Length * OpenAiSimulator.SecondsPerCharacter);
        Assert.Equal(spoken + 0.25 * (sentences.Count - 1), narration.GetProperty("duration_seconds").GetDouble(), 1);
    }
}
