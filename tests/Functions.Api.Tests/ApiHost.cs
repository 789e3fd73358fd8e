using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Api;
using FentaWeb.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using FentaWeb.Orchestrations;
using FentaWeb.TestWorker;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.DurableTask.Client;
using Npgsql;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The real API on Kestrel at a loopback port, over its own fresh PostgreSQL database: tests talk HTTP to it
/// and may read the database directly to check what was stored.
/// </summary>
public class ApiHost : IAsyncLifetime
{
    private WebApplication? _app;
    private readonly List<IHost> _workers = [];

    public Uri BaseAddress { get; private set; } = null!;
    /// <summary>The local host's routes: one per HTTP function.</summary>
    public IEnumerable<RouteEndpoint> Endpoints => _app!.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
    /// <summary>The API's durable client of the task hub, to look at orchestration instances.</summary>
    public DurableTaskClient Runs => _app!.Services.GetRequiredService<DurableTaskClient>();
    /// <summary>The running API's live configuration (a test may change a setting after start, as /readyz reads it).</summary>
    public Microsoft.Extensions.Configuration.IConfiguration Configuration => _app!.Configuration;
    public NpgsqlDataSource Db { get; private set; } = null!;
    /// <summary>The run's SMTP catcher, where this API sends its mails.</summary>
    public MailDev Mail { get; private set; } = null!;
    /// <summary>The API's FENTA_PUBLIC_URL: every link in its mails starts with it, whatever Host a request names.</summary>
    public const string PublicUrl = "https://app.fentaweb.test/";
    /// <summary>This host's local files (the offline stock library, drawn only if a test searches it); removed with the host.</summary>
    public string LocalFolder { get; } = Path.Combine(Path.GetTempPath(), $"fenta-test-local-{Guid.NewGuid():N}");
    /// <summary>This host's task hub and asset container on the shared Azurite (read stored assets with <see cref="StoredAssets"/>).</summary>
    public IReadOnlyDictionary<string, string?> Storage { get; private set; } = null!;
    public const string SigningKey = "test-signing-key-test-signing-key-0123456789";

    protected virtual int RateLimitPerMinute => 100_000;
    protected virtual int OrgRateLimitPerMinute => 100_000;

    /// <summary>Whether an orchestration worker with the test activities runs beside the API, for tests of running jobs.</summary>
    protected virtual bool RunsWorker => false;

    /// <summary>Extra settings for that worker (provider keys and URLs of simulators).</summary>
    protected virtual IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>();

    /// <summary>Whether a render container (the real renderer, in process) takes the render queue, for tests that render MP4s.</summary>
    protected virtual bool RunsRenderer => false;

    /// <summary>How many orchestration hosts run beside the API (all on the same task hub and database).</summary>
    protected virtual int Workers => 1;

    /// <summary>The workers' clock: the real one, or a fake the test moves forward (their timer functions fire by it).</summary>
    protected virtual TimeProvider? WorkerClock => null;

    /// <summary>The worker's activities: by default the test doubles replace the generation and script nodes.</summary>
    protected virtual void ConfigureWorker(IServiceCollection services) => services.AddTestActivities();

    /// <summary>Extra registrations in the API (e.g. a logger provider that keeps what the API logs).</summary>
    protected virtual void ConfigureApi(IServiceCollection services) { }

    /// <summary>Extra settings for the API (provider keys and URLs of simulators).</summary>
    protected virtual IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>();

    /// <summary>Runs first, before the API and worker start (simulators the worker settings point at start here).</summary>
    protected virtual Task BeforeStartAsync() => Task.CompletedTask;

    public virtual async Task InitializeAsync()
    {
        await BeforeStartAsync();
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateDatabaseAsync(GetType().Name);
        Db = NpgsqlDataSource.Create(connectionString);
        var taskHub = await TaskHubs.SettingsAsync(GetType().Name);
        Mail = await MailDev.SharedAsync();
        Storage = taskHub;
        var api = new Dictionary<string, string?>(taskHub)
        {
            ["FENTA_DB"] = connectionString,
            ["FENTA_JWT_SIGNING_KEY"] = SigningKey,
            ["FENTA_RATE_LIMIT_PER_MINUTE"] = RateLimitPerMinute.ToString(),
            ["FENTA_ORG_RATE_LIMIT_PER_MINUTE"] = OrgRateLimitPerMinute.ToString(),
            ["FENTA_MAX_BODY_BYTES"] = (256 * 1024).ToString(),
            // A small library, drawn only if a test searches it.
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.EntityFrameworkCore"] = "Error",
            ["FENTA_PUBLIC_URL"] = PublicUrl,
        };
        foreach (var (key, value) in Mail.ApiSettings) api[key] = value;
        foreach (var (key, value) in ApiSettings) api[key] = value;
        BaseAddress = await StartApiAsync(api);
        if (RunsWorker)
        {
            await using (var schema = Db.CreateCommand(TestActivities.Schema)) await schema.ExecuteNonQueryAsync();
            var settings = new Dictionary<string, string?>(taskHub)
            {
                ["FENTA_DB"] = connectionString,
                ["FENTA_PUBLIC_URL"] = BaseAddress.ToString(),
                ["Logging:LogLevel:Default"] = "Warning",
            };
            foreach (var (key, value) in WorkerSettings) settings[key] = value;
            await StartWorkersAsync(settings);
            if (RunsRenderer)
            {
                var renderer = FentaWeb.Render.RenderHost.Build([], once: false, settings);
                await renderer.StartAsync();
                _workers.Add(renderer);
            }
        }
    }

    /// <summary>Serves the API with these settings and returns its address: on Kestrel in this process, unless overridden.</summary>
    protected virtual async Task<Uri> StartApiAsync(IReadOnlyDictionary<string, string?> settings)
    {
        _app = FentaApi.BuildLocal(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>(settings), services =>
        {
            services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(ServerErrors.Instance);
            ConfigureApi(services);
        });
        await _app.StartAsync();
        return new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>Starts the orchestration workers (<see cref="Workers"/> plain hosts in this process, unless overridden).</summary>
    protected virtual async Task StartWorkersAsync(IReadOnlyDictionary<string, string?> settings)
    {
        for (var i = 0; i < Workers; i++)
        {
            var worker = WorkerHost.Build([], new Dictionary<string, string?>(settings), services =>
            {
                ConfigureWorker(services);
                if (WorkerClock is { } clock) services.AddSingleton(clock);
            });
            await worker.StartAsync();
            _workers.Add(worker);
        }
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var worker in _workers)
        {
            await worker.StopAsync();
            worker.Dispose();
        }
        if (_app is not null) await _app.DisposeAsync();
        await Db.DisposeAsync();
        if (Directory.Exists(LocalFolder)) Directory.Delete(LocalFolder, recursive: true);
    }

    public HttpClient Client(string? bearer = null, string? orgId = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        if (bearer is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (orgId is not null) client.DefaultRequestHeaders.Add("X-Org-Id", orgId);
        return client;
    }

    /// <summary>Registers a new user (with their personal org) and returns their signed-in session.</summary>
    public async Task<Session> RegisterAsync(string? name = null)
    {
        name ??= "User " + Guid.NewGuid().ToString("N")[..6];
        var email = $"{Guid.NewGuid():N}@example.test";
        var response = await Client().PostAsJsonAsync("/v1/auth/register", new { email, password = "a long enough password", name });
        var body = await response.ReadJsonAsync(201);
        return new Session(this, body.GetProperty("user").GetProperty("id").GetString()!, email,
            body.GetProperty("org").GetProperty("id").GetString()!,
            body.GetProperty("access_token").GetString()!, body.GetProperty("refresh_token").GetString()!);
    }

    /// <summary>Registers a new user and verifies their address, as an owner who read the mail would (needed to mint keys, invite or pay).</summary>
    public async Task<Session> RegisterVerifiedAsync(string? name = null)
    {
        var session = await RegisterAsync(name);
        await VerifyEmailAsync(session);
        return session;
    }

    /// <summary>Verifies the session's address with the link mailed at registration, as its owner would; nothing when it is verified already.</summary>
    public async Task VerifyEmailAsync(Session session)
    {
        if (await CountAsync("SELECT count(*) FROM users WHERE id = $1 AND email_verified_at IS NULL", session.UserId) == 0) return;
        var mail = await Mail.WaitForAsync(session.Email, "Confirm your email");
        await (await Client().PostAsJsonAsync("/v1/auth/verify-email", new { token = mail.Token })).ReadJsonAsync(200);
    }

    /// <summary>
    /// Makes <paramref name="member"/> a member of <paramref name="admin"/>'s current org the only way there is: the admin
    /// invites the address, its owner verifies it and accepts the mailed invitation. Returns the membership's id.
    /// </summary>
    public async Task<string> AddMemberAsync(Session admin, Session member, string role, string? orgId = null)
    {
        // Only a verified address may invite.
        await VerifyEmailAsync(admin);
        await (await admin.Client(orgId).PostAsJsonAsync("/v1/org/members", new { email = member.Email, role })).ReadJsonAsync(202);
        await VerifyEmailAsync(member);
        var invitation = await Mail.WaitForAsync(member.Email, "invited you", count: await InvitationsTo(member.Email));
        var joined = await (await member.Client().PostAsync($"/v1/invitations/{invitation.Token}/accept", null)).ReadJsonAsync(200);
        var org = joined.GetProperty("org_id").GetString()!;
        return (await StringsAsync("SELECT id FROM org_members WHERE org_id = $1 AND user_id = $2", org, member.UserId)).Single();
    }

    private async Task<int> InvitationsTo(string email) => (int)await CountAsync("SELECT count(*) FROM org_invitations WHERE email = $1", email);

    public async Task<long> CountAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync());
    }

    public async Task<List<string>> StringsAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        await using var reader = await cmd.ExecuteReaderAsync();
        var values = new List<string>();
        while (await reader.ReadAsync()) values.Add(reader.GetString(0));
        return values;
    }

    public async Task<object?> ScalarAsync(string sql, params object[] args)
    {
        await using var cmd = Db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return await cmd.ExecuteScalarAsync();
    }
}

/// <summary>The API with an orchestration worker whose clock is a fake the test moves, so its timer functions fire by it.</summary>
public class FakeClockHost : ApiHost
{
    public Microsoft.Extensions.Time.Testing.FakeTimeProvider Clock { get; } = new(DateTimeOffset.UtcNow);
    protected override bool RunsWorker => true;
    protected override TimeProvider WorkerClock => Clock;
}

public sealed record Session(ApiHost Host, string UserId, string Email, string OrgId, string AccessToken, string RefreshToken)
{
    public HttpClient Client(string? orgId = null) => Host.Client(AccessToken, orgId);

    /// <summary>
    /// Creates an API key for this user in their current org (verifying their address first, as only a verified address
    /// may mint keys); returns the secret and the key's id.
    /// </summary>
    public async Task<(string Secret, string Id)> CreateKeyAsync(params string[] scopes)
    {
        await Host.VerifyEmailAsync(this);
        var response = await Client().PostAsJsonAsync("/v1/api-keys", new { name = "test key", scopes });
        var body = await response.ReadJsonAsync(201);
        return (body.GetProperty("key").GetString()!, body.GetProperty("api_key").GetProperty("id").GetString()!);
    }
}

public static class HttpAssertions
{
    /// <summary>Polls <c>GET /v1/jobs/{id}</c> until the job has ended (completed, failed or cancelled) and returns it.</summary>
    public static async Task<JsonElement> JobEndedAsync(this HttpClient client, string jobId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromMinutes(2));
        while (true)
        {
            var job = await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200);
            if (job.GetProperty("status").GetString() is "completed" or "failed" or "cancelled") return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"job {jobId} has not ended after {timeout ?? TimeSpan.FromMinutes(2)}: {job}");
            await Task.Delay(100);
        }
    }

    /// <summary>Asserts the status and returns the JSON body; on a mismatch the message shows the body.</summary>
    public static async Task<JsonElement> ReadJsonAsync(this HttpResponseMessage response, int expectedStatus)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus,
            $"expected {expectedStatus}, got {(int)response.StatusCode} {response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: {text}" +
            ((int)response.StatusCode >= 500 ? $"\nerrors the API logged last:\n{ServerErrors.Recent()}" : ""));
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Asserts an RFC 9457 problem with this status and code; returns it.</summary>
    public static async Task<JsonElement> ReadProblemAsync(this HttpResponseMessage response, int expectedStatus, string expectedCode)
    {
        var problem = await response.ReadJsonAsync(expectedStatus);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expectedStatus, problem.GetProperty("status").GetInt32());
        Assert.Equal(expectedCode, problem.GetProperty("code").GetString());
        return problem;
    }

    public static IEnumerable<string> Fields(this JsonElement problem) =>
        problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("field").GetString()!);

    public static Task<HttpResponseMessage> PatchAsJsonAsync<T>(this HttpClient client, string url, T body) =>
        client.SendAsync(new HttpRequestMessage(HttpMethod.Patch, url) { Content = JsonContent.Create(body) });
}
