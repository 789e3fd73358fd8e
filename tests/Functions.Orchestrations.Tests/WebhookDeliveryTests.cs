using System.Net;
using FentaWeb.Domain.Webhooks;
using FentaWeb.Orchestrations.Webhooks;
using FentaWeb.Simulators;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Webhook delivery from a worker process, with the default network policy (no private addresses).</summary>
public class WebhookDeliveryTests(RunHostWithoutWorker host) : IClassFixture<RunHostWithoutWorker>
{
    // Both sides of each block's edges where a public neighbour exists, from the IANA special-purpose registries.
    [Theory]
    [InlineData("0.0.0.0", true)]
    [InlineData("0.255.255.255", true)]
    [InlineData("10.0.0.0", true)]
    [InlineData("10.255.255.255", true)]
    [InlineData("100.64.0.0", true)]
    [InlineData("100.127.255.255", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.255.255.254", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("172.16.0.0", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("192.0.0.8", true)]
    [InlineData("192.0.2.10", true)]
    [InlineData("192.31.196.1", true)]
    [InlineData("192.52.193.1", true)]
    [InlineData("192.88.99.1", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("192.175.48.1", true)]
    [InlineData("198.18.0.1", true)]
    [InlineData("198.19.255.255", true)]
    [InlineData("198.51.100.7", true)]
    [InlineData("203.0.113.200", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("239.255.255.250", true)]
    [InlineData("240.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("::", true)]
    [InlineData("::1", true)]
    [InlineData("::127.0.0.1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::ffff:192.0.2.1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    // IPv4 written inside IPv6: mapped (::ffff:a.b.c.d, judged by its IPv4 address), translated (::ffff:0:a.b.c.d, RFC 2765,
    // refused whole), compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d), in the hex spellings too.
    [InlineData("::ffff:0:7f00:1", true)]
    [InlineData("::ffff:0:127.0.0.1", true)]
    [InlineData("::ffff:0:a00:1", true)]
    [InlineData("::ffff:0:a9fe:a9fe", true)]
    [InlineData("::ffff:0:8.8.8.8", true)]
    [InlineData("::ffff:7f00:1", true)]
    [InlineData("::ffff:a9fe:a9fe", true)]
    [InlineData("::7f00:1", true)]
    [InlineData("::a00:1", true)]
    [InlineData("64:ff9b::7f00:1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("64:ff9b::10.0.0.1", true)]
    [InlineData("64:ff9b::8.8.8.8", true)]
    [InlineData("64:ff9b:1::1", true)]
    [InlineData("100::1", true)]
    [InlineData("2001::1", true)]
    [InlineData("2001:1ff:ffff::1", true)]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db8:ffff::1", true)]
    [InlineData("2002:c000:0201::1", true)]
    [InlineData("3fff::1", true)]
    [InlineData("5f00::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("fdff:ffff::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("febf:ffff::1", true)]
    [InlineData("fec0::1", true)]
    [InlineData("ff02::1", true)]
    [InlineData("ff0e::1", true)]
    [InlineData("1.1.1.1", false)]
    [InlineData("8.8.8.8", false)]
    [InlineData("9.255.255.255", false)]
    [InlineData("11.0.0.0", false)]
    [InlineData("100.63.255.255", false)]
    [InlineData("100.128.0.0", false)]
    [InlineData("126.255.255.255", false)]
    [InlineData("128.0.0.0", false)]
    [InlineData("169.253.255.255", false)]
    [InlineData("172.15.255.255", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.0.1.255", false)]
    [InlineData("192.0.3.0", false)]
    [InlineData("192.88.98.255", false)]
    [InlineData("192.167.255.255", false)]
    [InlineData("192.169.0.0", false)]
    [InlineData("198.17.255.255", false)]
    [InlineData("198.20.0.0", false)]
    [InlineData("198.51.101.0", false)]
    [InlineData("203.0.112.255", false)]
    [InlineData("223.255.255.255", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("2001:200::1", false)]
    [InlineData("2001:4860:4860::8888", false)]
    [InlineData("2606:4700:4700::1111", false)]
    [InlineData("2a00:1450::1", false)]
    [InlineData("fbff:ffff::1", false)]
    public void EverySpecialPurposeRangeIsRefusedAndOnlyPublicAddressesPass(string address, bool refused) =>
        Assert.Equal(refused, SpecialPurposeAddresses.IsSpecialPurpose(IPAddress.Parse(address)));

    [Fact]
    public void AnAddressOfALocalInterfaceIsRefusedWhateverItsRange()
    {
        var local = SpecialPurposeAddresses.LocalInterfaceAddresses();
        Assert.NotEmpty(local);
        Assert.All(local, address => Assert.True(SpecialPurposeAddresses.IsRefused(address), $"{address} is this machine's own"));
        // An interface holding a public address (as the probe's 192.0.2.x was, before that block was listed) is refused too.
        var publicButOurs = IPAddress.Parse("8.8.4.4");
        Assert.False(SpecialPurposeAddresses.IsSpecialPurpose(publicButOurs));
        Assert.True(SpecialPurposeAddresses.IsLocalInterface(publicButOurs, [IPAddress.Parse("127.0.0.1"), publicButOurs]));
        Assert.True(SpecialPurposeAddresses.IsLocalInterface(IPAddress.Parse("::ffff:8.8.4.4"), [publicButOurs]));
        Assert.False(SpecialPurposeAddresses.IsLocalInterface(IPAddress.Parse("8.8.8.8"), [publicButOurs]));
    }

    [Fact]
    public async Task AnEndpointOnAPrivateAddressIsRefusedWithoutBeingContacted()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        await host.ExecAsync($$$"""
            INSERT INTO webhooks (id, org_id, url, events, secret) VALUES ('hook_private', '{{{RunHost.OrgId}}}', '{{{receiver.Url()}}}', '{job.completed}', 'whsec_test');
            SELECT webhook_emit('{{{RunHost.OrgId}}}', 'job.completed', '{"job": {"id": "job_x"}}');
            """);
        var settings = host.WorkerSettings();
        settings["FENTA_WEBHOOK_MAX_ATTEMPTS"] = "1";
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();
        await host.WaitUntilAsync("SELECT status = 'failed' FROM webhook_deliveries WHERE webhook_id = 'hook_private'");
        await worker.StopAsync();

        Assert.Contains("refused to connect to 127.0.0.1", (string)(await host.ScalarAsync("SELECT error FROM webhook_deliveries WHERE webhook_id = 'hook_private'"))!);
        Assert.Empty(receiver.Requests);
    }

    /// <summary>
    /// A delivery handed to an orchestration that will never post it is handed over again: "gone" is a hand-over whose
    /// instance the task hub does not have (its start never became durable, or it was purged), "ended" one whose instance
    /// ran and finished without an outcome (here it ran before the delivery existed). The new hand-over posts it once,
    /// under the same delivery id.
    /// </summary>
    [Theory]
    [InlineData("gone")]
    [InlineData("ended")]
    public async Task ADeliveryWhoseOrchestrationWillNeverPostItIsHandedOverAgain(string lost)
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        var delivery = $"whd_lost_{lost}";
        var settings = host.WorkerSettings();
        settings["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true"; // the receiver is on loopback
        settings["FENTA_WEBHOOK_REDISPATCH_SECONDS"] = "2";
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();
        try
        {
            if (lost == "ended")
            {
                await host.Runs.ScheduleNewOrchestrationInstanceAsync(nameof(DeliverWebhook), new WebhookDispatch(delivery, 1),
                    new Microsoft.DurableTask.StartOrchestrationOptions($"{delivery}:1"));
                await WaitForStatusAsync($"{delivery}:1", Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed);
            }
            await host.ExecAsync($$$"""
                INSERT INTO webhooks (id, org_id, url, events, secret) VALUES ('hook_{{{lost}}}', '{{{RunHost.OrgId}}}', '{{{receiver.Url(lost)}}}', '{job.started}', 'whsec_test');
                INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event, payload, dispatches, dispatched, next_retry_at)
                VALUES ('{{{delivery}}}', 'hook_{{{lost}}}', '{{{RunHost.OrgId}}}', 'evt_{{{lost}}}', 'job.started',
                        '{"id": "evt_{{{lost}}}", "type": "job.started", "org_id": "{{{RunHost.OrgId}}}", "data": {}}', 1, true, now() - interval '1 minute');
                """);
            await host.WaitUntilAsync("SELECT status = 'success' FROM webhook_deliveries WHERE id = $1", delivery);
        }
        finally
        {
            await worker.StopAsync();
        }

        var post = Assert.Single(receiver.Received);
        Assert.Equal(delivery, post.Headers["Fenta-Delivery-Id"]);
        Assert.Equal((2, 1), ((int)(await host.ScalarAsync("SELECT dispatches FROM webhook_deliveries WHERE id = $1", delivery))!,
            (int)(await host.ScalarAsync("SELECT attempts FROM webhook_deliveries WHERE id = $1", delivery))!));
    }

    private async Task WaitForStatusAsync(string instanceId, Microsoft.DurableTask.Client.OrchestrationRuntimeStatus status)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while ((await host.Runs.GetInstanceAsync(instanceId))?.RuntimeStatus != status)
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"{instanceId} never became {status}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task TheWebhookClientNeverRetriesAPostAndOnlyTimesOut()
    {
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["FENTA_WEBHOOK_TIMEOUT_SECONDS"] = "0.5",
        }).Build();
        var services = new ServiceCollection();
        services.AddWebhookDelivery(config);
        await using var provider = services.BuildServiceProvider();
        var http = provider.GetRequiredService<IHttpClientFactory>()
            .CreateClient(WebhookRegistration.HttpClientName);

        receiver.EnqueueError(503, "down");
        using (var answer = await http.PostAsync(receiver.Url(), new StringContent("{}")))
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
        Assert.Single(receiver.Requests); // the orchestration retries deliveries, with its own waits: not the client

        receiver.EnqueueDelay(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => http.PostAsync(receiver.Url(), new StringContent("{}")));
        Assert.Equal(2, receiver.Requests.Count);
    }
}
