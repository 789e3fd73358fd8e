using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

namespace FentaWeb.Orchestrations.Functions;

/// <summary>The Function app: the Functions host drives the orchestrations (Durable extension, Azure Storage backend) and the queue trigger.</summary>
public static class FunctionsHost
{
    public static IHost Build(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.Services.AddRunServices(builder.Configuration);
        builder.Services.AddFentaTelemetry(builder.Configuration, "fenta-orchestrations", otel => otel.UseFunctionsWorkerDefaultsWithHostLogs());
        return builder.Build();
    }
}
