using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FentaWeb.Simulators;
using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>Webhooks over HTTP: management, events of real job runs, signatures, retries, redelivery — against a local receiver.</summary>
public class WebhookTests(WebhookTests.Host host) : IClassFixture<WebhookTests.Host>
{
    public sealed class Host : ApiHost
    {
        public WebhookReceiver Receiver { get; } = new();
        protected override bool RunsWorker => true;
        protected override Task BeforeStartAsync() => Receiver.StartAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true", // the receiver is on loopback
        };

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>
        {
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true", // the receiver is on loopback
            ["FENTA_WEBHOOK_RETRY_SECONDS"] = "0.3",
            ["FENTA_WEBHOOK_MAX_ATTEMPTS"] = "3",
            ["FENTA_WEBHOOK_DISABLE_AFTER_FAILURES"] = "2",
        };
    }

    private const string Graph = """{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}], "edges": []}""";

    private async Task<(HttpClient Client, string Id, string Secret, string Path)> CreateAsync(params string[] events)
    {
        var client = (await host.RegisterAsync()).Client();
        var path = Guid.NewGuid().ToString("N");
        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = host.Receiver.Url(path), events })).ReadJsonAsync(201);
        return (client, created.GetProperty("webhook").GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!, $"/hooks/{path}");
    }

    private async Task<List<ReceivedWebhook>> ReceivedAsync(string path, int count)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var received = host.Receiver.Received.Where(r => r.Path == path).ToList();
            if (received.Count >= count) return received;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{path} received {host.Receiver.Received.Count(r => r.Path == path)} of {count} posts");
    }

    private static async Task<JsonElement> DeliveryAsync(HttpClient client, string webhookId, Func<JsonElement, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var page = await (await client.GetAsync($"/v1/webhooks/{webhookId}/deliveries")).ReadJsonAsync(200);
            if (page.GetProperty("data").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } latest && done(latest)) return latest;
            await Task.Delay(50);
        }
        throw new TimeoutException($"the latest delivery of {webhookId} never reached the expected state");
    }

    /// <summary>Seed 000's verifier, exactly as the product's documentation shows it.</summary>
    private const string DocumentedVerifier = """
        import hmac
        import hashlib

        def verify_webhook(payload, signature, secret):
            expected = hmac.new(
                secret.encode('utf-8'),
                payload.encode('utf-8'),
                hashlib.sha256
            ).hexdigest()
            return hmac.compare_digest(expected, signature)

        import sys
        print(verify_webhook(sys.stdin.buffer.read().decode('utf-8'), sys.argv[1], sys.argv[2]))
        """;

    private static async Task<bool> DocumentedVerifierAcceptsAsync(string payload, string signature, string secret)
    {
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", DocumentedVerifier, signature, secret }) start.ArgumentList.Add(arg);
        using var python = Process.Start(start)!;
        await python.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(payload));
        python.StandardInput.Close();
        var output = (await python.StandardOutput.ReadToEndAsync()).Trim();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, await python.StandardError.ReadToEndAsync());
        return output == "True";
    }

    /// <summary>Stripe's scheme, computed here independently of the product's code.</summary>
    private static void AssertSigned(ReceivedWebhook post, string secret)
    {
        var parts = post.Headers["Fenta-Signature"].Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{parts["t"]}.{post.Body}")));
        Assert.Equal(expected, parts["v1"]);
        Assert.InRange(long.Parse(parts["t"]), DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds());
    }

    [Fact]
    public async Task AWorkflowRunSendsSignedJobAndRunEventsOnlyToItsOrg()
    {
        var (client, webhookId, secret, path) = await CreateAsync("job.started", "job.completed", "workflow.run.finished");
        var (_, _, _, strangerPath) = await CreateAsync("*");
        var workflow = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Hooked", graph = JsonDocument.Parse(Graph).RootElement })).ReadJsonAsync(201);
        var workflowId = workflow.GetProperty("id").GetString()!;
        var job = await (await client.PostAsync($"/v1/workflows/{workflowId}/run", JsonContent.Create(new { }))).ReadJsonAsync(202);
        var jobId = job.GetProperty("id").GetString()!;

        var posts = await ReceivedAsync(path, 3);
        Assert.Equal(3, posts.Count);
        var events = posts.Select(p => JsonDocument.Parse(p.Body).RootElement).ToList();
        Assert.Equal(["job.completed", "job.started", "workflow.run.finished"], events.Select(e => e.GetProperty("type").GetString()).Order());
        Assert.All(posts, p => AssertSigned(p, secret));
        // The documentation's verifier, run as written, accepts every delivery by its X-Fenta-Signature, and no altered body.
        foreach (var post in posts)
        {
            Assert.True(await DocumentedVerifierAcceptsAsync(post.Body, post.Headers["X-Fenta-Signature"], secret), post.Body);
            Assert.False(await DocumentedVerifierAcceptsAsync(post.Body + " ", post.Headers["X-Fenta-Signature"], secret));
            Assert.False(await DocumentedVerifierAcceptsAsync(post.Body, post.Headers["X-Fenta-Signature"], secret + "x"));
        }
        Assert.All(posts.Zip(events), pair =>
        {
            var (post, payload) = pair;
            Assert.Equal(payload.GetProperty("id").GetString(), post.Headers["Fenta-Event-Id"]);
            Assert.Equal(payload.GetProperty("type").GetString(), post.Headers["Fenta-Event-Type"]);
            Assert.Equal(jobId, payload.GetProperty("data").GetProperty("job").GetProperty("id").GetString());
        });
        Assert.Equal(3, events.Select(e => e.GetProperty("id").GetString()).Distinct().Count());
        var finished = events.Single(e => e.GetProperty("type").GetString() == "workflow.run.finished").GetProperty("data").GetProperty("job");
        Assert.Equal(("completed", workflowId, 100), (finished.GetProperty("status").GetString(), finished.GetProperty("workflow_id").GetString(),
            finished.GetProperty("progress").GetInt32()));

        var deliveries = await (await client.GetAsync($"/v1/webhooks/{webhookId}/deliveries?status=success")).ReadJsonAsync(200);
        Assert.Equal(3, deliveries.GetProperty("data").GetArrayLength());
        Assert.All(deliveries.GetProperty("data").EnumerateArray(), d => Assert.Equal((200, 1), (d.GetProperty("http_status").GetInt32(), d.GetProperty("attempts").GetInt32())));
        Assert.DoesNotContain(host.Receiver.Received, r => r.Path == strangerPath); // another org's endpoint hears nothing of this job
    }

    [Fact]
    public async Task AFailingEndpointIsRetriedUntilItAnswersThenGivenUpAndCanBeRedelivered()
    {
        var (client, webhookId, secret, path) = await CreateAsync("job.completed");
        host.Receiver.EnqueueError(500, """{"error": "busy"}""");
        await (await client.PostAsync($"/v1/webhooks/{webhookId}/ping", null)).ReadJsonAsync(202);
        var recovered = await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "success");
        Assert.Equal(("webhook.ping", 2, 200), (recovered.GetProperty("event").GetString(), recovered.GetProperty("attempts").GetInt32(),
            recovered.GetProperty("http_status").GetInt32()));
        var ping = Assert.Single(await ReceivedAsync(path, 1));
        AssertSigned(ping, secret);
        Assert.Equal("2", ping.Headers["Fenta-Delivery-Attempt"]);

        for (var i = 0; i < 3; i++) host.Receiver.EnqueueError(503, "down for maintenance");
        await (await client.PostAsync($"/v1/webhooks/{webhookId}/ping", null)).ReadJsonAsync(202);
        var failed = await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "failed");
        Assert.Equal((3, 503, "down for maintenance"), (failed.GetProperty("attempts").GetInt32(), failed.GetProperty("http_status").GetInt32(),
            failed.GetProperty("response_body").GetString()));
        Assert.Contains("503", failed.GetProperty("error").GetString());

        var deliveryId = failed.GetProperty("id").GetString()!;
        await (await client.PostAsync($"/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver", null)).ReadJsonAsync(202);
        var redelivered = await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "success");
        Assert.Equal((deliveryId, 1), (redelivered.GetProperty("id").GetString(), redelivered.GetProperty("attempts").GetInt32()));
        Assert.Equal(2, (await ReceivedAsync(path, 2)).Count);
    }

    [Fact]
    public async Task ADeliverysLatencyRunsFromItsEventToItsDeliveryAcrossTheRetriesAttemptsAreTimedEach()
    {
        using var measurements = new Measurements();
        var (client, webhookId, _, _) = await CreateAsync("job.completed");
        host.Receiver.EnqueueError(500, "busy");
        await (await client.PostAsync($"/v1/webhooks/{webhookId}/ping", null)).ReadJsonAsync(202);
        var delivered = await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "success");
        var sinceEvent = DateTimeOffset.UtcNow - delivered.GetProperty("created_at").GetDateTimeOffset();

        bool Ping(Measured m) => m.Tag("fenta.event") == "webhook.ping";
        var latency = await measurements.WaitForAsync("fenta.webhook.delivery.latency", m => Ping(m) && m.Tag("fenta.outcome") == "delivered");
        // Its first attempt failed and the second waited about 0.3 s (FENTA_WEBHOOK_RETRY_SECONDS, ±10 %: at least 0.27 s):
        // the latency spans both, each attempt's duration only its own POST. The wait is a durable timer measured by the
        // worker's clock and the latency by the database's, so a few ms either way are allowed (a run measured 0.264 s).
        Assert.InRange(latency.Value, 0.22, sinceEvent.TotalSeconds);
        var attempts = measurements.Of("fenta.webhook.attempt.duration").Where(Ping).ToList();
        Assert.Contains(attempts, a => a.Tag("fenta.outcome") == "failed");
        Assert.Contains(attempts, a => a.Tag("fenta.outcome") == "delivered");
        Assert.All(attempts, a => Assert.True(a.Value < latency.Value, $"an attempt took {a.Value} s, the delivery {latency.Value} s"));
    }

    [Fact]
    public async Task AnEndpointThatKeepsFailingIsSwitchedOffUntilAnAdminTurnsItBackOn()
    {
        var (client, webhookId, _, path) = await CreateAsync("job.completed");
        for (var ping = 1; ping <= 2; ping++)
        {
            for (var i = 0; i < 3; i++) host.Receiver.EnqueueError(500, "still broken");
            await (await client.PostAsync($"/v1/webhooks/{webhookId}/ping", null)).ReadJsonAsync(202);
            await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "failed");
        }
        var off = await (await client.GetAsync($"/v1/webhooks/{webhookId}")).ReadJsonAsync(200);
        Assert.False(off.GetProperty("enabled").GetBoolean());
        Assert.Contains("2 failed deliveries in a row", off.GetProperty("disabled_reason").GetString());

        // While off, events wait instead of being posted; turned back on, they go out.
        await (await client.PostAsync($"/v1/webhooks/{webhookId}/ping", null)).ReadJsonAsync(202);
        await Task.Delay(500);
        Assert.Equal("pending", (await DeliveryAsync(client, webhookId, _ => true)).GetProperty("status").GetString());
        var on = await (await client.PatchAsJsonAsync($"/v1/webhooks/{webhookId}", new { enabled = true })).ReadJsonAsync(200);
        Assert.Equal((true, JsonValueKind.Null), (on.GetProperty("enabled").GetBoolean(), on.GetProperty("disabled_reason").ValueKind));
        Assert.Equal("success", (await DeliveryAsync(client, webhookId, d => d.GetProperty("status").GetString() == "success")).GetProperty("status").GetString());
        Assert.Single(await ReceivedAsync(path, 1));
    }

    [Fact]
    public async Task WebhooksAreValidatedScopedToTheOrgAndKeepTheirSecretToThemselves()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var missing = await (await client.PostAsJsonAsync("/v1/webhooks", new { })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["events", "url"], missing.Fields().Order());
        var bad = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = "ftp://example.com/x", events = new[] { "job.completed", "job.exploded" } }))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["events[1]", "url"], bad.Fields().Order());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM webhooks WHERE org_id = $1", session.OrgId));

        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://example.com/hooks", events = new[] { "*" }, description = "ops" }))
            .ReadJsonAsync(201);
        var id = created.GetProperty("webhook").GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        var shown = await (await client.GetAsync($"/v1/webhooks/{id}")).ReadJsonAsync(200);
        Assert.False(shown.TryGetProperty("secret", out _));
        Assert.Equal(["*"], shown.GetProperty("events").EnumerateArray().Select(e => e.GetString()));

        var updated = await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { events = new[] { "render.succeeded", "render.failed" }, enabled = false }))
            .ReadJsonAsync(200);
        Assert.Equal((false, 2, "https://example.com/hooks"), (updated.GetProperty("enabled").GetBoolean(), updated.GetProperty("events").GetArrayLength(),
            updated.GetProperty("url").GetString()));
        await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { url = "not a url" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        var rotated = await (await client.PostAsync($"/v1/webhooks/{id}/rotate-secret", null)).ReadJsonAsync(200);
        Assert.NotEqual(secret, rotated.GetProperty("secret").GetString());

        var stranger = (await host.RegisterAsync()).Client();
        await (await stranger.GetAsync($"/v1/webhooks/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.PatchAsJsonAsync($"/v1/webhooks/{id}", new { enabled = true })).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.GetAsync($"/v1/webhooks/{id}/deliveries")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, (await (await stranger.GetAsync("/v1/webhooks")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
        var (readOnly, _) = await session.CreateKeyAsync("workflows:read");
        Assert.Equal("workflows:write", (await (await host.Client(readOnly).GetAsync("/v1/webhooks")).ReadProblemAsync(403, "FORBIDDEN"))
            .GetProperty("required_scope").GetString());

        await (await client.DeleteAsync($"/v1/webhooks/{id}")).ReadJsonAsync(204);
        await (await client.GetAsync($"/v1/webhooks/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }
}

/// <summary>Webhook URLs with the default network policy: an address written out is refused when the webhook is saved.</summary>
public class WebhookAddressTests(WebhookAddressTests.Host host) : IClassFixture<WebhookAddressTests.Host>
{
    public sealed class Host : ApiHost;

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("https://2130706433/hook")] // 127.0.0.1 as one number
    [InlineData("https://10.0.0.5/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://192.0.2.2/hook")] // documentation range (and this machine's eth0 in the probe)
    [InlineData("https://198.18.0.1/hook")]
    [InlineData("https://240.0.0.1/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://[64:ff9b::a00:1]/hook")]
    [InlineData("https://[64:ff9b::a9fe:a9fe]/latest/meta-data")] // NAT64 of the metadata address
    [InlineData("http://[::ffff:0:7f00:1]:8080/")] // IPv4-translated loopback (RFC 2765), saved before
    [InlineData("https://[::ffff:0:a9fe:a9fe]/latest/meta-data")] // IPv4-translated metadata address
    [InlineData("https://[::ffff:a00:1]/hook")] // IPv4-mapped 10.0.0.1 in hex
    [InlineData("https://[::7f00:1]/hook")] // IPv4-compatible loopback
    [InlineData("https://[2001:db8::1]/hook")]
    [InlineData("https://[fe80::1]/hook")]
    [InlineData("https://localhost:8443/hook")] // a name resolved when saved, to loopback only
    public async Task AWebhookUrlNamingASpecialPurposeOrLocalAddressIsRefused(string url)
    {
        var client = (await host.RegisterAsync()).Client();
        var refused = await (await client.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { "*" } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["url"], refused.Fields());

        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/in", events = new[] { "*" } })).ReadJsonAsync(201);
        var id = created.GetProperty("webhook").GetProperty("id").GetString();
        await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { url })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal("https://hooks.example.com/in", (await (await client.GetAsync($"/v1/webhooks/{id}")).ReadJsonAsync(200)).GetProperty("url").GetString());
    }

    [Fact]
    public async Task AWebhookUrlOnAPublicAddressOrANameIsAccepted()
    {
        var client = (await host.RegisterAsync()).Client();
        foreach (var url in new[] { "https://8.8.8.8/hook", "https://[2606:4700:4700::1111]/hook", "https://hooks.example.com/in" })
            await (await client.PostAsJsonAsync("/v1/webhooks", new { url, events = new[] { "*" } })).ReadJsonAsync(201);
    }
}
