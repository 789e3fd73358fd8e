using System.Net.Http.Json;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The web app's sessions: with <c>X-Fenta-Client: web</c> the refresh token is an HttpOnly, Secure, SameSite=Strict cookie
/// on /v1/auth, never in a body; refresh and logout take it only with that header; an ended session clears it.
/// </summary>
public class BrowserSessionTests(BrowserSessionTests.Host host) : IClassFixture<BrowserSessionTests.Host>
{
    public sealed class Host : ApiHost;

    private const string Password = "a long enough password";
    private const int ThirtyDays = 30 * 24 * 3600;

    /// <summary>A client that keeps no cookies of its own: each test sends and reads them by hand, as the browser would.</summary>
    private HttpClient Client(bool web = true)
    {
        var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = host.BaseAddress };
        if (web) client.DefaultRequestHeaders.Add("X-Fenta-Client", "web");
        return client;
    }

    private static HttpRequestMessage WithCookie(string url, string? cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (cookie is not null) request.Headers.Add("Cookie", $"fenta_refresh={cookie}");
        return request;
    }

    /// <summary>The fenta_refresh cookie an answer sets: its value and its attributes by lower-cased name.</summary>
    private static (string Value, Dictionary<string, string> Attributes) SetCookie(HttpResponseMessage response)
    {
        var header = Assert.Single(response.Headers.TryGetValues("Set-Cookie", out var all) ? all : [], h => h.StartsWith("fenta_refresh=", StringComparison.Ordinal));
        var parts = header.Split(';', StringSplitOptions.TrimEntries);
        return (parts[0]["fenta_refresh=".Length..],
            parts[1..].Select(p => p.Split('=', 2)).ToDictionary(p => p[0].ToLowerInvariant(), p => p.Length > 1 ? p[1].ToLowerInvariant() : ""));
    }

    private static void AssertSessionCookie(Dictionary<string, string> attributes, int maxAge) =>
        Assert.Equal(new Dictionary<string, string> { ["max-age"] = $"{maxAge}", ["path"] = "/v1/auth", ["secure"] = "", ["samesite"] = "strict", ["httponly"] = "" },
            attributes);

    private static void AssertCleared(HttpResponseMessage response)
    {
        var (value, attributes) = SetCookie(response);
        Assert.Equal("", value);
        AssertSessionCookie(attributes, 0);
    }

    /// <summary>Signs in as the web app does and returns the cookie's token.</summary>
    private async Task<string> WebLoginAsync(Session session)
    {
        var response = await Client().PostAsJsonAsync("/v1/auth/login", new { email = session.Email, password = Password });
        var body = await response.ReadJsonAsync(200);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("refresh_token").ValueKind);
        return SetCookie(response).Value;
    }

    private async Task<HttpResponseMessage> RefreshAsync(string? cookie, bool web = true) => await Client(web).SendAsync(WithCookie("/v1/auth/refresh", cookie));

    [Fact]
    public async Task WebSignInSetsTheRefreshTokenAsAStrictHttpOnlyCookieAndLeavesItOutOfTheBody()
    {
        var email = $"{Guid.NewGuid():N}@example.test";
        var registered = await Client().PostAsJsonAsync("/v1/auth/register", new { email, password = Password, name = "Web User" });
        var body = await registered.ReadJsonAsync(201);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("refresh_token").ValueKind);
        await (await host.Client(body.GetProperty("access_token").GetString()).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        var (token, attributes) = SetCookie(registered);
        AssertSessionCookie(attributes, ThirtyDays);
        Assert.StartsWith("rt_", token);

        var login = await Client().PostAsJsonAsync("/v1/auth/login", new { email, password = Password });
        Assert.Equal(JsonValueKind.Null, (await login.ReadJsonAsync(200)).GetProperty("refresh_token").ValueKind);
        AssertSessionCookie(SetCookie(login).Attributes, ThirtyDays);
        Assert.NotEqual(token, SetCookie(login).Value);

        // API clients are unchanged: the token in the body, no cookie.
        var api = await Client(web: false).PostAsJsonAsync("/v1/auth/login", new { email, password = Password });
        Assert.StartsWith("rt_", (await api.ReadJsonAsync(200)).GetProperty("refresh_token").GetString());
        Assert.False(api.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task WebRefreshTakesTheCookieAndReplacesItAndAnEndedSessionClearsIt()
    {
        var session = await host.RegisterAsync();
        var first = await WebLoginAsync(session);

        var refreshed = await RefreshAsync(first);
        var body = await refreshed.ReadJsonAsync(200);
        Assert.Equal(JsonValueKind.Null, body.GetProperty("refresh_token").ValueKind);
        await (await host.Client(body.GetProperty("access_token").GetString()).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        var (second, attributes) = SetCookie(refreshed);
        AssertSessionCookie(attributes, ThirtyDays);
        Assert.NotEqual(first, second);

        // The browser goes on with the new cookie; then the replaced one again: it leaked, so the login ends, with the cookies
        // that replaced it.
        var (third, _) = SetCookie(await RefreshAsync(second));
        var replay = await RefreshAsync(first);
        await replay.ReadProblemAsync(401, "REFRESH_TOKEN_REUSED");
        AssertCleared(replay);
        var afterReplay = await RefreshAsync(third);
        await afterReplay.ReadProblemAsync(401, "SESSION_REVOKED");
        AssertCleared(afterReplay);

        var none = await RefreshAsync(null);
        await none.ReadProblemAsync(401, "SESSION_COOKIE_MISSING");
        AssertCleared(none);

        var expiring = await WebLoginAsync(session);
        await host.ScalarAsync("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1", session.UserId);
        var expired = await RefreshAsync(expiring);
        await expired.ReadProblemAsync(401, "INVALID_REFRESH_TOKEN");
        AssertCleared(expired);
    }

    [Fact]
    public async Task TheCookieCountsOnlyWithTheWebHeader()
    {
        var session = await host.RegisterAsync();
        var cookie = await WebLoginAsync(session);

        foreach (var url in new[] { "/v1/auth/refresh", "/v1/auth/logout" })
        {
            var refused = await Client(web: false).SendAsync(WithCookie(url, cookie));
            var problem = await refused.ReadProblemAsync(403, "CLIENT_HEADER_MISSING");
            Assert.Contains("X-Fenta-Client: web", problem.GetProperty("detail").GetString());
            Assert.False(refused.Headers.Contains("Set-Cookie"));
        }
        // Refused before it was read: the session goes on.
        await (await RefreshAsync(cookie)).ReadJsonAsync(200);

        // Without the header and without a cookie, the body's token is required as before.
        var missing = await Client(web: false).PostAsync("/v1/auth/refresh", null);
        Assert.Equal(["refresh_token"], (await missing.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task WebLogoutRevokesTheCookiesLoginAndClearsIt()
    {
        var session = await host.RegisterAsync();
        var cookie = await WebLoginAsync(session);

        var logout = await Client().SendAsync(WithCookie("/v1/auth/logout", cookie));
        await logout.ReadJsonAsync(204);
        AssertCleared(logout);
        await (await RefreshAsync(cookie)).ReadProblemAsync(401, "SESSION_REVOKED");
        // Only that login: the session registering opened goes on.
        await (await Client(web: false).PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = session.RefreshToken })).ReadJsonAsync(200);

        var again = await Client().SendAsync(WithCookie("/v1/auth/logout", null));
        await again.ReadJsonAsync(204);
        AssertCleared(again);
    }
}
