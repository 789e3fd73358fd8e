using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;

namespace FentaWeb.Api.Tests;

/// <summary>Cross-cutting HTTP behaviour: problem details for bad input, body limits, pagination, health.</summary>
public class ProtocolTests(ProtocolTests.Host host) : IClassFixture<ProtocolTests.Host>
{
    public sealed class Host : ApiHost;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    [Fact]
    public async Task MalformedAndMistypedBodiesAre400sNamingTheField()
    {
        var client = (await host.RegisterAsync()).Client();
        var broken = await (await client.PostAsync("/v1/workflows", Json("{\"name\": \"x\", \"graph\": {"))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("not valid JSON", broken.GetProperty("detail").GetString());

        var mistyped = await (await client.PostAsync("/v1/workflows", Json("{\"name\": 5}"))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["name"], mistyped.Fields());

        var nested = await (await client.PostAsync("/v1/workflows", Json("{\"name\": \"x\", \"graph\": {\"nodes\": [{\"id\": \"a\", \"type\": \"Script.Generate\", \"params\": []}], \"edges\": []}}")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0].params"], nested.Fields());

        var unknown = await (await client.PostAsync("/v1/workflows", Json("{\"name\": \"x\", \"colour\": \"red\"}"))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["colour"], unknown.Fields());

        var missing = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "no graph" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph"], missing.Fields());

        var empty = await client.PostAsync("/v1/workflows", Json(""));
        await empty.ReadProblemAsync(400, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task AnUnknownRouteIsA404AndAWrongVerbA405NamingTheVerbsServedThere()
    {
        var client = host.Client();
        await (await client.GetAsync("/v1/no-such-route")).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PostAsync("/", null)).ReadProblemAsync(404, "NOT_FOUND");
        var wrongVerb = await client.DeleteAsync("/v1/templates");
        await wrongVerb.ReadProblemAsync(405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET", "POST"], wrongVerb.Content.Headers.Allow.Order());
        // A route with a parameter is found all the same; a POST without a body still reaches a function that takes one.
        var put = await client.PutAsync("/v1/jobs/job_x", null);
        await put.ReadProblemAsync(405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET"], put.Content.Headers.Allow);
        await (await client.PostAsync("/v1/api-keys/key_x/roll", null)).ReadProblemAsync(401, "UNAUTHORIZED");
    }

    [Fact]
    public async Task AProblemsTraceIdIsTheRequestsW3CTraceIdTheOneSupportSearchesFor()
    {
        var client = (await host.RegisterAsync()).Client();
        // A client that sends a traceparent finds its own trace id in the problem (the trace the API's spans and logs are in).
        var trace = ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/jobs/job_nobody_has");
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
        var notFound = await (await client.SendAsync(request)).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(trace, notFound.GetProperty("trace_id").GetString());
        // Without one, the trace the request started; a problem the framework writes (no route) names it too.
        var unrouted = await (await client.GetAsync("/v1/no-such-route")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Matches("^[0-9a-f]{32}$", unrouted.GetProperty("trace_id").GetString());
    }

    [Fact]
    public async Task AnOverlongUrlOrOversizedHeadersAreProblemDetailsNotEmptyAnswers()
    {
        var client = host.Client();
        var longUrl = await client.GetAsync("/v1/workflows?cursor=" + new string('a', 20 * 1024));
        Assert.Equal("nosniff", longUrl.Headers.GetValues("X-Content-Type-Options").Single());
        var tooLong = await longUrl.ReadProblemAsync(414, "URI_TOO_LONG");
        Assert.Contains("at most 8192", tooLong.GetProperty("detail").GetString());

        var bigHeaders = new HttpRequestMessage(HttpMethod.Get, "/v1/workflows");
        for (var i = 0; i < 10; i++) bigHeaders.Headers.Add($"X-Filler-{i}", new string('b', 10 * 1024)); // 100 KB
        await (await client.SendAsync(bigHeaders)).ReadProblemAsync(431, "HEADERS_TOO_LARGE");

        var manyHeaders = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        for (var i = 0; i < 150; i++) manyHeaders.Headers.Add($"X-Many-{i}", "x");
        await (await client.SendAsync(manyHeaders)).ReadProblemAsync(431, "HEADERS_TOO_LARGE");

        // Under the limits, requests go on as before.
        await (await client.GetAsync("/v1/workflows?cursor=" + new string('a', 4 * 1024))).ReadJsonAsync(401);
    }

    [Fact]
    public async Task OversizedBodyIsA413()
    {
        var client = (await host.RegisterAsync()).Client();
        var huge = "{\"name\": \"" + new string('x', 300 * 1024) + "\"}";
        await (await client.PostAsync("/v1/workflows", Json(huge))).ReadProblemAsync(413, "PAYLOAD_TOO_LARGE");
    }

    [Fact]
    public async Task UnknownRoutesAndMethodsAreProblems()
    {
        var client = (await host.RegisterAsync()).Client();
        await (await client.GetAsync("/v1/nothing-here")).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PutAsJsonAsync("/v1/workflows", new { })).ReadProblemAsync(405, "METHOD_NOT_ALLOWED");
    }

    [Fact]
    public async Task CursorPaginationWalksEveryItemOnceInStableOrder()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
            ids.Add((await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow($"W{i}"))).ReadJsonAsync(201)).GetProperty("id").GetString()!);

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await (await client.GetAsync($"/v1/workflows?limit=3{(cursor is null ? "" : $"&cursor={cursor}")}")).ReadJsonAsync(200);
            seen.AddRange(page.GetProperty("data").EnumerateArray().Select(w => w.GetProperty("id").GetString()!));
            cursor = page.GetProperty("next_cursor").GetString();
            Assert.Equal(cursor is not null, page.GetProperty("has_more").GetBoolean());
            pages++;
        } while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(Enumerable.Reverse(ids), seen);
    }

    [Fact]
    public async Task BadPaginationParametersNameTheField()
    {
        var client = (await host.RegisterAsync()).Client();
        Assert.Equal(["limit"], (await (await client.GetAsync("/v1/workflows?limit=0")).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(["limit"], (await (await client.GetAsync("/v1/workflows?limit=abc")).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(["cursor"], (await (await client.GetAsync("/v1/workflows?cursor=!!!")).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task HealthAndReadiness()
    {
        var health = await (await host.Client().GetAsync("/healthz")).ReadJsonAsync(200);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        var ready = await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(200);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ReadinessFailsNamingASettingThatStillHoldsAKeyVaultReference()
    {
        // The API does not start on such a setting (StartupTests), so this running one gains it afterwards: /readyz asks
        // the live configuration the same question start-up did.
        host.Configuration["FENTA_STRIPE_SECRET_KEY"] = "@Microsoft.KeyVault(VaultName=kv-test;SecretName=stripe-secret-key)";
        try
        {
            var ready = await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(503);
            Assert.Equal("not_ready", ready.GetProperty("status").GetString());
            Assert.StartsWith("FENTA_STRIPE_SECRET_KEY still holds a reference to Key Vault", ready.GetProperty("reason").GetString());
            Assert.DoesNotContain("kv-test", ready.GetRawText());
        }
        finally
        {
            host.Configuration["FENTA_STRIPE_SECRET_KEY"] = null;
        }
        await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task ReadinessFailsWhenMigrationsAreMissing()
    {
        await host.CountAsync("UPDATE schema_migrations SET checksum = 'x' WHERE version = 2 RETURNING 1");
        try
        {
            var ready = await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(503);
            Assert.Equal("not_ready", ready.GetProperty("status").GetString());
        }
        finally
        {
            await host.CountAsync("UPDATE schema_migrations SET checksum = $1 WHERE version = 2 RETURNING 1",
                FentaWeb.Domain.Persistence.Migrator.All.Single(m => m.Version == 2).Checksum);
        }
    }
}
