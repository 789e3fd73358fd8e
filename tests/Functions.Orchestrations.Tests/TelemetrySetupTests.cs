using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>The hosts' telemetry settings: none costs nothing (OpenTelemetry is not registered); each names its exporter.</summary>
public class TelemetrySetupTests
{
    private static (bool Registered, ServiceProvider Services) Setup(params (string Key, string Value)[] settings)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build();
        var services = new ServiceCollection().AddLogging();
        var registered = services.AddFentaTelemetry(config, "fenta-test");
        return (registered, services.BuildServiceProvider());
    }

    [Fact]
    public void WithNoSettingNothingIsRegistered()
    {
        var (registered, services) = Setup();
        using (services)
        {
            Assert.False(registered);
            Assert.Null(services.GetService<TracerProvider>());
            Assert.Null(services.GetService<MeterProvider>());
        }
    }

    [Fact]
    public void TheConsoleSwitchAndAnOtlpEndpointRegisterTracingAndMetrics()
    {
        foreach (var setting in new[] { ("FENTA_TELEMETRY_CONSOLE", "true"), ("FENTA_OTLP_ENDPOINT", "http://127.0.0.1:4317") })
        {
            var (registered, services) = Setup(setting);
            using (services)
            {
                Assert.True(registered);
                Assert.NotNull(services.GetService<TracerProvider>());
                Assert.NotNull(services.GetService<MeterProvider>());
            }
        }
    }

    [Fact]
    public void AzureMonitorAndOtlpTogetherBuildTheirProviders()
    {
        var (registered, services) = Setup(("APPLICATIONINSIGHTS_CONNECTION_STRING", "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/"),
            ("FENTA_OTLP_ENDPOINT", "http://127.0.0.1:9"), ("FENTA_TELEMETRY_CONSOLE", "true"));
        using (services)
        {
            Assert.True(registered);
            Assert.NotNull(services.GetService<TracerProvider>());
            Assert.NotNull(services.GetService<MeterProvider>());
        }
    }

    [Fact]
    public void SettingsNameTheExporters()
    {
        Assert.Equal(new TelemetryOptions(new Uri("http://collector:4318"), OtlpExportProtocol.HttpProtobuf, false, true), TelemetryOptions.FromSettings(key => key switch
        {
            "FENTA_OTLP_ENDPOINT" => "http://collector:4318",
            "FENTA_OTLP_PROTOCOL" => "http",
            "APPLICATIONINSIGHTS_CONNECTION_STRING" => "InstrumentationKey=00000000-0000-0000-0000-000000000000",
            _ => null,
        }));
        Assert.False(TelemetryOptions.FromSettings(_ => null).Enabled);
        Assert.False(TelemetryOptions.FromSettings(key => key == "FENTA_TELEMETRY_CONSOLE" ? "no" : null).Enabled);
    }

    [Fact]
    public void AJobsTagsNameItsWorkflowOrDirectAndTheTemplatesItsNodesFollow()
    {
        static CompiledGraph Plan(string nodes, string edges = "") =>
            CompiledGraph.Compile(JsonSerializer.Deserialize<WorkflowGraph>($$"""{"nodes": [{{nodes}}], "edges": [{{edges}}]}""", FentaJson.Options)!);
        static string Tags(string? workflowId, CompiledGraph? plan) => string.Join(", ", Telemetry.JobTags(workflowId, plan).ToArray().Select(t => $"{t.Key}={t.Value}"));
        const string Stock = """{"id": "st", "type": "Input.Stock", "params": {"query": "harbour"}}""";

        Assert.Equal("fenta.workflow=direct, fenta.template=none", Tags(null, Plan(Stock)));
        // A timeline without a template_id follows the default one; two timelines, both of theirs.
        Assert.Equal("fenta.workflow=wf_1, fenta.template=tmpl_shorts_v1", Tags("wf_1", Plan($$"""{{Stock}}, {"id": "t", "type": "Edit.Timeline"}""", """{"from": "st", "to": "t"}""")));
        Assert.Equal("fenta.workflow=direct, fenta.template=tmpl_a+tmpl_b", Tags(null, Plan(
            $$$"""{{{Stock}}}, {"id": "t1", "type": "Edit.Timeline", "params": {"template_id": "tmpl_b"}}, {"id": "t2", "type": "Edit.Timeline", "params": {"template_id": "tmpl_a"}}""",
            """{"from": "st", "to": "t1"}, {"from": "st", "to": "t2"}""")));
        Assert.Equal("fenta.workflow=wf_1, fenta.template=none", Tags("wf_1", null));
    }

    [Fact]
    public void AStoredTraceParentNamesItsTraceAndAJobWithoutASpanGetsANewOne()
    {
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", Telemetry.TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        Assert.Null(Telemetry.TraceIdOf(null));
        Assert.Null(Telemetry.TraceIdOf("garbage"));
        System.Diagnostics.Activity.Current = null;
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", Telemetry.NewJobTraceParent());
        Assert.NotEqual(Telemetry.TraceIdOf(Telemetry.NewJobTraceParent()), Telemetry.TraceIdOf(Telemetry.NewJobTraceParent()));
        // Under a span nobody records (a host that exports nothing): its trace, marked sampled for the hosts that do export.
        using var unrecorded = new System.Diagnostics.Activity("request").SetIdFormat(System.Diagnostics.ActivityIdFormat.W3C).Start();
        Assert.Equal($"00-{unrecorded.TraceId.ToHexString()}-{unrecorded.SpanId.ToHexString()}-01", Telemetry.NewJobTraceParent());
    }
}

/// <summary>The render queue's gauges: how many requests wait and how old the oldest is, sampled from the queue.</summary>
public class RenderQueueMonitorTests
{
    [Fact]
    public async Task TheMonitorReportsTheQueuesDepthAndTheAgeOfItsOldestRequest()
    {
        var settings = await Testing.TaskHubs.SettingsAsync(nameof(RenderQueueMonitorTests));
        var queues = RenderQueues.FromSettings(key => settings.GetValueOrDefault(key));
        await queues.EnsureCreatedAsync();
        foreach (var id in new[] { "a", "b" }) await queues.Requests.SendMessageAsync($$"""{"request_id":"{{id}}"}""");
        // Ten minutes on: the oldest request has waited that long (the queue's insertion times have whole seconds).
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromMinutes(10));

        var seen = new Dictionary<string, double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Telemetry.Name && instrument.Name.StartsWith("fenta.render.queue.")) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => seen[instrument.Name] = value);
        listener.Start();

        using var monitor = new RenderQueueMonitor(queues, clock, Microsoft.Extensions.Logging.Abstractions.NullLogger<RenderQueueMonitor>.Instance);
        await monitor.StartAsync(CancellationToken.None);
        // The first sample is taken at once; wait for it (the queue is sampled over HTTP).
        for (var tries = 0; tries < 100 && !seen.ContainsKey("fenta.render.queue.depth"); tries++)
        {
            listener.RecordObservableInstruments();
            if (!seen.ContainsKey("fenta.render.queue.depth")) await Task.Delay(100);
        }
        await monitor.StopAsync(CancellationToken.None);

        Assert.Equal(2, seen["fenta.render.queue.depth"]);
        Assert.InRange(seen["fenta.render.queue.oldest_age"], 599, 660);
    }
}
