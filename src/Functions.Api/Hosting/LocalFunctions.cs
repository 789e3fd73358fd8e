using System.Reflection;
using FentaWeb.Api.Web;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.DurableTask.Client;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Serves the app's HTTP functions on Kestrel where no Functions host exists (./run.sh, tests, benchmarks): each
/// <see cref="HttpFunction"/> becomes one route with its verbs, its class is created per request from the request's
/// services, and the call goes through the same <see cref="FunctionGate"/> as on Azure. The endpoints carry the method and
/// its attributes, so the OpenAPI document is generated from the function definitions themselves.
/// </summary>
public static class LocalFunctions
{
    public static IEndpointRouteBuilder MapHttpFunctions(this IEndpointRouteBuilder routes)
    {
        foreach (var function in HttpFunctions.All)
        {
            var create = ActivatorUtilities.CreateFactory(function.Method.DeclaringType!, []);
            var invoke = Invoker(function.Method);
            var endpoint = routes.MapMethods("/" + function.Route, function.Verbs, http => ServeAsync(http, function, create, invoke));
            endpoint.WithName(function.Name).WithMetadata(function.Method)
                .WithMetadata([.. function.Method.DeclaringType!.GetCustomAttributes(), .. function.Method.GetCustomAttributes()]);
            // What minimal APIs would record for the same method (parameter sources, body, typed results), for the API document.
            endpoint.Add(builder => RequestDelegateFactory.InferMetadata(function.Method, new RequestDelegateFactoryOptions
            {
                EndpointBuilder = builder,
                ServiceProvider = builder.ApplicationServices,
                RouteParameterNames = [.. ((RouteEndpointBuilder)builder).RoutePattern.Parameters.Select(p => p.Name)],
            }));
        }
        return routes;
    }

    /// <summary>
    /// Kestrel's routing as the Functions host routes: by path and verb only. ASP.NET Core would also route by the body's
    /// content type (AcceptsMatcherPolicy), and then hand every request without one to the catch-all
    /// (<see cref="WebAppFunctions"/>, which takes any) instead of the function that reads a body. The gate checks the body's
    /// type in both hosts (415).
    /// </summary>
    public static IServiceCollection RouteByPathAndVerbOnly(this IServiceCollection services)
    {
        services.Remove(services.Single(d => d.ServiceType == typeof(MatcherPolicy) && d.ImplementationType?.Name == "AcceptsMatcherPolicy"));
        return services;
    }

    private static async Task ServeAsync(HttpContext http, HttpFunction function, ObjectFactory create, Func<object, object?[], Task<object?>> invoke)
    {
        var services = http.RequestServices;
        var result = await services.GetRequiredService<FunctionGate>().InvokeAsync(http, function,
            () => ValueTask.FromResult(services.GetRequiredService<DurableTaskClient>()),
            arguments => invoke(create(services, null), arguments));
        if (result is IResult done) await done.ExecuteAsync(http);
    }

    /// <summary>Calls the method and awaits it if it is asynchronous; exceptions come out unwrapped.</summary>
    private static Func<object, object?[], Task<object?>> Invoker(MethodInfo method)
    {
        var invoker = MethodInvoker.Create(method);
        var returns = method.ReturnType;
        if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
        {
            var awaitResult = typeof(LocalFunctions).GetMethod(nameof(AwaitAsync), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(returns.GetGenericArguments()[0]).CreateDelegate<Func<object?, Task<object?>>>();
            return (target, arguments) => awaitResult(invoker.Invoke(target, arguments.AsSpan()));
        }
        return (target, arguments) => Task.FromResult(invoker.Invoke(target, arguments.AsSpan()));
    }

    private static async Task<object?> AwaitAsync<T>(object? task) => await (Task<T>)task!;
}
