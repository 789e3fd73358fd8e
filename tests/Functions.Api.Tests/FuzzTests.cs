using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Property-style fuzzing of every write endpoint in the OpenAPI document: generated bodies (wrong types, NULs, nulls,
/// deep nesting, huge strings, bad and offset timestamps, unknown fields) must never get a 5xx, and a 4xx must leave
/// everything the org has stored as it was.
/// </summary>
public class FuzzTests(FuzzTests.Host host) : IClassFixture<FuzzTests.Host>
{
    public sealed class Host : ApiHost;

    private const int Requests = 1200;

    /// <summary>A digest of every row the org owns in the tables a write can touch.</summary>
    private const string Stored = """
        SELECT md5(concat_ws('|',
          (SELECT string_agg(w::text, ',' ORDER BY w.id) FROM workflows w WHERE org_id = $1),
          (SELECT string_agg(v::text, ',' ORDER BY v.id) FROM workflow_versions v JOIN workflows w ON w.id = v.workflow_id WHERE w.org_id = $1),
          (SELECT string_agg(t::text, ',' ORDER BY t.id) FROM templates t WHERE org_id = $1),
          (SELECT string_agg(s::text, ',' ORDER BY s.id) FROM schedules s WHERE org_id = $1),
          (SELECT string_agg(j.id || j.status, ',' ORDER BY j.id) FROM jobs j WHERE org_id = $1),
          (SELECT string_agg(h::text, ',' ORDER BY h.id) FROM webhooks h WHERE org_id = $1),
          (SELECT string_agg(k.id || coalesce(k.revoked_at::text, ''), ',' ORDER BY k.id) FROM api_keys k WHERE org_id = $1),
          (SELECT string_agg(a.id || a.status || coalesce(a.deleted_at::text, ''), ',' ORDER BY a.id) FROM assets a WHERE org_id = $1),
          (SELECT string_agg(m::text, ',' ORDER BY m.user_id) FROM org_members m WHERE org_id = $1),
          (SELECT string_agg(i.id, ',' ORDER BY i.id) FROM org_invitations i WHERE org_id = $1),
          (SELECT row_to_json(o)::text FROM orgs o WHERE id = $1)))
        """;

    [Fact]
    public async Task GeneratedBodiesToEveryWriteEndpointNeverGetA5xxAndA4xxChangesNothing()
    {
        // Verified, so key, invitation and checkout bodies reach their validation rather than the address check.
        var session = await host.RegisterVerifiedAsync();
        var client = session.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync(200);
        var ids = await IdsAsync(client);
        var operations = WriteOperations(document).ToList();
        Assert.True(operations.Count >= 15, $"only {operations.Count} write operations in the document");

        var random = new Random(16);
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        var sent = 0;
        for (; sent < Requests; sent++)
        {
            var (method, template, properties) = operations[sent % operations.Count];
            var path = Fill(template, ids);
            var body = sent % 10 == 9 ? Value(random, 0) : Body(random, properties);
            var before = await host.ScalarAsync(Stored, session.OrgId);
            using var request = new HttpRequestMessage(new HttpMethod(method), path)
            {
                Content = new StringContent(Wire(body), Encoding.UTF8, "application/json"),
            };
            using var response = await client.SendAsync(request);
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            if (status >= 500) failures.Add($"{method} {path} → {status}: {Trim(body)} → {await response.Content.ReadAsStringAsync()}");
            else if (status >= 400)
            {
                if (!Equals(before, await host.ScalarAsync(Stored, session.OrgId))) failures.Add($"{method} {path} → {status} but stored data changed: {Trim(body)}");
                if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                    failures.Add($"{method} {path} → {status} without problem+json: {Trim(body)}");
            }
            if (failures.Count >= 10) break;
        }
        Assert.True(failures.Count == 0, $"{failures.Count} failures in {sent} requests:\n{string.Join("\n", failures)}{ServerErrors.Recent()}");
        Assert.Equal(Requests, sent);
        // The bodies reach the handlers: most are refused field by field, and some are valid enough to be taken.
        Assert.True(statuses.GetValueOrDefault(400) > Requests / 3 && statuses.Where(s => s.Key < 300).Sum(s => s.Value) > 20,
            $"statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}");
    }

    private static string Trim(JsonNode? body) => Wire(body) is var text && text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>
    /// The body as sent: JSON writers refuse lone surrogates, so the generator writes placeholders that become the escapes
    /// a careless client could send.
    /// </summary>
    private static string Wire(JsonNode? body) =>
        (body?.ToJsonString() ?? "null").Replace(LoneHigh, "\\ud800", StringComparison.Ordinal).Replace(LoneLow, "\\udc00", StringComparison.Ordinal);

    private const string LoneHigh = "LONE-HIGH-SURROGATE", LoneLow = "LONE-LOW-SURROGATE";

    /// <summary>Every POST, PUT and PATCH of the document with the properties of its JSON body (none for a body-less one).</summary>
    private static IEnumerable<(string Method, string Path, IReadOnlyList<string> Properties)> WriteOperations(JsonElement document)
    {
        var schemas = document.GetProperty("components").GetProperty("schemas");
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        foreach (var operation in path.Value.EnumerateObject())
        {
            if (operation.Name is not ("post" or "put" or "patch")) continue;
            // Stripe's own webhook checks a signature first; the fuzz would only ever see its 400.
            if (path.Name.Contains("stripe", StringComparison.Ordinal)) continue;
            var properties = new List<string>();
            if (operation.Value.TryGetProperty("requestBody", out var body)
                && body.GetProperty("content").TryGetProperty("application/json", out var json)
                && json.GetProperty("schema").TryGetProperty("$ref", out var reference)
                && schemas.TryGetProperty(reference.GetString()!.Split('/')[^1], out var schema)
                && schema.TryGetProperty("properties", out var props))
                properties.AddRange(props.EnumerateObject().Select(p => p.Name));
            yield return (operation.Name.ToUpperInvariant(), path.Name, properties);
        }
    }

    /// <summary>Real ids of the org's things for path parameters, so bodies reach the handlers behind the lookups.</summary>
    private async Task<Dictionary<string, string>> IdsAsync(HttpClient client)
    {
        var graph = new { nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "tides" } } }, edges = Array.Empty<object>() };
        var workflow = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "fuzzed", graph })).ReadJsonAsync(201)).GetProperty("id").GetString()!;
        var schedule = (await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "0 9 * * *" })).ReadJsonAsync(201)).GetProperty("id").GetString()!;
        var template = (await (await client.PostAsync("/v1/templates/tmpl_shorts_v1/copy", null)).ReadJsonAsync(201)).GetProperty("id").GetString()!;
        var job = (await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        return new(StringComparer.OrdinalIgnoreCase)
        {
            ["workflowId"] = workflow, ["scheduleId"] = schedule, ["templateId"] = template, ["jobId"] = job,
        };
    }

    private static string Fill(string template, Dictionary<string, string> ids) =>
        System.Text.RegularExpressions.Regex.Replace(template, @"\{([^}]+)\}", m => ids.GetValueOrDefault(m.Groups[1].Value, "x_" + m.Groups[1].Value));

    /// <summary>An object with some of the documented properties (and now and then an unknown one), each a generated value.</summary>
    private static JsonObject Body(Random random, IReadOnlyList<string> properties)
    {
        var body = new JsonObject();
        foreach (var name in properties.Where(_ => random.Next(3) > 0)) body[name] = Value(random, 0);
        if (random.Next(8) == 0) body["not_documented"] = Value(random, 0);
        return body;
    }

    private static readonly string[] Texts =
    [
        "", " ", "ok", "a\u0000b", "\u0000", "2030-01-01T00:00:00+05:00", "2030-13-45T99:99:99Z", "yesterday", "-1", "1e309", "NaN",
        "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "{{topic}}", "x@example.test", "*/0 * * * *", "0 0 31 2 *",
        "\ud83c\udfac emoji", "http://169.254.169.254/latest", "9:16", "free", "admin", "workflows:read", "local", "kie",
        LoneHigh, $"a{LoneLow}b",
    ];

    private static JsonNode? Value(Random random, int depth) => random.Next(depth > 3 ? 6 : 10) switch
    {
        0 => null,
        1 => JsonValue.Create(random.Next(3) switch { 0 => -1, 1 => int.MaxValue, _ => random.Next(100) }),
        2 => JsonValue.Create(random.Next(2) == 0 ? 1e300 : -0.5),
        3 => JsonValue.Create(random.Next(2) == 0),
        4 => JsonValue.Create(Texts[random.Next(Texts.Length)]),
        5 => JsonValue.Create(random.Next(4) == 0 ? new string('x', 200_000) : Texts[random.Next(Texts.Length)]),
        6 => new JsonArray([.. Enumerable.Range(0, random.Next(4)).Select(_ => Value(random, depth + 1))]),
        7 => Deep(random.Next(20, 70)),
        _ => new JsonObject(Enumerable.Range(0, random.Next(4)).Select(i => KeyValuePair.Create(Texts[random.Next(Texts.Length)] + i, Value(random, depth + 1)))),
    };

    private static JsonNode Deep(int levels)
    {
        JsonNode node = JsonValue.Create(1);
        for (var i = 0; i < levels; i++) node = i % 2 == 0 ? new JsonObject { ["a"] = node } : new JsonArray(node);
        return node;
    }
}
