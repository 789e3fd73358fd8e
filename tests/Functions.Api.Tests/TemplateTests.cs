using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Templates;

namespace FentaWeb.Api.Tests;

public class TemplateTests(TemplateTests.Host host) : IClassFixture<TemplateTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task BuiltInTemplatesAreReadableByEveryOrgAndValid()
    {
        var session = await host.RegisterAsync();
        var list = await (await session.Client().GetAsync("/v1/templates?limit=100")).ReadJsonAsync(200);
        var builtIns = list.GetProperty("data").EnumerateArray().Where(t => t.GetProperty("built_in").GetBoolean()).ToList();
        Assert.Equal(4, builtIns.Count);
        Assert.Equal(["16:9", "1:1", "4:5", "9:16"], builtIns.Select(t => t.GetProperty("aspect").GetString()).Order());
        foreach (var template in builtIns)
        {
            var errors = new FieldErrors();
            TemplateValidator.Validate(template.GetProperty("aspect").GetString()!, template.GetProperty("resolution").GetString()!,
                template.GetProperty("spec").Deserialize<TemplateSpec>(FentaJson.Options)!, errors);
            Assert.Empty(errors.All);
        }
        var shorts = await (await session.Client().GetAsync("/v1/templates/tmpl_shorts_v1")).ReadJsonAsync(200);
        Assert.Equal("Shorts Clean Bold", shorts.GetProperty("name").GetString());
        var square = await (await session.Client().GetAsync("/v1/templates?aspect=1:1")).ReadJsonAsync(200);
        Assert.All(square.GetProperty("data").EnumerateArray(), t => Assert.Equal("1:1", t.GetProperty("aspect").GetString()));
    }

    [Fact]
    public async Task CreatePatchAndSoftDelete()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var created = await (await client.PostAsJsonAsync("/v1/templates", Samples.Template())).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("tmpl_", id);
        Assert.False(created.GetProperty("built_in").GetBoolean());

        var renamed = await (await client.PatchAsJsonAsync($"/v1/templates/{id}", new { name = "Renamed" })).ReadJsonAsync(200);
        Assert.Equal("Renamed", renamed.GetProperty("name").GetString());
        Assert.Equal(2, renamed.GetProperty("spec").GetProperty("tracks").GetArrayLength());

        // An invalid patch changes nothing.
        var bad = await client.PatchAsJsonAsync($"/v1/templates/{id}", new { name = "Broken", resolution = "1920x1080" });
        Assert.Equal(["resolution"], (await bad.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var unchanged = await (await client.GetAsync($"/v1/templates/{id}")).ReadJsonAsync(200);
        Assert.Equal(("Renamed", "720x1280"), (unchanged.GetProperty("name").GetString(), unchanged.GetProperty("resolution").GetString()));

        await (await client.DeleteAsync($"/v1/templates/{id}")).ReadJsonAsync(204);
        await (await client.GetAsync($"/v1/templates/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM templates WHERE id = $1 AND deleted_at IS NOT NULL", id));
        Assert.Equal(["create", "delete", "update"], await AuditActions(id));
    }

    [Fact]
    public async Task InvalidSpecIsRejectedWithEveryField()
    {
        var session = await host.RegisterAsync();
        var response = await session.Client().PostAsJsonAsync("/v1/templates", new
        {
            name = "Bad",
            aspect = "9:16",
            resolution = "1080x1920",
            spec = new
            {
                tracks = new object[] { new { type = "overlay", id = "ov" } },
                overlays = new object[] { new { track = "ov", from = 2, to = 1, content = new { type = "text", text = "hi", anim = "wobble" } } },
                subtitle_style_presets = new[] { "comic_sans" },
            },
        });
        var problem = await response.ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["spec.overlays[0].content.anim", "spec.overlays[0].to", "spec.subtitle_style_presets[0]", "spec.tracks"], problem.Fields().Order());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM templates WHERE org_id = $1", session.OrgId));

        var unknownField = await session.Client().PostAsJsonAsync("/v1/templates", new
        {
            name = "Bad", aspect = "9:16", resolution = "1080x1920",
            spec = new { tracks = new object[] { new { type = "video", id = "main", glitter = true } } },
        });
        Assert.Equal(["spec.tracks[0].glitter"], (await unknownField.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task BuiltInsAreReadOnlyButCanBeCopied()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        await (await client.PatchAsJsonAsync("/v1/templates/tmpl_shorts_v1", new { name = "Mine now" })).ReadProblemAsync(403, "FORBIDDEN");
        await (await client.DeleteAsync("/v1/templates/tmpl_shorts_v1")).ReadProblemAsync(403, "FORBIDDEN");

        var copy = await (await client.PostAsync("/v1/templates/tmpl_shorts_v1/copy", null)).ReadJsonAsync(201);
        var id = copy.GetProperty("id").GetString();
        Assert.Equal("Shorts Clean Bold (copy)", copy.GetProperty("name").GetString());
        await (await client.PatchAsJsonAsync($"/v1/templates/{id}", new { name = "My Shorts" })).ReadJsonAsync(200);
        var original = await (await client.GetAsync("/v1/templates/tmpl_shorts_v1")).ReadJsonAsync(200);
        Assert.Equal("Shorts Clean Bold", original.GetProperty("name").GetString());
    }

    private Task<List<string>> AuditActions(string resourceId) =>
        host.StringsAsync("SELECT action FROM audit_logs WHERE resource_id = $1 ORDER BY action", resourceId);
}
