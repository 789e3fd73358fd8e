using System.Net.Http.Json;

namespace FentaWeb.Api.Tests;

public class AuthTests(AuthTests.Host host) : IClassFixture<AuthTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task RegisterCreatesUserWithPersonalOrgAsOwner()
    {
        var session = await host.RegisterAsync("Ada Lovelace");
        var me = await (await session.Client().GetAsync("/v1/auth/me")).ReadJsonAsync(200);

        Assert.Equal(session.UserId, me.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal(session.OrgId, me.GetProperty("org").GetProperty("id").GetString());
        Assert.Equal("Ada Lovelace's workspace", me.GetProperty("org").GetProperty("name").GetString());
        Assert.Equal("owner", me.GetProperty("role").GetString());
        Assert.StartsWith("user_", session.UserId);
        Assert.StartsWith("org_", session.OrgId);
        var stored = (string)(await host.ScalarAsync("SELECT password_hash FROM users WHERE id = $1", session.UserId))!;
        Assert.StartsWith("pbkdf2-sha256$600000$", stored);
    }

    [Fact]
    public async Task RegisterRejectsBadFieldsAndDuplicateEmail()
    {
        var bad = await host.Client().PostAsJsonAsync("/v1/auth/register", new { email = "not-an-email", password = "short", name = "" });
        var problem = await bad.ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["email", "name", "password"], problem.Fields().Order());

        var session = await host.RegisterAsync();
        var again = await host.Client().PostAsJsonAsync("/v1/auth/register",
            new { email = session.Email.ToUpperInvariant(), password = "another long password", name = "Twin" });
        await again.ReadProblemAsync(409, "EMAIL_TAKEN");
    }

    [Fact]
    public async Task LoginChecksThePassword()
    {
        var session = await host.RegisterAsync();
        var wrong = await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = session.Email, password = "wrong password!!" });
        await wrong.ReadProblemAsync(401, "INVALID_CREDENTIALS");
        var unknown = await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = "nobody@example.test", password = "whatever at all" });
        await unknown.ReadProblemAsync(401, "INVALID_CREDENTIALS");

        var ok = await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = session.Email, password = "a long enough password" })).ReadJsonAsync(200);
        Assert.Equal(900, ok.GetProperty("expires_in").GetInt32());
        var me = await host.Client(ok.GetProperty("access_token").GetString()).GetAsync("/v1/auth/me");
        await me.ReadJsonAsync(200);
    }

    [Fact]
    public async Task RefreshRotatesAndReuseRevokesTheWholeFamily()
    {
        var session = await host.RegisterAsync();
        var first = await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken })).ReadJsonAsync(200);
        var rotated = first.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(session.RefreshToken, rotated);
        await (await host.Client(first.GetProperty("access_token").GetString()).GetAsync("/v1/auth/me")).ReadJsonAsync(200);

        // The client goes on with the new token; then the old one again: someone replayed it, so the login ends, including
        // the tokens issued after it.
        var second = await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = rotated })).ReadJsonAsync(200);
        var replay = await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken });
        await replay.ReadProblemAsync(401, "REFRESH_TOKEN_REUSED");
        var afterReplay = await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = second.GetProperty("refresh_token").GetString() });
        await afterReplay.ReadProblemAsync(401, "SESSION_REVOKED");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL", session.UserId));
    }

    [Fact]
    public async Task ARefreshWhoseAnswerWasLostMayBeRepeatedWhileItsSuccessorIsUnused()
    {
        var session = await host.RegisterAsync();
        // The answer of this refresh never reaches the client (its page reloaded mid-request): it still holds the old token.
        var lost = (await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken })).ReadJsonAsync(200))
            .GetProperty("refresh_token").GetString()!;
        var retried = await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken })).ReadJsonAsync(200);
        var current = retried.GetProperty("refresh_token").GetString()!;
        Assert.NotEqual(lost, current);
        await (await host.Client(retried.GetProperty("access_token").GetString()).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        // The unsent successor was retired; the login goes on with the new one.
        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = lost })).ReadProblemAsync(401, "SESSION_REVOKED");
        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = current })).ReadJsonAsync(200);
        // Now that a successor has been used, the first token again is a reuse and ends the login.
        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken })).ReadProblemAsync(401, "REFRESH_TOKEN_REUSED");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM refresh_tokens WHERE user_id = $1 AND revoked_at IS NULL", session.UserId));
    }

    [Fact]
    public async Task LogoutRevokesTheRefreshToken()
    {
        var session = await host.RegisterAsync();
        var logout = await host.Client().PostAsJsonAsync("/v1/auth/logout", new { refresh_token = session.RefreshToken });
        await logout.ReadJsonAsync(204);
        var refresh = await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken });
        await refresh.ReadProblemAsync(401, "SESSION_REVOKED");
        var missing = await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { });
        Assert.Equal(["refresh_token"], (await missing.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task BadOrMissingCredentialsAre401Problems()
    {
        var none = await host.Client().GetAsync("/v1/auth/me");
        var problem = await none.ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Contains("Bearer", problem.GetProperty("detail").GetString());
        Assert.Equal("Bearer", none.Headers.WwwAuthenticate.Single().Scheme);

        var session = await host.RegisterAsync();
        var tampered = session.AccessToken[..^4] + (session.AccessToken.EndsWith("AAAA") ? "BBBB" : "AAAA");
        await (await host.Client(tampered).GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
        await (await host.Client("fw_not-a-real-key").GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
    }
}
