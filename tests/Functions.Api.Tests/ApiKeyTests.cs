using System.Net.Http.Json;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Tests;

public class ApiKeyTests(ApiKeyTests.Host host) : IClassFixture<ApiKeyTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task KeyIsShownOnceStoredHashedAndAuthenticates()
    {
        var session = await host.RegisterAsync();
        var created = await (await session.Client().PostAsJsonAsync("/v1/api-keys",
            new { name = "CI", scopes = new[] { "workflows:read" }, expires_at = DateTimeOffset.UtcNow.AddDays(7) })).ReadJsonAsync(201);
        var secret = created.GetProperty("key").GetString()!;
        var id = created.GetProperty("api_key").GetProperty("id").GetString()!;
        Assert.StartsWith("fw_", secret);
        Assert.Equal(secret[..11], created.GetProperty("api_key").GetProperty("prefix").GetString());

        var listed = await (await session.Client().GetAsync("/v1/api-keys")).ReadJsonAsync(200);
        var text = listed.ToString();
        Assert.Contains(id, text);
        Assert.DoesNotContain(secret, text);
        Assert.Equal(ApiKey.Hash(secret), await host.ScalarAsync("SELECT key_hash FROM api_keys WHERE id = $1", id));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM api_keys WHERE key_hash = $1", secret));

        Assert.Null(await host.ScalarAsync("SELECT last_used_at FROM api_keys WHERE id = $1 AND last_used_at IS NOT NULL", id));
        var me = await (await host.Client(secret).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.Equal(id, me.GetProperty("api_key_id").GetString());
        Assert.Equal(["workflows:read"], me.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        Assert.NotNull(await host.ScalarAsync("SELECT last_used_at FROM api_keys WHERE id = $1 AND last_used_at IS NOT NULL", id));
    }

    [Fact]
    public async Task ScopeThatIsNotEnoughIsA403NamingIt()
    {
        var session = await host.RegisterAsync();
        var (readOnly, _) = await session.CreateKeyAsync("workflows:read");
        await (await host.Client(readOnly).GetAsync("/v1/workflows")).ReadJsonAsync(200);

        var write = await host.Client(readOnly).PostAsJsonAsync("/v1/templates", new { name = "x" });
        var problem = await write.ReadProblemAsync(403, "FORBIDDEN");
        Assert.Equal("workflows:write", problem.GetProperty("required_scope").GetString());

        var (billingOnly, _) = await session.CreateKeyAsync("billing:view");
        var read = await host.Client(billingOnly).GetAsync("/v1/templates");
        Assert.Equal("workflows:read", (await read.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_scope").GetString());
    }

    [Fact]
    public async Task RevokedAndExpiredKeysStopWorking()
    {
        var session = await host.RegisterAsync();
        var (secret, id) = await session.CreateKeyAsync("workflows:read");
        await (await session.Client().DeleteAsync($"/v1/api-keys/{id}")).ReadJsonAsync(204);
        await (await host.Client(secret).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        var shown = await (await session.Client().GetAsync($"/v1/api-keys/{id}")).ReadJsonAsync(200);
        Assert.NotEqual(System.Text.Json.JsonValueKind.Null, shown.GetProperty("revoked_at").ValueKind);

        var (expiring, expiringId) = await session.CreateKeyAsync("workflows:read");
        await host.CountAsync("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING 1", expiringId);
        await (await host.Client(expiring).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
    }

    [Fact]
    public async Task KeysCannotMintKeysAndBadRequestsNameTheField()
    {
        var session = await host.RegisterAsync();
        var (secret, _) = await session.CreateKeyAsync("workflows:read", "workflows:write");
        var minted = await host.Client(secret).PostAsJsonAsync("/v1/api-keys", new { name = "escalate", scopes = new[] { "workflows:read" } });
        await minted.ReadProblemAsync(403, "FORBIDDEN");

        var bad = await session.Client().PostAsJsonAsync("/v1/api-keys",
            new { name = "", scopes = new[] { "workflows:read", "root:all" }, expires_at = DateTimeOffset.UtcNow.AddDays(-1) });
        Assert.Equal(["expires_at", "name", "scopes[1]"], (await bad.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields().Order());
    }

    [Fact]
    public async Task KeyCreationAndRevocationAreAudited()
    {
        var session = await host.RegisterAsync();
        var (_, id) = await session.CreateKeyAsync("jobs:execute");
        await session.Client().DeleteAsync($"/v1/api-keys/{id}");
        Assert.Equal(2, await host.CountAsync(
            "SELECT count(*) FROM audit_logs WHERE resource_type = 'api_key' AND resource_id = $1 AND action IN ('create', 'delete') AND user_id = $2",
            id, session.UserId));
    }
}
