using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Regression tests of issue 16's probe, tried as an attacker or a careless client would: each bad input gets a 4xx
/// naming the field, and nothing stored changes.
/// </summary>
public class HardeningTests(HardeningTests.Host host) : IClassFixture<HardeningTests.Host>
{
    public sealed class Host : ApiHost;

    private static readonly object Graph = new
    {
        nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "tides" } } },
        edges = Array.Empty<object>(),
    };

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    /// <summary>How deep a document nests (the depth of its deepest token), read without the default limit of 64.</summary>
    private static int MaxDepth(string json)
    {
        var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(json), new JsonReaderOptions { MaxDepth = 256 });
        var max = 0;
        while (reader.Read()) max = Math.Max(max, reader.CurrentDepth);
        return max;
    }

    [Fact]
    public async Task ANulCharacterAnywhereIsRefusedNamingTheFieldAndStoresNothing()
    {
        var bad = await (await host.Client().PostAsync("/v1/auth/register", Json("""{"email": "a\u0000@example.test", "password": "a long enough password", "name": "x"}""")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["email"], bad.Fields());
        var login = await (await host.Client().PostAsync("/v1/auth/login", Json("""{"email": "x@example.test", "password": "p\u0000"}"""))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["password"], login.Fields());

        var session = await host.RegisterAsync();
        var client = session.Client();
        var nested = await (await client.PostAsync("/v1/workflows", Json("""
            {"name": "ok", "graph": {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x\u0000"}}], "edges": []},
             "variables": {"a": {"b": ["fine", "no\u0000"]}}}
            """))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0].params.prompt", "variables.a.b[1]"], nested.Fields());
        foreach (var (query, field) in new[] { ("/v1/jobs?workflow_id=%00", "workflow_id"), ("/v1/jobs?status=%00", "status"), ("/v1/workflows?cursor=AA", "cursor") })
            Assert.Equal([field], (await (await client.GetAsync(query)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM workflows WHERE org_id = $1", session.OrgId));
    }

    [Fact]
    public async Task ALoneSurrogateAnywhereIsRefusedNamingTheFieldAndStoresNothing()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflow = await (await client.PostAsync("/v1/workflows", Json("""
            {"name": "ok", "graph": {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x\udc00"}}], "edges": []},
             "variables": {"k": "\ud800", "pair": "\ud83c\udfac is fine", "\ud800name": 1}}
            """))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0].params.prompt", "variables.k", "variables"], workflow.Fields());
        var job = await (await client.PostAsync("/v1/jobs", Json("""
            {"graph": {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "tides"}}], "edges": []}, "variables": {"k": "a\uD800b"}}
            """))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["variables.k"], job.Fields());
        var direct = await (await client.PostAsync("/v1/jobs", Json("""{"template_id": "tmpl_shorts_v1", "config": {"script": {"prompt": "\udfff"}}}""")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["config.script.prompt"], direct.Fields());
        // A query value decoded to a lone surrogate cannot arrive (percent-encoded UTF-8 has none), but an escaped backslash
        // before a u is plain text and passes.
        await (await client.PostAsync("/v1/workflows", Json("""{"name": "a \\ud800 b", "graph": {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "tides"}}], "edges": []}}""")))
            .ReadJsonAsync(201);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM workflows WHERE org_id = $1", session.OrgId));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));
    }

    [Fact]
    public async Task ConcurrentWritesOfOneUniqueThingAnswer409NeverA500()
    {
        var client = (await host.RegisterAsync()).Client();
        var workflow = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "raced", graph = Graph })).ReadJsonAsync(201)).GetProperty("id").GetString()!;
        var patches = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.PatchAsJsonAsync($"/v1/workflows/{workflow}", new { description = $"edit {i}" })));
        Assert.All(patches, p => Assert.Contains(p.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        var saved = patches.Count(p => p.StatusCode == HttpStatusCode.OK);
        Assert.True(saved >= 1);
        Assert.Equal(1 + saved, await host.CountAsync("SELECT count(*) FROM workflow_versions WHERE workflow_id = $1", workflow));

        var email = $"{Guid.NewGuid():N}@example.test";
        var registrations = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            host.Client().PostAsJsonAsync("/v1/auth/register", new { email, password = "a long enough password", name = "Twin" })));
        Assert.Equal(1, registrations.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(registrations.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM users WHERE email = $1", email));
    }

    [Fact]
    public async Task InputIsNoDeeperThanWhatTheListsCanWriteBack()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        const string graph = """{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""";
        var deep = await (await client.PostAsync("/v1/workflows", Json("{\"name\": \"deep\", \"graph\": " + graph + ", \"variables\": " + Nested(62) + "}")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("nests deeper than 32 levels", deep.GetProperty("detail").GetString());
        var stored = await (await client.PostAsync("/v1/workflows", Json("{\"name\": \"deep enough\", \"graph\": " + graph + ", \"variables\": " + Nested(29) + "}")))
            .ReadJsonAsync(201);
        // The org's lists still answer with it stored.
        Assert.Single((await (await client.GetAsync("/v1/workflows")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());

        // Records stored before the limit, up to the 62 levels the reader took then (and edges stored as null), still list.
        var id = stored.GetProperty("id").GetString()!;
        await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = id, cron = "0 9 * * *", name = "daily" })).ReadJsonAsync(201);
        foreach (var table in new[] { "workflows", "workflow_versions", "schedules" })
            await host.ScalarAsync($"UPDATE {table} SET variables = $1::jsonb WHERE {(table == "workflows" ? "id" : "workflow_id")} = $2", Nested(62), id);
        await host.ScalarAsync("""UPDATE workflows SET graph = jsonb_set(graph, '{edges}', 'null') WHERE id = $1""", id);
        await host.ScalarAsync("""UPDATE workflow_versions SET graph = jsonb_set(graph, '{edges}', 'null') WHERE workflow_id = $1""", id);
        foreach (var list in new[] { "/v1/workflows", $"/v1/workflows/{id}/versions", "/v1/schedules", $"/v1/workflows/{id}" })
        {
            var response = await client.GetAsync(list);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{list}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal(62 + (list.EndsWith(id) ? 1 : 3), MaxDepth(await response.Content.ReadAsStringAsync()));
        }
        foreach (var action in new[] { "estimate", "run" })
        {
            var response = await client.PostAsync($"/v1/workflows/{id}/{action}", Json("{}"));
            Assert.True((int)response.StatusCode < 500, $"{action}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task NullElementsAndNullEdgesAreRefusedNotStored()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var nodes = await (await client.PostAsync("/v1/workflows", Json("""{"name": "n", "graph": {"nodes": [null, {"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": [null]}}""")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0]", "graph.edges[0]"], nodes.Fields());
        var edges = await (await client.PostAsync("/v1/workflows", Json("""{"name": "n", "graph": {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": null}}""")))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.edges"], edges.Fields());
        var job = await (await client.PostAsync("/v1/jobs", Json("""{"graph": {"nodes": [null], "edges": []}}"""))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[0]"], job.Fields());
        var template = await (await client.PostAsync("/v1/templates", Json("""
            {"name": "t", "aspect": "9:16", "resolution": "1080x1920", "spec": {"tracks": [null], "overlays": [null]}}
            """))).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("spec.tracks[0]", template.Fields());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM workflows WHERE org_id = $1", session.OrgId));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));
    }

    [Fact]
    public async Task TimestampsInAnyOffsetAreTakenAsTheSameInstantInUtc()
    {
        var client = (await host.RegisterVerifiedAsync()).Client();
        var key = await (await client.PostAsync("/v1/api-keys", Json("""{"name": "ci", "scopes": ["workflows:read"], "expires_at": "2030-01-01T00:00:00+05:00"}""")))
            .ReadJsonAsync(201);
        var expires = key.GetProperty("api_key").GetProperty("expires_at");
        Assert.Equal(new DateTimeOffset(2029, 12, 31, 19, 0, 0, TimeSpan.Zero), expires.GetDateTimeOffset());
        Assert.Equal(TimeSpan.Zero, expires.GetDateTimeOffset().Offset);
        await (await client.GetAsync("/v1/jobs?created_after=2020-01-01T00:00:00%2B02:00&created_before=2030-01-01T00:00:00-07:00")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task DocumentedLimitsAndDegenerateCronAreRefusedClearly()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var long1 = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "long", description = new string('d', 2001), graph = Graph })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["description"], long1.Fields());
        var big = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "big", graph = Graph, variables = new { blob = new string('v', 17_000) } }))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["variables"], big.Fields());
        var workflow = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "ok", graph = Graph })).ReadJsonAsync(201)).GetProperty("id").GetString();
        var run = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { variables = new { blob = new string('v', 17_000) } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["variables"], run.Fields());

        var zero = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "*/0 * * * *" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("steps by 0", zero.GetProperty("detail").GetString());
        var never = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "0 0 31 2 *" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Contains("never fires", never.GetProperty("detail").GetString());
        // The fifth Monday of a month is a real (if rare) slot.
        var fifth = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "0 9 * * 1#5" })).ReadJsonAsync(201);
        Assert.Equal(DayOfWeek.Monday, fifth.GetProperty("next_run_at").GetDateTimeOffset().UtcDateTime.DayOfWeek);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM schedules WHERE org_id = $1", session.OrgId));
    }
}
