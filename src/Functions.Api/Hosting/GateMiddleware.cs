using System.Diagnostics;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Context.Features;
using Microsoft.Azure.Functions.Worker.Middleware;
using Microsoft.DurableTask.Client;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// On Azure: runs every HTTP function through the <see cref="FunctionGate"/> (ASP.NET Core middleware does not run
/// there). The gate binds the arguments, handed to the worker's executor in place of its own input binding; the
/// function's result, or the gate's problem, becomes the invocation result the ASP.NET Core integration writes.
/// </summary>
public sealed class GateMiddleware : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (!HttpFunctions.ByName.TryGetValue(context.FunctionDefinition.Name, out var function) || context.GetHttpContext() is not { } http)
        {
            await next(context);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var gate = context.InstanceServices.GetRequiredService<FunctionGate>();
        var result = await gate.InvokeAsync(http, function, () => DurableClientAsync(context), async arguments =>
        {
            context.Features.Set<IFunctionInputBindingFeature>(new BoundArguments(arguments));
            await next(context);
            return context.GetInvocationResult().Value;
        });
        context.GetInvocationResult().Value = result;
        RequestLog.Answered(http, result, started);
    }

    /// <summary>The <c>[DurableClient]</c> binding, converted by the Durable extension's converter (see <see cref="DurableClientConverter"/>).</summary>
    private static async ValueTask<DurableTaskClient> DurableClientAsync(FunctionContext context)
    {
        var binding = context.FunctionDefinition.InputBindings.Values.Single(b => b.Type.Equals("durableClient", StringComparison.OrdinalIgnoreCase));
        return (await context.BindInputAsync<DurableTaskClient>(binding)).Value
            ?? throw new InvalidOperationException($"Function {context.FunctionDefinition.Name}: the durable client binding gave no client.");
    }

    private sealed class BoundArguments(object?[] arguments) : IFunctionInputBindingFeature
    {
        public ValueTask<FunctionInputBindingResult> BindFunctionInputAsync(FunctionContext context) => ValueTask.FromResult(new FunctionInputBindingResult(arguments));
    }
}
