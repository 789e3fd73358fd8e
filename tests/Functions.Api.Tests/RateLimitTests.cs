namespace FentaWeb.Api.Tests;

public class RateLimitTests(RateLimitTests.Host host) : IClassFixture<RateLimitTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override int RateLimitPerMinute => 5;
    }

    [Fact]
    public async Task EachKeyHasItsOwnBudgetAndExcessIs429WithRetryAfter()
    {
        var session = await host.RegisterAsync();
        var (first, _) = await session.CreateKeyAsync("workflows:read");
        var (second, _) = await session.CreateKeyAsync("workflows:read");

        for (var i = 0; i < 5; i++) await (await host.Client(first).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        var limited = await host.Client(first).GetAsync("/v1/workflows");
        var problem = await limited.ReadProblemAsync(429, "RATE_LIMITED");
        Assert.Contains("5 requests", problem.GetProperty("detail").GetString());
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);

        await (await host.Client(second).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        // Health checks are never limited, so probes keep working while a client is throttled.
        for (var i = 0; i < 10; i++) await (await host.Client(first).GetAsync("/healthz")).ReadJsonAsync(200);
    }
}
