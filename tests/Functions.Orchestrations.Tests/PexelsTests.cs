using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Pexels;
using FentaWeb.Simulators;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>The Pexels client and Input.Stock on Pexels, against a local simulator of the documented contract.</summary>
public class PexelsTests(RunHostWithoutWorker host) : SimulatorTests<PexelsSimulator>(new()), IClassFixture<RunHostWithoutWorker>
{
    // A short timeout only where a test waits it out: under a loaded CI machine a first request can take longer than that.
    private PexelsClient Client(string key = PexelsSimulator.ValidKey, double timeoutSeconds = 10) =>
        Clients.Get<PexelsClient>(services => services.AddPexelsClient(new PexelsOptions(Simulator.BaseAddress, key, TimeSpan.FromSeconds(timeoutSeconds))));

    [Fact]
    public async Task SearchSendsTheRawKeyAndPicksTheFileThatFitsTheTarget()
    {
        var page = await Client().SearchAsync("city night", "portrait", 15, CancellationToken.None);
        Assert.Equal(2, page.Videos.Count);
        var sent = Assert.Single(Simulator.Requests);
        Assert.Equal(PexelsSimulator.ValidKey, sent.Authorization);
        Assert.Contains("query=city%20night", sent.Path);
        Assert.Contains("orientation=portrait", sent.Path);
        Assert.Equal("hd", PexelsClient.BestFile(page.Videos[0], 1080, 1920)!.Quality);
        Assert.Equal("sd", PexelsClient.BestFile(page.Videos[0], 540, 960)!.Quality);
        Assert.Equal("hd", PexelsClient.BestFile(page.Videos[0], 4000, 4000)!.Quality); // nothing big enough: the largest
    }

    [Fact]
    public async Task ErrorsMapToTypedOutcomes()
    {
        await FailsWithAsync("PEXELS_UNAUTHORIZED", true, () => Client("wrong").SearchAsync("x", "portrait", 5, CancellationToken.None));

        var reset = DateTimeOffset.UtcNow.AddSeconds(90).ToUnixTimeSeconds();
        Simulator.Enqueue(async http =>
        {
            http.Response.StatusCode = 429;
            http.Response.Headers["X-Ratelimit-Reset"] = reset.ToString();
            await http.Response.WriteAsync("Too Many Requests");
        });
        var limited = await FailsAsync(() => Client().SearchAsync("x", "portrait", 5, CancellationToken.None));
        Assert.Equal("PEXELS_RATE_LIMITED", limited.Code);
        Assert.InRange(limited.RetryAfter!.Value.TotalSeconds, 80, 91);

        // Searches are reads: a 5xx or a timeout is tried again, so these are failures that outlast every try.
        // The 5xx answers get the long timeout: a loaded machine must not turn a slow 502 into a timeout.
        EnqueueOutage(502, "bad gateway");
        await FailsWithAsync("PEXELS_UNAVAILABLE", false, () => Client(timeoutSeconds: 10).SearchAsync("x", "portrait", 5, CancellationToken.None));
        for (var i = 0; i < ProviderResilience.Attempts; i++) Simulator.EnqueueDelay(TimeSpan.FromSeconds(3));
        await FailsWithAsync("PEXELS_TIMEOUT", false, () => Client(timeoutSeconds: 0.5).SearchAsync("x", "portrait", 5, CancellationToken.None));
    }

    [Fact]
    public async Task A503OrASlowAnswerIsRetriedByTheClientsPipeline()
    {
        Simulator.EnqueueError(503, "unavailable");
        Assert.Equal(2, (await Client().SearchAsync("city night", "portrait", 15, CancellationToken.None)).Videos.Count);
        Assert.Equal(2, Simulator.Requests.Count);

        Simulator.EnqueueDelay(TimeSpan.FromSeconds(3));
        Assert.Equal(1002, (await Client(timeoutSeconds: 0.5).GetVideoAsync(1002, CancellationToken.None)).Id);
        Assert.Equal(4, Simulator.Requests.Count);
    }

    [Fact]
    public async Task StockNodeDownloadsOncePerClipKeepsAttributionAndFailsClearlyWithoutMatches()
    {
        var settings = host.WorkerSettings();
        settings["FENTA_PEXELS_API_KEY"] = PexelsSimulator.ValidKey;
        settings["FENTA_PEXELS_BASE_URL"] = Simulator.BaseAddress.ToString();
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();

        const string graph = """
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "harbour ferries", "scenes": 2, "duration_seconds": 8}},
                       {"id": "st", "type": "Input.Stock", "params": {"provider": "pexels"}}],
             "edges": [{"from": "s", "to": "st"}]}
            """;
        var first = await host.StartJobAsync(graph);
        Assert.Equal("completed", await host.WaitForJobAsync(first));
        var media = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = -1", first);
        Assert.Equal(2, media.GetArrayLength());
        Assert.Equal("Video by Sim Ulator on Pexels", media[0].GetProperty("attribution").GetString());
        Assert.Equal(1080, media[0].GetProperty("width").GetInt32() * 2); // the simulator serves a 540-wide file under every link
        Assert.Equal(2, Simulator.Downloads.Values.Sum());

        var second = await host.StartJobAsync(graph);
        Assert.Equal("completed", await host.WaitForJobAsync(second));
        Assert.Equal(2, Simulator.Downloads.Values.Sum()); // cached: the same clips are not downloaded again

        var none = await host.StartJobAsync("""{"nodes": [{"id": "st", "type": "Input.Stock", "params": {"provider": "pexels", "query": "nothing here"}}], "edges": []}""");
        Assert.Equal("failed", await host.WaitForJobAsync(none));
        Assert.Equal("STOCK_NO_MATCH", (await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", none)).GetProperty("code").GetString());
        Assert.Contains(Simulator.Requests, r => r.Path.Contains("query=nothing&"));  // the broader retry
        await worker.StopAsync();
    }

    [Fact]
    public async Task AVideoIsFetchedByIdAndAnUnknownOneIsAPermanentFailure()
    {
        var video = await Client().GetVideoAsync(1002, CancellationToken.None);
        Assert.Equal((1002L, 12.0), (video.Id, video.Duration));
        Assert.Equal(PexelsSimulator.ValidKey, Simulator.Requests.Last().Authorization);
        await FailsWithAsync("PEXELS_NOT_FOUND", true, () => Client().GetVideoAsync(42, CancellationToken.None));
    }

    [Fact]
    public async Task ClipsPickedInStockSearchAreExactlyTheOnesAStockNodeUses()
    {
        var settings = host.WorkerSettings();
        settings["FENTA_PEXELS_API_KEY"] = PexelsSimulator.ValidKey;
        settings["FENTA_PEXELS_BASE_URL"] = Simulator.BaseAddress.ToString();
        settings["FENTA_STOCK_DIR"] = Path.Combine(host.LocalFolder, "stock-library");
        settings["FENTA_STOCK_CLIPS"] = "3";
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();

        // Fed a script, scene i takes the i-th pick; Pexels and local picks mix.
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "harbour ferries", "scenes": 2, "duration_seconds": 8}},
                       {"id": "st", "type": "Input.Stock", "params": {"stock_ids": ["pexels:1002", "local:stock-01.mp4"]}}],
             "edges": [{"from": "s", "to": "st"}]}
            """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        var media = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = -1", job);
        Assert.Equal(("Video by Sim Ulator on Pexels", "FentaWeb local stock"), (media[0].GetProperty("attribution").GetString(), media[1].GetProperty("attribution").GetString()));
        Assert.Contains(Simulator.Requests, r => r.Path == "/videos/videos/1002");
        Assert.DoesNotContain(Simulator.Requests, r => r.Path.StartsWith("/videos/search", StringComparison.Ordinal));
        Assert.Equal("local:stock-01.mp4", (string?)await host.ScalarAsync("SELECT metadata->>'stock_id' FROM assets WHERE id = $1", media[1].GetProperty("asset_id").GetString()!));

        var gone = await host.StartJobAsync("""{"nodes": [{"id": "st", "type": "Input.Stock", "params": {"stock_ids": ["pexels:42"]}}], "edges": []}""");
        Assert.Equal("failed", await host.WaitForJobAsync(gone));
        Assert.Equal("PEXELS_NOT_FOUND", (await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", gone)).GetProperty("code").GetString());
        await worker.StopAsync();
    }
}
