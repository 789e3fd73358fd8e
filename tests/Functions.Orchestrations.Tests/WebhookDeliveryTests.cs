using System.Net;
using FentaWeb.Orchestrations.Webhooks;
using FentaWeb.Simulators;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Webhook delivery from a worker process, with the default network policy (no private addresses).</summary>
public class WebhookDeliveryTests(WebhookDeliveryTests.Host host) : IClassFixture<WebhookDeliveryTests.Host>
{
    public sealed class Host : RunHost
    {
        protected override bool StartsWorker => false;
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("172.20.0.5", true)]
    [InlineData("192.168.1.10", true)]
    [InlineData("169.254.169.254", true)] // cloud metadata endpoints live here
    [InlineData("100.64.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("fd00::1", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("172.32.0.1", false)]
    [InlineData("2606:4700:4700::1111", false)]
    public void PrivateAndLocalAddressesAreRecognised(string address, bool isPrivate) =>
        Assert.Equal(isPrivate, PublicAddressGuard.IsPrivate(IPAddress.Parse(address)));

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
