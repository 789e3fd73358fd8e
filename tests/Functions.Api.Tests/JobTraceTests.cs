using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Runs;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FentaWeb.Api.Tests;

/// <summary>
/// A job is one trace (issue 26): the API request that creates it, its run's activities in the orchestration worker, the
/// render in the render container (its context carried by the render queue message) share the trace id that
/// GET /v1/jobs/{id} answers and the job's first log line holds. The spans are exported to an in-memory exporter.
/// </summary>
public class JobTraceTests(DirectJobTests.Host host) : IClassFixture<DirectJobTests.Host>
{
    /// <summary>What the exporter collected: other test classes run jobs at the same time, so it is read under a lock.</summary>
    private sealed class Spans : Collection<Activity>
    {
        protected override void InsertItem(int index, Activity item)
        {
            lock (this) base.InsertItem(index, item);
        }

        public List<Activity> Of(ActivityTraceId trace)
        {
            lock (this) return this.Where(a => a.TraceId == trace).ToList();
        }
    }

    [Fact]
    public async Task AJobsSpansFromTheApiThroughItsNodesToTheRendererShareOneTraceId()
    {
        var spans = new Spans();
        using var tracing = Sdk.CreateTracerProviderBuilder()
            .AddSource(Telemetry.Name, "Microsoft.AspNetCore", "Microsoft.DurableTask")
            .AddInMemoryExporter(spans)
            .Build();
        var metrics = new List<Metric>();
        using var metering = Sdk.CreateMeterProviderBuilder().AddMeter(Telemetry.Name).AddInMemoryExporter(metrics).Build();
        var client = (await host.RegisterAsync()).Client();
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new
        {
            template_id = "tmpl_shorts_v1",
            config = new
            {
                sources = new object[] { new { type = "stock", provider = "local", query = "harbour morning", count = 2 } },
                script = new { prompt = "ferries leave the harbour at dawn", genre = "news", duration_seconds = 6 },
                tts = new { provider = "espeak" },
                output = new { profile = "9x16_720p", quality = "draft" },
            },
        })).ReadJsonAsync(202);
        var jobId = started.GetProperty("id").GetString()!;
        var job = await client.JobEndedAsync(jobId);
        Assert.Equal("completed", job.GetProperty("status").GetString());

        // The answer names the trace, and so does the job's first log line.
        var traceId = job.GetProperty("trace_id").GetString()!;
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        var logs = await (await client.GetAsync($"/v1/jobs/{jobId}/logs")).ReadJsonAsync(200);
        var firstLog = logs.GetProperty("data").EnumerateArray().First(l => l.GetProperty("message").GetString()!.StartsWith("Job queued"));
        Assert.Equal(traceId, firstLog.GetProperty("data").GetProperty("trace_id").GetString());

        // The renderer's span ends after it reported, and the orchestration's after its last activity, so they may end
        // just after the job did: wait for them.
        var trace = ActivityTraceId.CreateFromString(traceId);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<Activity> ofJob;
        while (!Has(ofJob = spans.Of(trace), "render request", "job finish", "orchestration:JobRun") && DateTime.UtcNow < deadline) await Task.Delay(100);

        // API → orchestration → node activities → renderer, one trace.
        var created = Assert.Single(ofJob, a => a.OperationName == "job.create");
        var request = Assert.Single(ofJob, a => a.SpanId == created.ParentSpanId);
        Assert.Equal(("Microsoft.AspNetCore", ActivityKind.Server), (request.Source.Name, request.Kind));
        Assert.Equal(jobId, created.GetTagItem("fenta.job_id"));
        // The run is scheduled in the job's trace, so Durable Task's orchestration and activity spans are in it, under the request.
        var bySpan = ofJob.GroupBy(a => a.SpanId).ToDictionary(g => g.Key, g => g.First());
        bool Under(Activity span, Activity ancestor) =>
            span.ParentSpanId == ancestor.SpanId || bySpan.TryGetValue(span.ParentSpanId, out var parent) && Under(parent, ancestor);
        var orchestration = Assert.Single(ofJob, a => a.Source.Name == "Microsoft.DurableTask" && a.OperationName == "orchestration:JobRun");
        Assert.True(Under(orchestration, created));
        // (An activity may run more than once, so each is looked for, not counted.)
        Assert.Contains(ofJob, a => a.OperationName == "job run" && Under(a, orchestration));
        Assert.Contains(ofJob, a => a.OperationName == "job finish" && Under(a, orchestration));
        foreach (var node in new[] { "script", "tts", "sources_0", "timeline" })
            Assert.Contains(ofJob, a => a.OperationName.StartsWith("node ") && (string?)a.GetTagItem("fenta.node_id") == node && Under(a, orchestration));
        // The renderer's request span continues the submit's (the queue message carries it), and the render node runs under it.
        Assert.Contains(ofJob, render => render is { OperationName: "render request", Kind: ActivityKind.Consumer }
            && bySpan.TryGetValue(render.ParentSpanId, out var submit) && submit.OperationName == "render submit" && Under(submit, orchestration)
            && ofJob.Any(node => node.OperationName == "node Output.Render" && node.ParentSpanId == render.SpanId && (string?)node.GetTagItem("fenta.outcome") == "Succeeded"));

        // Its metrics (other tests' jobs count too, so only that they were recorded).
        metering.ForceFlush();
        Assert.Subset(metrics.Select(m => m.Name).ToHashSet(),
            new HashSet<string> { "fenta.jobs.started", "fenta.jobs.completed", "fenta.node.duration", "fenta.render.seconds" });
    }

    private static bool Has(List<Activity> spans, params string[] names) => names.All(n => spans.Any(a => a.OperationName == n));
}

/// <summary>A job's webhook delivery is in the job's trace too, though the delivery's orchestration was started by a timer.</summary>
public class WebhookTraceTests(WebhookTests.Host host) : IClassFixture<WebhookTests.Host>
{
    [Fact]
    public async Task AJobsWebhookDeliveryIsASpanOfTheJobsTrace()
    {
        var spans = new List<Activity>();
        // As the API records them: under its request's span.
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(Telemetry.Name, "Microsoft.AspNetCore").AddInMemoryExporter(spans).Build();
        var client = (await host.RegisterAsync()).Client();
        var path = Guid.NewGuid().ToString("N");
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = host.Receiver.Url(path), events = new[] { "job.completed" } })).ReadJsonAsync(201);
        var graph = JsonDocument.Parse("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}], "edges": []}""").RootElement;
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var traceId = (await client.JobEndedAsync(jobId)).GetProperty("trace_id").GetString()!;

        // The span ends once the delivery's outcome is recorded, after the receiver has the post.
        Activity? delivered = null, created = null;
        for (var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30); DateTime.UtcNow < deadline && delivered is null; await Task.Delay(100))
            lock (spans)
            {
                var ofJob = spans.Where(a => a.TraceId.ToHexString() == traceId).ToList();
                created = ofJob.FirstOrDefault(a => a.OperationName == "job.create");
                delivered = ofJob.FirstOrDefault(a => a.OperationName == "webhook deliver");
            }
        Assert.NotNull(delivered);
        Assert.Equal(("job.completed", jobId), (delivered.GetTagItem("fenta.event"), delivered.GetTagItem("fenta.job_id")));
        Assert.Equal(ActivityStatusCode.Unset, delivered.Status);
        Assert.Equal(created!.SpanId, delivered.ParentSpanId);
        Assert.Contains(host.Receiver.Received, r => r.Path == $"/hooks/{path}");
    }
}
