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
    public void AStoredTraceParentNamesItsTraceAndAJobWithoutASpanGetsANewOne()
    {
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", Telemetry.TraceIdOf("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        Assert.Null(Telemetry.TraceIdOf(null));
        Assert.Null(Telemetry.TraceIdOf("garbage"));
        System.Diagnostics.Activity.Current = null;
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", Telemetry.NewJobTraceParent());
        Assert.NotEqual(Telemetry.TraceIdOf(Telemetry.NewJobTraceParent()), Telemetry.TraceIdOf(Telemetry.NewJobTraceParent()));
    }
}
