using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using FentaWeb.Api.Tests;
using FentaWeb.Domain.Media;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Xunit.Abstractions;

namespace FentaWeb.EndToEnd.Tests;

/// <summary>
/// Both Function apps as Azure runs them: published, each under an Azure Functions host of its own (the API's HTTP
/// functions through <c>GateMiddleware</c>; the orchestrator, activities and the <c>RenderResults</c> queue trigger on the
/// Durable extension), with the render worker, a KIE.ai simulator, PostgreSQL and Azurite. Timer triggers are not run
/// here: the host built for these machines leaves them out (its README), so <c>LocalTriggers</c>' tests cover them.
/// Without a host (see <see cref="FunctionsHost.Find"/>) each test says so in its output and checks nothing else.
/// </summary>
public sealed class FunctionsHostTests(FunctionsHostTests.Host host, ITestOutputHelper output) : IClassFixture<FunctionsHostTests.Host>
{
    public sealed class Host : ApiHost
    {
        private readonly string _published = Directory.CreateTempSubdirectory("fenta-functions-").FullName;
        private FunctionsHost? _api, _orchestrations;

        public string? Missing { get; } = FunctionsHost.Find().Missing;
        public KieSimulator Kie { get; } = new();
        public FunctionsHost Api => _api!;
        public FunctionsHost Orchestrations => _orchestrations!;
        /// <summary>Host process start to the first answered request, per app.</summary>
        public TimeSpan ApiStartup { get; private set; }
        public TimeSpan OrchestrationsStartup { get; private set; }

        protected override bool RunsWorker => true;
        protected override bool RunsRenderer => true;

        /// <summary>A web app's build as Vite writes it, served by the API under the host as on Kestrel.</summary>
        public const string WebIndex = "<!doctype html><title>FentaWeb</title>";
        private string WebDirectory => Path.Combine(LocalFolder, "web");

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>(Common) { ["FENTA_WEB_DIR"] = WebDirectory };

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>(Common)
        {
            ["FENTA_KIE_API_KEY"] = KieSimulator.ValidKey,
            ["FENTA_KIE_BASE_URL"] = Kie.BaseAddress.ToString(),
            ["FENTA_KIE_POLL_SECONDS"] = "8",
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
        };

        /// <summary>The queue trigger's queue name is fixed, so this stack's render queues have no per-test prefix.</summary>
        private static Dictionary<string, string?> Common => new() { ["FENTA_RENDER_QUEUE_PREFIX"] = "" };

        public override async Task InitializeAsync()
        {
            if (Missing is not null) return;
            var root = typeof(Host).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Root").Value!;
            var configuration = typeof(Host).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
            await Task.WhenAll(
                FunctionsHost.PublishAsync(Path.Combine(root, "src", "Functions.Api"), configuration, Path.Combine(_published, "api")),
                FunctionsHost.PublishAsync(Path.Combine(root, "src", "Functions.Orchestrations"), configuration, Path.Combine(_published, "orchestrations")));
            await base.InitializeAsync();
        }

        protected override Task BeforeStartAsync()
        {
            Directory.CreateDirectory(Path.Combine(WebDirectory, "assets"));
            File.WriteAllText(Path.Combine(WebDirectory, "index.html"), WebIndex);
            File.WriteAllText(Path.Combine(WebDirectory, "assets", "app-abc123.js"), "console.log('app')");
            return Kie.StartAsync();
        }

        protected override async Task<Uri> StartApiAsync(IReadOnlyDictionary<string, string?> settings)
        {
            // The API logs at Information under the host, so the test sees which lines it writes (and that SQL is not one).
            var api = Settings(settings);
            api.Remove("Logging:LogLevel:Default");
            api.Remove("Logging:LogLevel:Microsoft.EntityFrameworkCore");
            // Telemetry on, as on Azure (to an OTLP collector nobody runs here): the worker's logs still reach the host's.
            api["FENTA_OTLP_ENDPOINT"] = $"http://127.0.0.1:{LocalTools.FreePorts(1)[0]}";
            _api = FunctionsHost.Start("api", Path.Combine(_published, "api"), LocalTools.FreePorts(1)[0], api);
            ApiStartup = await _api.AnsweringAsync("readyz", TimeSpan.FromMinutes(3));
            return _api.BaseAddress;
        }

        protected override async Task StartWorkersAsync(IReadOnlyDictionary<string, string?> settings)
        {
            var orchestrations = Settings(settings);
            // host.json names the production hub; this stack's is the one the API's [DurableClient] names (FENTA_TASK_HUB).
            orchestrations["AzureFunctionsJobHost:extensions:durableTask:hubName"] = settings["FENTA_TASK_HUB"];
            _orchestrations = FunctionsHost.Start("orchestrations", Path.Combine(_published, "orchestrations"), LocalTools.FreePorts(1)[0], orchestrations);
            OrchestrationsStartup = await _orchestrations.AnsweringAsync("admin/host/ping", TimeSpan.FromMinutes(3));
        }

        /// <summary>The app's settings plus the host's storage account (Azurite: the task hub, queues and host locks).</summary>
        private static Dictionary<string, string?> Settings(IReadOnlyDictionary<string, string?> settings) =>
            new(settings) { ["AzureWebJobsStorage"] = settings["FENTA_STORAGE"] };

        public override async Task DisposeAsync()
        {
            if (Missing is not null) return;
            if (_api is not null) await _api.DisposeAsync();
            if (_orchestrations is not null) await _orchestrations.DisposeAsync();
            await base.DisposeAsync();
            await Kie.DisposeAsync();
            Directory.Delete(_published, recursive: true);
        }
    }

    /// <summary>Whether a host runs these tests; if not, says why in the test's output (the one allowed skip).</summary>
    private bool Runs()
    {
        if (host.Missing is null) return true;
        output.WriteLine($"NOT RUN: {host.Missing}. docs/functions-host.md says how to run it with Core Tools.");
        return false;
    }

    private async Task<HttpClient> PaidClientAsync()
    {
        var session = await host.RegisterAsync();
        // Two Veo clips (60 credits each) are more than the free tier allows.
        await host.ScalarAsync("UPDATE orgs SET plan = 'pro' WHERE id = $1", session.OrgId);
        return session.Client();
    }

    [Fact]
    public async Task EveryParameterlessGetAnswersBelow500AndUnknownRoutesAreProblems()
    {
        if (!Runs()) return;
        output.WriteLine($"host start to first answer: API {host.ApiStartup.TotalSeconds:0.0} s, orchestrations {host.OrchestrationsStartup.TotalSeconds:0.0} s");
        var client = (await host.RegisterAsync()).Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync(200);
        var gets = document.GetProperty("paths").EnumerateObject()
            .Where(p => !p.Name.Contains('{') && p.Value.TryGetProperty("get", out _)).Select(p => p.Name).ToList();
        Assert.True(gets.Count > 20, $"only {gets.Count} parameterless GETs");
        var answers = new List<string>();
        foreach (var path in gets)
        {
            using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            // The event stream of a job is the one GET that stays open: its headers are the answer.
            using var response = await client.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, cancel.Token);
            answers.Add($"{(int)response.StatusCode} {path}");
        }
        Assert.All(answers, a => Assert.True(int.Parse(a[..3]) < 500, $"{a}\n{host.Api.Tail()}"));

        await (await client.GetAsync("/v1/no-such-route")).ReadProblemAsync(404, "NOT_FOUND");
        var wrongVerb = await client.DeleteAsync("/v1/templates");
        await wrongVerb.ReadProblemAsync(405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["GET", "POST"], wrongVerb.Content.Headers.Allow.Order());
        // The catch-all leaves the host's own routes alone.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/admin/host/ping")).StatusCode);

        // The worker's logs reach the host at Information (the request lines), but no SQL statement among them.
        Assert.True(host.Api.Log.Any(l => l.Contains("GET /v1/templates answered 200", StringComparison.Ordinal)), string.Join('\n', host.Api.Log.Where(l => l.Contains("templates", StringComparison.Ordinal))));
        Assert.DoesNotContain(host.Api.Log, l => l.Contains("Executed DbCommand", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TheWebAppAndItsSessionCookiePassTheHostAsOnKestrel()
    {
        if (!Runs()) return;
        var client = host.Client();
        foreach (var path in new[] { "/", "/jobs/job_123", "/verify-email?token=ev_x" })
        {
            var page = await client.GetAsync(path);
            Assert.True(page.StatusCode == HttpStatusCode.OK, $"{path}: {(int)page.StatusCode} {await page.Content.ReadAsStringAsync()}");
            Assert.Equal((Host.WebIndex, "text/html", "no-cache"),
                (await page.Content.ReadAsStringAsync(), page.Content.Headers.ContentType?.MediaType, page.Headers.CacheControl?.ToString()));
        }
        var script = await client.GetAsync("/assets/app-abc123.js");
        Assert.Equal((HttpStatusCode.OK, "text/javascript", "public, max-age=31536000, immutable"),
            (script.StatusCode, script.Content.Headers.ContentType?.MediaType, script.Headers.CacheControl?.ToString()));
        await (await client.GetAsync("/v1/no-such-route")).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PostAsync("/jobs/job_123", null)).ReadProblemAsync(404, "NOT_FOUND");

        // The refresh cookie goes through the host's proxy both ways.
        var session = await host.RegisterAsync();
        var web = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = host.BaseAddress };
        web.DefaultRequestHeaders.Add("X-Fenta-Client", "web");
        var login = await web.PostAsJsonAsync("/v1/auth/login", new { email = session.Email, password = "a long enough password" });
        Assert.Equal(JsonValueKind.Null, (await login.ReadJsonAsync(200)).GetProperty("refresh_token").ValueKind);
        var cookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        var refresh = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/refresh") { Headers = { { "Cookie", cookie.Split(';')[0] } } };
        var refreshed = await web.SendAsync(refresh);
        await refreshed.ReadJsonAsync(200);
        Assert.NotEqual(cookie.Split(';')[0], refreshed.Headers.GetValues("Set-Cookie").Single().Split(';')[0]);
    }

    [Fact]
    public async Task ADirectRenderJobCompletesThroughTheQueueTriggerAndItsMp4Downloads()
    {
        if (!Runs()) return;
        var client = (await host.RegisterAsync()).Client();
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new
        {
            template_id = "tmpl_shorts_v1",
            config = new
            {
                sources = new object[] { new { type = "stock", provider = "local", query = "city night", count = 2 } },
                script = new { prompt = "night buses start running in the city", genre = "news", duration_seconds = 5 },
                tts = new { provider = "espeak" },
                output = new { profile = "9x16_720p", quality = "draft" },
            },
        })).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!, TimeSpan.FromMinutes(4));
        Assert.True(job.GetProperty("status").GetString() == "completed", $"{job}\n{host.Orchestrations.Tail()}");

        using var http = new HttpClient();
        var file = Path.Combine(host.LocalFolder, "functions-host.mp4");
        Directory.CreateDirectory(host.LocalFolder);
        await File.WriteAllBytesAsync(file, await http.GetByteArrayAsync(job.GetProperty("result").GetProperty("video_url").GetString()));
        var video = await FfProbe.ProbeAsync(file, CancellationToken.None);
        Assert.Equal((720, 1280, "h264"), (video.Width, video.Height, video.VideoCodec));
        // The render's outcome came back through the queue-triggered function under the host.
        Assert.Contains(host.Orchestrations.Log, l => l.Contains("Executed 'Functions.RenderResults' (Succeeded", StringComparison.Ordinal));

        // Its share link's public page under the host (docs/sharing.md): HTML with its headers, the password form posted,
        // the signed cookie passing the host's proxy both ways, and the video's redirect to a fresh read link.
        var link = await (await client.PostAsJsonAsync("/v1/share-links", new { job_id = job.GetProperty("id").GetString(), password = "open sesame" })).ReadJsonAsync(201);
        var path = new Uri(link.GetProperty("url").GetString()!).AbsolutePath;
        using var visitor = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = host.Api.BaseAddress };
        var form = await visitor.GetAsync(path);
        Assert.Equal(("text/html", "no-referrer"), (form.Content.Headers.ContentType?.MediaType, form.Headers.GetValues("Referrer-Policy").Single()));
        Assert.Contains("<label for=\"password\">Password</label>", await form.Content.ReadAsStringAsync());
        var unlocked = await visitor.PostAsync(path, new FormUrlEncodedContent([new("password", "open sesame")]));
        Assert.Equal(HttpStatusCode.SeeOther, unlocked.StatusCode);
        var cookie = unlocked.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        var page = await visitor.SendAsync(new HttpRequestMessage(HttpMethod.Get, path) { Headers = { { "Cookie", cookie } } });
        Assert.Contains("property=\"og:video\"", await page.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        var redirect = await visitor.SendAsync(new HttpRequestMessage(HttpMethod.Get, $"{path}/video") { Headers = { { "Cookie", cookie } } });
        Assert.Equal(HttpStatusCode.Found, redirect.StatusCode);
        Assert.Contains("sig=", redirect.Headers.Location!.Query);
    }

    [Fact]
    public async Task AKieGenerationCompletesOnTheCallbackFunctionAndACancelledOneEndsCancelled()
    {
        if (!Runs()) return;
        var client = await PaidClientAsync();
        host.Kie.SendCallbacks = true;
        host.Kie.TaskDuration = TimeSpan.FromSeconds(1);
        var generation = await (await client.PostAsJsonAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a red fox in snow" })).ReadJsonAsync(202);
        var generated = await (await client.GetAsync($"/v1/kai/generations/{generation.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        var job = await client.JobEndedAsync(generated.GetProperty("job_id").GetString()!, TimeSpan.FromMinutes(2));
        Assert.True(job.GetProperty("status").GetString() == "completed", $"{job}\n{host.Orchestrations.Tail()}");
        // KIE's callback went through the API's function, which raised the event on the item's sub-orchestration.
        Assert.Contains(host.Api.Log, l => l.Contains("Executed 'Functions.KieCallback' (Succeeded", StringComparison.Ordinal));
        Assert.Contains(host.Orchestrations.Log, l => l.Contains("Executed 'Functions.KieItem' (Succeeded", StringComparison.Ordinal));

        // A generation that never finishes, stopped by the cancel event.
        host.Kie.TaskDuration = TimeSpan.FromMinutes(10);
        var waiting = await (await client.PostAsJsonAsync("/v1/kai/generate-video", new { model = "veo-3.1-fast", prompt = "a slow fox" })).ReadJsonAsync(202);
        var jobId = (await (await client.GetAsync($"/v1/kai/generations/{waiting.GetProperty("id").GetString()}")).ReadJsonAsync(200)).GetProperty("job_id").GetString()!;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1 AND external_id IS NOT NULL", jobId) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no KIE task was created for {jobId}\n{host.Orchestrations.Tail()}");
            await Task.Delay(250);
        }
        await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
        var cancelled = await client.JobEndedAsync(jobId, TimeSpan.FromMinutes(1));
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        host.Kie.TaskDuration = TimeSpan.FromSeconds(1);
    }

    [Fact]
    public async Task AnIdempotencyKeyReplayReturnsTheSameJob()
    {
        if (!Runs()) return;
        var client = (await host.RegisterAsync()).Client();
        var body = new { graph = new { nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "two lines about the sea", genre = "news" } } }, edges = Array.Empty<object>() } };
        async Task<JsonElement> StartAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/jobs") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "functions-host-replay");
            return await (await client.SendAsync(request)).ReadJsonAsync(202);
        }
        var first = await StartAsync();
        var job = await client.JobEndedAsync(first.GetProperty("id").GetString()!, TimeSpan.FromMinutes(2));
        Assert.True(job.GetProperty("status").GetString() == "completed", $"{job}\n{host.Orchestrations.Tail()}");
        // The durable client is the extension's default one, set up once: no later call sets the task hub up again (with a
        // hub name of the API's own in host.json, every start tried to create the hub's containers and tables anew).
        int HubSetups() => host.Api.Log.Count(l => l.Contains("ContainerAlreadyExists", StringComparison.Ordinal));
        var setups = HubSetups();
        var replay = await StartAsync();
        Assert.Equal(first.GetProperty("id").GetString(), replay.GetProperty("id").GetString());
        var other = await (await client.PostAsJsonAsync("/v1/jobs", body)).ReadJsonAsync(202);
        await client.JobEndedAsync(other.GetProperty("id").GetString()!, TimeSpan.FromMinutes(2));
        Assert.Equal(setups, HubSetups());
    }

    [Fact]
    public async Task TheClientAddressAppServiceReportsLandsInTheAuditLog()
    {
        if (!Runs()) return;
        var session = await host.RegisterVerifiedAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = JsonContent.Create(new { name = "audited", scopes = new[] { "workflows:read" } }) };
        // As App Service's front end sends it; the host's proxy replaces X-Forwarded-For with its own peer on the way.
        request.Headers.Add("X-Client-IP", "203.0.113.7");
        request.Headers.Add("X-Forwarded-For", "198.51.100.1");
        var key = await (await session.Client().SendAsync(request)).ReadJsonAsync(201);
        var address = await host.ScalarAsync("SELECT host(ip_address) FROM audit_logs WHERE org_id = $1 AND resource_id = $2",
            session.OrgId, key.GetProperty("api_key").GetProperty("id").GetString()!);
        Assert.Equal("203.0.113.7", address);
    }
}
