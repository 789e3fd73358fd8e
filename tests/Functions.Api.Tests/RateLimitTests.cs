using System.Net.Http.Json;

namespace FentaWeb.Api.Tests;

public class RateLimitTests(RateLimitTests.Host host) : IClassFixture<RateLimitTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override int RateLimitPerMinute => 5;
        protected override int OrgRateLimitPerMinute => 8;
        // As behind App Service's front end, which sets X-Client-IP.
        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?> { ["FENTA_CLIENT_ADDRESS_FROM_FRONT_END"] = "true" };
    }

    [Fact]
    public async Task AUserHasOneBudgetWhateverKeyTheyUseAndExcessIs429WithTheTimeLeftInTheWindow()
    {
        await StartOfAWindowAsync();
        var session = await host.RegisterAsync(); // counted against the client address, before there is a user
        await VerifiedInTheDatabaseAsync(session);
        var (first, _) = await session.CreateKeyAsync("workflows:read");
        var (second, _) = await session.CreateKeyAsync("workflows:read");

        // Two requests minting keys, three reading: the user's five.
        for (var i = 0; i < 3; i++) await (await host.Client(i % 2 == 0 ? first : second).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        var before = DateTimeOffset.UtcNow;
        var limited = await host.Client(second).GetAsync("/v1/workflows");
        var problem = await limited.ReadProblemAsync(429, "RATE_LIMITED");
        Assert.Contains("5 requests in a minute for this user", problem.GetProperty("detail").GetString());
        // The counters are in PostgreSQL, so the time left is the window's real end, not a fixed minute.
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        var windowEnd = new DateTimeOffset(before.UtcTicks - before.UtcTicks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);
        Assert.InRange(retryAfter, Math.Max(1, (int)(windowEnd - before).TotalSeconds - 2), (int)Math.Ceiling((windowEnd - before).TotalSeconds) + 1);
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM rate_limit_windows WHERE bucket IN ($1, $2) AND hits = 6",
            $"user:{session.UserId}", $"org:{session.OrgId}"));

        // Health checks and the API document are never limited, so probes keep working while a client is throttled.
        for (var i = 0; i < 10; i++) await (await host.Client(first).GetAsync("/healthz")).ReadJsonAsync(200);
        await (await host.Client().GetAsync("/openapi/v1.json")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task AnOrgsMembersShareTheOrgsBudget()
    {
        await StartOfAWindowAsync();
        var owner = await host.RegisterAsync();
        var member = await host.RegisterAsync();
        await VerifiedInTheDatabaseAsync(owner);
        await host.AddMemberAsync(owner, member, "viewer");

        // The owner's invite was the org's first; three more from the owner and four from the member reach its eight.
        for (var i = 0; i < 3; i++) await (await owner.Client().GetAsync("/v1/workflows")).ReadJsonAsync(200);
        for (var i = 0; i < 4; i++) await (await member.Client(owner.OrgId).GetAsync("/v1/workflows")).ReadJsonAsync(200);
        var problem = await (await member.Client(owner.OrgId).GetAsync("/v1/workflows")).ReadProblemAsync(429, "RATE_LIMITED");
        Assert.Contains("8 requests in a minute for this organization", problem.GetProperty("detail").GetString());
        // Another org is a budget of its own.
        var other = await host.RegisterAsync();
        await (await other.Client().GetAsync("/v1/workflows")).ReadJsonAsync(200);
    }

    [Fact]
    public async Task BeforeSignInEachClientAddressHasItsOwnBudgetAsTheFrontEndReportedIt()
    {
        await StartOfAWindowAsync();
        async Task<HttpResponseMessage> LoginFrom(string clientAddress)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/login") { Content = JsonContent.Create(new { email = "nobody@example.test", password = "wrong" }) };
            // The front end's X-Client-IP counts; X-Forwarded-For, which proxies rewrite, does not.
            request.Headers.Add("X-Client-IP", clientAddress);
            request.Headers.Add("X-Forwarded-For", "198.51.100.1");
            return await host.Client().SendAsync(request);
        }
        for (var i = 0; i < 5; i++) await (await LoginFrom("203.0.113.7:50123")).ReadProblemAsync(401, "INVALID_CREDENTIALS");
        var limited = await (await LoginFrom("203.0.113.7:50124")).ReadProblemAsync(429, "RATE_LIMITED");
        Assert.Contains("for this client address", limited.GetProperty("detail").GetString());
        await (await LoginFrom("203.0.113.8")).ReadProblemAsync(401, "INVALID_CREDENTIALS");
    }

    /// <summary>
    /// Minting keys and inviting need a verified address. Following the mailed link is an anonymous call, counted against
    /// this class's five per client address a minute that its tests share, so the address is marked verified directly.
    /// </summary>
    private Task VerifiedInTheDatabaseAsync(Session session) =>
        host.ScalarAsync("UPDATE users SET email_verified_at = now() WHERE id = $1", session.UserId);

    /// <summary>Windows are whole minutes: waits out the end of one so a test's requests all fall in the same window.</summary>
    internal static async Task StartOfAWindowAsync()
    {
        var second = DateTimeOffset.UtcNow.Second;
        if (second >= 45) await Task.Delay(TimeSpan.FromSeconds(61 - second));
    }
}

/// <summary>Without a front end before the API (the local default), address headers are the client's own words: they buy no budget.</summary>
public class ClientAddressWithoutFrontEndTests(ClientAddressWithoutFrontEndTests.Host host) : IClassFixture<ClientAddressWithoutFrontEndTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override int RateLimitPerMinute => 5;
    }

    [Fact]
    public async Task HeadersNamingOtherAddressesShareThePeersBudget()
    {
        await RateLimitTests.StartOfAWindowAsync();
        var answers = new List<int>();
        for (var i = 0; i < 6; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/login") { Content = JsonContent.Create(new { email = "nobody@example.test", password = "wrong" }) };
            request.Headers.Add("X-Client-IP", $"203.0.113.{i + 1}");
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            answers.Add((int)(await host.Client().SendAsync(request)).StatusCode);
        }
        Assert.Equal([401, 401, 401, 401, 401, 429], answers);
    }
}
