using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

namespace FentaWeb.Orchestrations.Functions;

/// <summary>The Function app: the Functions host drives the orchestrations (Durable extension, Azure Storage backend) and the queue trigger.</summary>
public static class FunctionsHost
{
    /// <summary>The Functions host starts its worker with <c>--functions-*</c> arguments and sets FUNCTIONS_WORKER_RUNTIME.</summary>
    public static bool IsHosting(string[] args) =>
        args.Any(a => a.StartsWith("--functions-", StringComparison.Ordinal)) || Environment.GetEnvironmentVariable("FUNCTIONS_WORKER_RUNTIME") is { Length: > 0 };

    public static IHost Build(string[] args)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.Services.AddRunServices(builder.Configuration);
        return builder.Build();
    }
}
