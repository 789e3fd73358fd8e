using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Converters;
using Microsoft.DurableTask.Client;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Lets <see cref="GateMiddleware"/> bind a function's <c>[DurableClient]</c> parameter on its own. The worker's
/// <c>FunctionContext.BindInputAsync</c> converts a binding without its attribute's converter, so the registered JSON
/// converter claims the binding's payload and fails; registered ahead of it, this converter hands a
/// <see cref="DurableTaskClient"/> target to the converter <see cref="DurableClientAttribute"/> declares, as the worker's
/// own binding of that parameter does (the Durable extension registers its orchestration converter the same way).
/// </summary>
public sealed class DurableClientConverter(IServiceProvider services) : IInputConverter
{
    private readonly Lazy<IInputConverter> _declared = new(() => (IInputConverter)ActivatorUtilities.CreateInstance(services,
        typeof(DurableClientAttribute).GetCustomAttribute<InputConverterAttribute>()!.ConverterType));

    public ValueTask<ConversionResult> ConvertAsync(ConverterContext context) =>
        context.TargetType == typeof(DurableTaskClient) ? _declared.Value.ConvertAsync(context) : ValueTask.FromResult(ConversionResult.Unhandled());
}
