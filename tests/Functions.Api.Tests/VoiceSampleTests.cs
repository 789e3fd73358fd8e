using System.Buffers.Binary;
using System.Net;
using FentaWeb.Simulators;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Voice samples for the voice picker: a short WAV of a listed voice, made once per process (OpenAI's against the
/// simulator, asked once however often it is played), revalidated by its ETag; unknown voices and providers are 404s.
/// </summary>
public class VoiceSampleTests(VoiceSampleTests.Host host) : IClassFixture<VoiceSampleTests.Host>
{
    public sealed class Host : ApiHost
    {
        public OpenAiSimulator Speech { get; } = new();

        protected override Task BeforeStartAsync() => Speech.StartAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_TTS_BASE_URL"] = Speech.ApiBase.ToString(),
            ["FENTA_TTS_API_KEY"] = OpenAiSimulator.ValidKey,
        };

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await Speech.DisposeAsync();
        }
    }

    /// <summary>Seconds of 16-bit PCM in a WAV file as the API writes them (a 44-byte header).</summary>
    private static double WavSeconds(byte[] wav)
    {
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
        Assert.Equal("WAVE", System.Text.Encoding.ASCII.GetString(wav, 8, 4));
        return (double)BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(40)) / BinaryPrimitives.ReadInt32LittleEndian(wav.AsSpan(28));
    }

    [Fact]
    public async Task AnEspeakVoiceSaysTheSentenceAsAShortWavThatBrowsersKeepAndRevalidate()
    {
        var client = (await host.RegisterAsync()).Client();
        var sample = await client.GetAsync("/v1/voices/espeak/en-us/sample");
        Assert.Equal(HttpStatusCode.OK, sample.StatusCode);
        Assert.Equal("audio/wav", sample.Content.Headers.ContentType?.MediaType);
        Assert.Equal((true, TimeSpan.FromDays(1)), (sample.Headers.CacheControl!.Private, sample.Headers.CacheControl.MaxAge));
        var wav = await sample.Content.ReadAsByteArrayAsync();
        Assert.InRange(WavSeconds(wav), 1.0, 4.0); // six words at 175 a minute

        var again = await client.GetAsync("/v1/voices/espeak/EN-US/sample");
        Assert.Equal(wav, await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(sample.Headers.ETag, again.Headers.ETag);
        var revalidated = new HttpRequestMessage(HttpMethod.Get, "/v1/voices/espeak/en-us/sample") { Headers = { IfNoneMatch = { sample.Headers.ETag! } } };
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(revalidated)).StatusCode);

        // Another language is another clip.
        Assert.NotEqual(wav, await client.GetByteArrayAsync("/v1/voices/espeak/de/sample"));
    }

    [Fact]
    public async Task AnOpenAiVoiceIsAskedOfTheServiceOnceHoweverOftenItIsPlayed()
    {
        var client = (await host.RegisterAsync()).Client();
        bool IsSpeech(RecordedRequest r) => r.Path.EndsWith("/audio/speech", StringComparison.Ordinal) && r.Body?.GetProperty("voice").GetString() == "nova";
        var plays = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => client.GetByteArrayAsync("/v1/voices/openai/nova/sample")));
        plays = [.. plays, await client.GetByteArrayAsync("/v1/voices/openai/nova/sample")];

        var asked = Assert.Single(host.Speech.Requests, IsSpeech);
        Assert.Equal("Hello, this is how I sound.", asked.Body!.Value.GetProperty("input").GetString());
        Assert.All(plays, play => Assert.Equal(plays[0], play));
        // The simulator speaks 0.05 s a character.
        Assert.Equal("Hello, this is how I sound.".Length * OpenAiSimulator.SecondsPerCharacter, WavSeconds(plays[0]), 2);
    }

    [Fact]
    public async Task UnknownVoicesAndProvidersAre404sNamingThem()
    {
        var client = (await host.RegisterAsync()).Client();
        foreach (var (path, named) in new[] { ("espeak/klingon", "klingon"), ("openai/robot", "robot"), ("polly/joanna", "polly") })
        {
            var problem = await (await client.GetAsync($"/v1/voices/{path}/sample")).ReadProblemAsync(404, "NOT_FOUND");
            Assert.Contains($"'{named}'", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task SamplesAreReadLikeTheVoiceList()
    {
        var session = await host.RegisterAsync();
        await (await host.Client().GetAsync("/v1/voices/espeak/en-us/sample")).ReadProblemAsync(401, "UNAUTHORIZED");
        var (jobsOnly, _) = await session.CreateKeyAsync("jobs:execute");
        await (await host.Client(jobsOnly).GetAsync("/v1/voices/espeak/en-us/sample")).ReadProblemAsync(403, "FORBIDDEN");
        var (reader, _) = await session.CreateKeyAsync("workflows:read");
        Assert.Equal(HttpStatusCode.OK, (await host.Client(reader).GetAsync("/v1/voices/espeak/en-us/sample")).StatusCode);
    }
}
