using FentaWeb.Api.Hosting;
using FentaWeb.Api.OpenApiDocument;
using FentaWeb.LocalHosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Azure.Functions.Worker;
using FentaWeb.Runs;

namespace FentaWeb.Api;

/// <summary>The API's two hosts, one set of functions: the Function app on Azure, Kestrel everywhere else.</summary>
public static class FentaApi
{
    /// <summary>
    /// The Function app: the Functions host routes requests to the HTTP-trigger functions, each through the gate; the durable
    /// client comes from each function's <c>[DurableClient]</c> binding (the orchestrations' task hub).
    /// </summary>
    public static IHost BuildFunctionsHost(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.UseMiddleware<GateMiddleware>();
        builder.Services.Configure<WorkerOptions>(worker => worker.InputConverters.RegisterAt<DurableClientConverter>(0));
        builder.Services.AddFentaServices(FentaOptions.FromConfiguration(builder.Configuration));
        // The Functions host's trace context and resource attributes on the worker's telemetry (host.json: telemetryMode).
        builder.Services.AddFentaTelemetry(builder.Configuration, "fenta-api", otel => otel.UseFunctionsWorkerDefaultsWithHostLogs());
        return builder.Build();
    }

    /// <summary>The same functions on Kestrel (./run.sh, tests): routes from their attributes, a client-only sidecar on the task hub.</summary>
    public static WebApplication BuildLocal(string[] args, IDictionary<string, string?>? overrides = null, Action<IServiceCollection>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var options = FentaOptions.FromConfiguration(builder.Configuration);
        builder.Services.AddFentaServices(options);
        builder.Services.AddFentaTelemetry(builder.Configuration, "fenta-api");
        // A client of the orchestrations' task hub only: the API starts, queries, wakes and stops runs, never runs them.
        builder.Services.AddLocalTaskHubClient(TaskHubOptions.FromSettings(key => builder.Configuration[key]));
        builder.Services.AddFentaOpenApi();
        builder.Services.RouteByPathAndVerbOnly();
        builder.WebHost.ConfigureKestrel(kestrel => RequestLimits.ParseGenerously(kestrel.Limits));
        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseRequestLog(); // one line per request, credentials in paths written by name
        app.UseRequestLimits(); // an overlong URL or too many header bytes is a problem+json, not Kestrel's empty 414/431
        app.UseStatusCodePages(); // a verb no function takes (TRACE, …) is a problem+json too; the catch-all answers the rest
        app.MapHttpFunctions();
        return app;
    }
}
