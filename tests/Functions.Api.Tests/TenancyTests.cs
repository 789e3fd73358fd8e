using System.Net.Http.Json;

namespace FentaWeb.Api.Tests;

/// <summary>Another org's resources do not exist for the caller: every verb answers 404, never 403.</summary>
public class TenancyTests(TenancyTests.Host host) : IClassFixture<TenancyTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task AnotherOrgsResourcesAre404()
    {
        var alice = await host.RegisterAsync("Alice");
        var mallory = await host.RegisterAsync("Mallory");
        var workflowId = (await (await alice.Client().PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201)).GetProperty("id").GetString();
        var templateId = (await (await alice.Client().PostAsJsonAsync("/v1/templates", Samples.Template())).ReadJsonAsync(201)).GetProperty("id").GetString();
        var (_, keyId) = await alice.CreateKeyAsync("workflows:read");
        var aliceMembers = await (await alice.Client().GetAsync("/v1/org/members")).ReadJsonAsync(200);
        var memberId = aliceMembers.GetProperty("data")[0].GetProperty("id").GetString();

        var client = mallory.Client();
        string[] gets = [$"/v1/workflows/{workflowId}", $"/v1/workflows/{workflowId}/versions", $"/v1/templates/{templateId}", $"/v1/api-keys/{keyId}"];
        foreach (var url in gets) await (await client.GetAsync(url)).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PatchAsJsonAsync($"/v1/workflows/{workflowId}", new { name = "mine" })).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PatchAsJsonAsync($"/v1/templates/{templateId}", new { name = "mine" })).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PatchAsJsonAsync($"/v1/org/members/{memberId}", new { role = "viewer" })).ReadProblemAsync(404, "NOT_FOUND");
        foreach (var url in new[] { $"/v1/workflows/{workflowId}", $"/v1/templates/{templateId}", $"/v1/api-keys/{keyId}", $"/v1/org/members/{memberId}" })
            await (await client.DeleteAsync(url)).ReadProblemAsync(404, "NOT_FOUND");

        var list = await (await client.GetAsync("/v1/workflows")).ReadJsonAsync(200);
        Assert.Equal(0, list.GetProperty("data").GetArrayLength());
        // Nothing of Alice's changed.
        var still = await (await alice.Client().GetAsync($"/v1/workflows/{workflowId}")).ReadJsonAsync(200);
        Assert.Equal("Daily News Shorts", still.GetProperty("name").GetString());
        await (await alice.Client().GetAsync($"/v1/templates/{templateId}")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task ReferencingAnotherOrgsTemplateIsInvalid()
    {
        var alice = await host.RegisterAsync();
        var mallory = await host.RegisterAsync();
        var templateId = (await (await alice.Client().PostAsJsonAsync("/v1/templates", Samples.Template())).ReadJsonAsync(201)).GetProperty("id").GetString();
        var json = System.Text.Json.JsonSerializer.Serialize(Samples.Workflow()).Replace("tmpl_shorts_v1", templateId);
        var response = await mallory.Client().PostAsync("/v1/workflows", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["graph.nodes[4].params.template_id"], problem.Fields());
    }

    [Fact]
    public async Task ActingInAnOrgYouDoNotBelongToIsRefused()
    {
        var alice = await host.RegisterAsync();
        var mallory = await host.RegisterAsync();
        var response = await mallory.Client(alice.OrgId).GetAsync("/v1/workflows");
        var problem = await response.ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Contains("not a member", problem.GetProperty("detail").GetString());
    }
}
