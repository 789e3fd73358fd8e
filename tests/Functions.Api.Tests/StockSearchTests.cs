using System.Net;
using FentaWeb.Simulators;

namespace FentaWeb.Api.Tests;

/// <summary>GET /v1/assets/stock/search on the local library (no key).</summary>
public class LocalStockSearchTests(LocalStockSearchTests.Host host) : IClassFixture<LocalStockSearchTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task SearchRanksTheLocalLibraryByTagsAndKeepsTheNodesRules()
    {
        var session = await host.RegisterAsync();
        var (viewer, _) = await session.CreateKeyAsync("workflows:read");
        var found = await (await host.Client(viewer).GetAsync("/v1/assets/stock/search?query=city%20night&per_page=3")).ReadJsonAsync(200);
        Assert.Equal("local", found.GetProperty("provider").GetString());
        var hits = found.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, hits.Count);
        var best = hits[0];
        Assert.StartsWith("local:stock-", best.GetProperty("stock_id").GetString());
        Assert.Contains("city", best.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.True(best.GetProperty("height").GetInt32() > best.GetProperty("width").GetInt32(), "a portrait search ranks portrait clips first");

        var longer = await (await session.Client().GetAsync("/v1/assets/stock/search?query=abstract&orientation=landscape&min_duration=7")).ReadJsonAsync(200);
        Assert.NotEmpty(longer.GetProperty("data").EnumerateArray());
        Assert.All(longer.GetProperty("data").EnumerateArray(), h => Assert.True(h.GetProperty("duration_seconds").GetDouble() >= 7));
    }

    [Fact]
    public async Task BadSearchesNameTheirFields()
    {
        var client = (await host.RegisterAsync()).Client();
        var problem = await (await client.GetAsync("/v1/assets/stock/search?orientation=diagonal&per_page=0&min_duration=soon")).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["min_duration", "orientation", "per_page", "query"], problem.Fields().Order());
        await (await host.Client().GetAsync("/v1/assets/stock/search?query=city")).ReadProblemAsync(401, "UNAUTHORIZED");
    }
}

/// <summary>The same search on Pexels, against the simulator: its results and its failures as problems.</summary>
public class PexelsStockSearchTests(PexelsStockSearchTests.Host host) : IClassFixture<PexelsStockSearchTests.Host>
{
    public sealed class Host : ApiHost
    {
        public PexelsSimulator Pexels { get; } = new();

        protected override Task BeforeStartAsync() => Pexels.StartAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_PEXELS_API_KEY"] = PexelsSimulator.ValidKey,
            ["FENTA_PEXELS_BASE_URL"] = Pexels.BaseAddress.ToString(),
        };
    }

    [Fact]
    public async Task SearchShowsPexelsVideosWithPreviewAndAttribution()
    {
        var client = (await host.RegisterAsync()).Client();
        var found = await (await client.GetAsync("/v1/assets/stock/search?query=city%20night&min_duration=10")).ReadJsonAsync(200);
        Assert.Equal("pexels", found.GetProperty("provider").GetString());
        var hit = Assert.Single(found.GetProperty("data").EnumerateArray()); // the simulator's 8 s video is too short
        Assert.Equal(("pexels:1002", "https://images.pexels.com/videos/1002/preview.jpeg", "Video by Sim Ulator on Pexels", 12.0),
            (hit.GetProperty("stock_id").GetString(), hit.GetProperty("preview_url").GetString(), hit.GetProperty("attribution").GetString(),
                hit.GetProperty("duration_seconds").GetDouble()));
        var sent = host.Pexels.Requests.Last();
        Assert.Equal(PexelsSimulator.ValidKey, sent.Authorization);
        Assert.Contains("query=city%20night", sent.Path);
    }

    [Fact]
    public async Task PexelsFailuresAreProblemsThatSayWhenToComeBack()
    {
        var client = (await host.RegisterAsync()).Client();
        host.Pexels.EnqueueError(429, "Too Many Requests", retryAfterSeconds: 30);
        var limited = await client.GetAsync("/v1/assets/stock/search?query=city");
        await limited.ReadProblemAsync(503, "PEXELS_RATE_LIMITED");
        Assert.Equal(TimeSpan.FromSeconds(30), limited.Headers.RetryAfter?.Delta);

        // The client's pipeline tries a failed search again: this outage outlasts its tries.
        for (var i = 0; i < FentaWeb.Integrations.Http.ProviderResilience.Attempts; i++) host.Pexels.EnqueueError(502, "bad gateway");
        var down = await client.GetAsync("/v1/assets/stock/search?query=city");
        Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        await down.ReadProblemAsync(502, "PEXELS_UNAVAILABLE");
    }
}
