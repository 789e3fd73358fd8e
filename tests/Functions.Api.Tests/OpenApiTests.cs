using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

public class OpenApiTests(OpenApiTests.Host host) : IClassFixture<OpenApiTests.Host>
{
    public sealed class Host : ApiHost;

    // Pinned: later Redocly releases need Node 22, and the lint verdict should not drift between runs.
    private const string Redocly = "@redocly/cli@2.77.0";

    [Fact]
    public async Task DocumentDescribesEveryEndpointAndPassesRedoclyLint()
    {
        var response = await host.Client().GetAsync("/openapi/v1.json");
        var document = await response.ReadJsonAsync(200);
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths");
        string[] expected =
        [
            "/v1/auth/register", "/v1/auth/login", "/v1/auth/refresh", "/v1/auth/logout", "/v1/auth/me",
            "/v1/org", "/v1/org/members", "/v1/org/members/{memberId}", "/v1/org/invitations", "/v1/org/invitations/{invitationId}",
            "/v1/api-keys", "/v1/api-keys/{keyId}",
            "/v1/templates", "/v1/templates/{templateId}", "/v1/templates/{templateId}/copy",
            "/v1/workflows", "/v1/workflows/{workflowId}", "/v1/workflows/{workflowId}/versions", "/v1/workflows/{workflowId}/versions/{version}",
            "/v1/nodes", "/v1/voices", "/healthz", "/readyz", "/v1/assets", "/v1/assets/{assetId}", "/v1/assets/init", "/v1/assets/complete",
            "/v1/workflows/{workflowId}/run", "/v1/jobs", "/v1/jobs/{jobId}", "/v1/jobs/{jobId}/cancel", "/v1/jobs/{jobId}/retry",
            "/v1/jobs/{jobId}/logs", "/v1/jobs/{jobId}/events", "/v1/jobs/estimate", "/v1/voices/{provider}/{voice}/sample",
        ];
        foreach (var path in expected) Assert.True(paths.TryGetProperty(path, out _), $"missing path {path}");
        // Asset bytes go to and come from Blob Storage directly: the API serves no file routes.
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.StartsWith("/v1/files", StringComparison.Ordinal) || p.Name.StartsWith("/v1/uploads", StringComparison.Ordinal));
        // The web app's client is generated from this document: what it calls has its schemas.
        var estimate = paths.GetProperty("/v1/jobs/estimate").GetProperty("post");
        Assert.Equal("#/components/schemas/CreateJobRequest", estimate.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal("#/components/schemas/CostEstimate", estimate.GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var sample = paths.GetProperty("/v1/voices/{provider}/{voice}/sample").GetProperty("get").GetProperty("responses").GetProperty("200").GetProperty("content");
        Assert.True(sample.TryGetProperty("audio/wav", out _), sample.ToString());
        var session = document.GetProperty("components").GetProperty("schemas").GetProperty("SessionResponse").GetProperty("properties");
        Assert.Contains("null", session.GetProperty("refresh_token").GetProperty("type").EnumerateArray().Select(t => t.GetString()));
        // The web app's pages and files are no operation of the API.
        Assert.DoesNotContain(paths.EnumerateObject(), p => p.Name.Contains("{*", StringComparison.Ordinal) || p.Name.Contains("{path}", StringComparison.Ordinal));
        var create = paths.GetProperty("/v1/workflows").GetProperty("post");
        Assert.True(create.GetProperty("responses").TryGetProperty("403", out _));
        Assert.True(document.GetProperty("components").GetProperty("schemas").TryGetProperty("Problem", out _));
        // Attribute text cannot be computed: the summary that lists the webhook events must keep up with them.
        var webhookSummary = paths.GetProperty("/v1/webhooks").GetProperty("post").GetProperty("summary").GetString();
        foreach (var name in FentaWeb.Domain.Webhooks.WebhookEvents.All) Assert.Contains(name, webhookSummary);

        var file = Path.Combine(Path.GetTempPath(), $"fenta-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, document.GetRawText());
        try
        {
            var (exit, output) = await RunAsync("npx", "--yes", Redocly, "lint", file, "--format=stylish");
            Assert.True(exit == 0, $"redocly lint failed ({exit}):\n{output}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static Task<(int Exit, string Output)> RunAsync(string file, params string[] args) =>
        LocalTools.RunAsync(file, args, environment: new Dictionary<string, string> { ["NO_UPDATE_NOTIFIER"] = "1", ["REDOCLY_TELEMETRY"] = "off" });
}
