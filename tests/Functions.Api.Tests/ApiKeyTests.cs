using System.Net.Http.Json;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Tests;

public class ApiKeyTests(ApiKeyTests.Host host) : IClassFixture<ApiKeyTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task KeyIsShownOnceStoredHashedAndAuthenticates()
    {
        var session = await host.RegisterVerifiedAsync();
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

    [Fact]
    public async Task RollingAKeyIssuesASuccessorAndRetiresTheOldKeyAtOnceOrAfterTheGivenOverlap()
    {
        var owner = await host.RegisterVerifiedAsync();
        var client = owner.Client();
        var expires = DateTimeOffset.UtcNow.AddDays(30);
        var created = await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "deploy", scopes = new[] { "workflows:read" }, expires_at = expires })).ReadJsonAsync(201);
        var (old, oldId) = (created.GetProperty("key").GetString()!, created.GetProperty("api_key").GetProperty("id").GetString()!);

        // With an hour's overlap both keys work; the successor keeps the name, scopes and expiry.
        var rolled = await (await client.PostAsJsonAsync($"/v1/api-keys/{oldId}/roll", new { expires_in = 3600 })).ReadJsonAsync(201);
        var next = rolled.GetProperty("key").GetString()!;
        var successor = rolled.GetProperty("api_key");
        Assert.NotEqual(old, next);
        Assert.Equal(("deploy", "[\"workflows:read\"]"), (successor.GetProperty("name").GetString(), successor.GetProperty("scopes").ToString()));
        Assert.Equal(expires.ToUnixTimeSeconds(), successor.GetProperty("expires_at").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.InRange(rolled.GetProperty("rolled").GetProperty("expires_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        await (await host.Client(old).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        await (await host.Client(next).GetAsync("/v1/workflows")).ReadJsonAsync(200);

        // Without one (the default), the rolled key stops at once, and cannot be rolled again.
        var again = await (await client.PostAsync($"/v1/api-keys/{successor.GetProperty("id").GetString()}/roll", null)).ReadJsonAsync(201);
        await (await host.Client(next).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        await (await host.Client(again.GetProperty("key").GetString()).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        await (await client.PostAsync($"/v1/api-keys/{successor.GetProperty("id").GetString()}/roll", null)).ReadProblemAsync(409, "API_KEY_NOT_ACTIVE");

        var tooLong = await (await client.PostAsJsonAsync($"/v1/api-keys/{oldId}/roll", new { expires_in = 8 * 86400 })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["expires_in"], tooLong.Fields());
        // An admin sees a member's key but cannot take a secret acting as them; another org's key does not exist here.
        var member = await host.RegisterAsync();
        await host.AddMemberAsync(owner, member, "editor");
        var memberKey = await (await member.Client(owner.OrgId).PostAsJsonAsync("/v1/api-keys", new { name = "mine", scopes = new[] { "workflows:read" } })).ReadJsonAsync(201);
        var memberKeyId = memberKey.GetProperty("api_key").GetProperty("id").GetString();
        await (await client.PostAsync($"/v1/api-keys/{memberKeyId}/roll", null)).ReadProblemAsync(403, "FORBIDDEN");
        await (await (await host.RegisterVerifiedAsync()).Client().PostAsync($"/v1/api-keys/{oldId}/roll", null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await host.Client(memberKey.GetProperty("key").GetString()).GetAsync("/v1/workflows")).ReadJsonAsync(200); // untouched
    }

    [Fact]
    public async Task ConcurrentRollsMakeOneSuccessorAndTheRolledKeyCannotBeRolledAgain()
    {
        var owner = await host.RegisterVerifiedAsync();
        var (secret, id) = await owner.CreateKeyAsync("workflows:read");
        // Twelve clients, each with its own connection, roll the same key at once with an overlap.
        var rolls = await Task.WhenAll(Enumerable.Range(0, 12).Select(async _ =>
        {
            using var client = owner.Client();
            var response = await client.PostAsJsonAsync($"/v1/api-keys/{id}/roll", new { expires_in = 3600 });
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }));
        Assert.True(rolls.Count(r => r.Item1 == 201) == 1, string.Join("\n", rolls));
        Assert.True(rolls.Count(r => r.Item1 == 409) == 11, string.Join("\n", rolls));
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM api_keys WHERE user_id = $1", owner.UserId));

        // The old key works on through its overlap, but has its successor: rolling it again is a conflict.
        await (await host.Client(secret).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        await (await owner.Client().PostAsync($"/v1/api-keys/{id}/roll", null)).ReadProblemAsync(409, "API_KEY_ALREADY_ROLLED");
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM api_keys WHERE user_id = $1", owner.UserId));
    }

    [Fact]
    public async Task PendingInvitationsAreReadOnlyWithAScope()
    {
        var owner = await host.RegisterVerifiedAsync();
        await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = $"{Guid.NewGuid():N}@example.test", role = "editor" })).ReadJsonAsync(202);
        var (billingOnly, _) = await owner.CreateKeyAsync("billing:view");
        var refused = await (await host.Client(billingOnly).GetAsync("/v1/org/invitations")).ReadProblemAsync(403, "FORBIDDEN");
        Assert.Equal("workflows:read", refused.GetProperty("required_scope").GetString());
        Assert.DoesNotContain("@example.test", refused.GetRawText());
        var (reader, _) = await owner.CreateKeyAsync("workflows:read");
        Assert.Equal(1, (await (await host.Client(reader).GetAsync("/v1/org/invitations")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
    }
}
