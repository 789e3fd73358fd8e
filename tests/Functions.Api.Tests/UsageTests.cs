using System.Net.Http.Json;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>Usage and quotas over HTTP: the free tier pauses new work at its limits, paid tiers carry on into overage.</summary>
public class UsageTests(UsageTests.Host host) : IClassFixture<UsageTests.Host>
{
    public sealed class Host : ApiHost;

    private static readonly object Graph = new
    {
        nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1" } } },
        edges = Array.Empty<object>(),
    };

    private Task UseRenderSecondsAsync(string orgId, decimal seconds, DateTimeOffset at) => host.ScalarAsync(
        "INSERT INTO usage_records (id, org_id, resource_type, render_seconds, cost_usd, created_at) VALUES (fenta_id('usage'), $1, 'render_seconds', $2, 0, $3)",
        orgId, seconds, at);

    private static JsonElement Line(JsonElement quota, string resource) =>
        quota.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == resource);

    [Fact]
    public async Task TheFreeTierPausesNewJobsOnceAnAllowanceIsUsedUpAndAPaidTierCarriesOnIntoOverage()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var fresh = await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200);
        Assert.Equal(("free", true), (fresh.GetProperty("plan").GetString(), fresh.GetProperty("blocks_at_limit").GetBoolean()));
        Assert.Equal((300m, 0m, 300m), (Line(fresh, "render_seconds").GetProperty("limit").GetDecimal(), Line(fresh, "render_seconds").GetProperty("used").GetDecimal(),
            Line(fresh, "render_seconds").GetProperty("remaining").GetDecimal()));

        var keyed = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { graph = Graph }) };
        keyed.Headers.Add("Idempotency-Key", "before-the-limit");
        var earlier = (await (await client.SendAsync(keyed)).ReadJsonAsync(202)).GetProperty("id").GetString();

        await UseRenderSecondsAsync(session.OrgId, 200, DateTimeOffset.UtcNow);
        await UseRenderSecondsAsync(session.OrgId, 100, DateTimeOffset.UtcNow);
        await UseRenderSecondsAsync(session.OrgId, 5000, DateTimeOffset.UtcNow.AddMonths(-1)); // last month's does not count
        // Seed 000: "Free tier: jobs pause until reset". The job is kept, unstarted, and says why and until when.
        var paused = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202);
        Assert.Equal("paused", paused.GetProperty("status").GetString());
        Assert.Contains("render_seconds", paused.GetProperty("paused_reason").GetString());
        var resumeAt = paused.GetProperty("resume_at").GetDateTimeOffset();
        Assert.Equal((1, 0), (resumeAt.Day, resumeAt.Hour));
        Assert.True(resumeAt > DateTimeOffset.UtcNow);
        Assert.Null(await host.Runs.GetInstanceAsync(paused.GetProperty("id").GetString()!));
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));
        var listed = await (await client.GetAsync("/v1/jobs?status=paused")).ReadJsonAsync(200);
        Assert.Equal(paused.GetProperty("id").GetString(), Assert.Single(listed.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());

        // A replay of a request that succeeded before the limit still gets its job; uploads need only storage.
        var replay = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(new { graph = Graph }) };
        replay.Headers.Add("Idempotency-Key", "before-the-limit");
        Assert.Equal(earlier, (await (await client.SendAsync(replay)).ReadJsonAsync(202)).GetProperty("id").GetString());
        await client.InitUploadAsync("clip.mp4", 1000);

        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202);
        await UseRenderSecondsAsync(session.OrgId, 3400, DateTimeOffset.UtcNow);
        var over = await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200);
        Assert.Equal((3600m, 3700m, 0m, 100m), (Line(over, "render_seconds").GetProperty("limit").GetDecimal(), Line(over, "render_seconds").GetProperty("used").GetDecimal(),
            Line(over, "render_seconds").GetProperty("remaining").GetDecimal(), Line(over, "render_seconds").GetProperty("overage").GetDecimal()));
        await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202);
    }

    [Fact]
    public async Task FreeStorageFullRefusesUploadsButNotOtherWork()
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("""
            INSERT INTO assets (id, org_id, type, source, storage_key, size_bytes) VALUES (fenta_id('asset'), $1, 'video', 'upload', 'elsewhere/big.mp4', 5368709120)
            """, session.OrgId);
        var refused = await (await session.Client().PostAsJsonAsync("/v1/assets/init", new { filename = "clip.mp4", size_bytes = 1000 })).ReadProblemAsync(402, "QUOTA_EXCEEDED");
        Assert.Equal("storage_bytes", refused.GetProperty("resource").GetString());
        await (await session.Client().PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadProblemAsync(402, "QUOTA_EXCEEDED"); // every allowance stops jobs
    }

    [Fact]
    public async Task UsageIsReportedPerDayForAPeriodAndNeedsTheBillingScope()
    {
        var session = await host.RegisterAsync();
        var today = DateTimeOffset.UtcNow;
        await UseRenderSecondsAsync(session.OrgId, 12.5m, today);
        await host.ScalarAsync("INSERT INTO usage_records (id, org_id, resource_type, kai_credits, cost_usd) VALUES (fenta_id('usage'), $1, 'kai_credits', 60, 0.3)", session.OrgId);
        var from = DateOnly.FromDateTime(today.UtcDateTime).ToString("yyyy-MM-dd");
        var usage = await (await session.Client().GetAsync($"/v1/usage?from={from}&to={from}")).ReadJsonAsync(200);
        var totals = usage.GetProperty("totals");
        Assert.Equal((12.5m, 60L, 0.3m), (totals.GetProperty("render_seconds").GetDecimal(), totals.GetProperty("kai_credits").GetInt64(), totals.GetProperty("cost_usd").GetDecimal()));
        Assert.Equal(from, Assert.Single(usage.GetProperty("days").EnumerateArray()).GetProperty("date").GetString());

        var bad = await (await session.Client().GetAsync("/v1/usage?from=yesterday&to=2020-01-01")).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["from"], bad.Fields());
        var backwards = await (await session.Client().GetAsync($"/v1/usage?from={from}&to=2020-01-01")).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["to"], backwards.Fields());
        var (readOnly, _) = await session.CreateKeyAsync("workflows:read");
        Assert.Equal("billing:view", (await (await host.Client(readOnly).GetAsync("/v1/usage/quota")).ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_scope").GetString());
        var (billing, _) = await session.CreateKeyAsync("billing:view");
        Assert.Equal(12.5m, Line(await (await host.Client(billing).GetAsync("/v1/usage/quota")).ReadJsonAsync(200), "render_seconds").GetProperty("used").GetDecimal());
    }
}
