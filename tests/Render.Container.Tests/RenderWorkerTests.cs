using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Runs;
using FentaWeb.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FentaWeb.Render.Tests;

/// <summary>A render request that keeps coming back (its renderer died on each delivery) is given up, reported and counted.</summary>
public class RenderWorkerTests
{
    [Fact]
    public async Task ARequestTakenMoreThanThreeTimesIsReportedPoisonedAndCounted()
    {
        var server = await PostgresServer.SharedAsync();
        var settings = new Dictionary<string, string?>(await TaskHubs.SettingsAsync(nameof(RenderWorkerTests)))
        {
            ["FENTA_DB"] = await server.CreateDatabaseAsync("poisoned"),
        };
        using var host = RenderHost.Build([], once: true, settings);
        var queues = host.Services.GetRequiredService<RenderQueues>();
        var worker = host.Services.GetServices<IHostedService>().OfType<RenderWorker>().Single();
        var requestId = $"job_gone:render:0:{Guid.NewGuid():N}";
        await queues.SubmitAsync(new RenderRequest(requestId, new NodeCall("job_gone", "render", 0), new Dictionary<string, JsonElement>()), CancellationToken.None);
        // Three renderers took it and died before reporting: each delivery shows it again.
        for (var delivery = 0; delivery < 3; delivery++)
        {
            var taken = (await queues.Requests.ReceiveMessageAsync(TimeSpan.FromSeconds(30))).Value;
            await queues.Requests.UpdateMessageAsync(taken.MessageId, taken.PopReceipt, visibilityTimeout: TimeSpan.Zero);
        }
        using var measurements = new Measurements();

        Assert.True(await worker.TakeOneAsync(CancellationToken.None));

        var report = (await queues.Results.ReceiveMessageAsync()).Value.Body.ToObjectFromJson<RenderReport>(FentaJson.Options)!;
        Assert.Equal((requestId, "RENDER_POISONED"), (report.RequestId, report.Outcome.Code));
        Assert.Single(measurements.Of("fenta.render.poisoned"));
    }
}
