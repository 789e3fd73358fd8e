using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace FentaWeb;

/// <summary>
/// OpenTelemetry in a Function app's worker (both apps compile this file: Functions.Orchestrations links it).
/// </summary>
internal static class FunctionsWorkerTelemetry
{
    /// <summary>
    /// The worker's defaults (the Functions host's trace context and resource attributes on the worker's telemetry, and
    /// the host told not to export the worker's logs itself), with the invocations' attributes on OpenTelemetry schema
    /// 1.17.0. <c>UseFunctionsWorkerDefaults</c> asks for 1.37.0, whose log scope lacks the
    /// <c>AzureFunctions_InvocationId</c> key the worker's gRPC log writer takes each line's invocation id from, and the
    /// host drops a worker line that names no running invocation: with telemetry on, none of the worker's logs reached
    /// the host's log (console, log stream; FunctionsHostTests' log check). Azure/azure-functions-dotnet-worker#3489.
    /// </summary>
    public static OpenTelemetryBuilder UseFunctionsWorkerDefaultsWithHostLogs(this OpenTelemetryBuilder otel)
    {
        otel.UseFunctionsWorkerDefaults();
        otel.Services.Configure<WorkerOptions>(worker => worker.Capabilities["WorkerOpenTelemetrySchemaVersion"] = "1.17.0");
        return otel;
    }
}
