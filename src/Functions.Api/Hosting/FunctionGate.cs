using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using FentaWeb.Api.Identity;
using FentaWeb.Domain.Common;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// What every call of an HTTP function goes through, on Azure (from <see cref="GateMiddleware"/>) and locally (from
/// <see cref="LocalFunctions"/>): the caller (JWT or API key, org by <c>X-Org-Id</c>), the shared rate limit, the method's
/// access rule, the function's arguments, then the function itself; any failure becomes the one problem+json mapping.
/// </summary>
public sealed class FunctionGate(Authenticator authenticator, RateLimits limits, IOptions<JsonOptions> json, FentaOptions options, ILogger<FunctionGate> logger)
{
    private static readonly ConcurrentDictionary<Type, (ConstructorInfo Constructor, string[] Names)> QueryRecords = new();

    /// <summary>The API's JSON options with the input depth limit (<see cref="InputText.MaxDepth"/>).</summary>
    private readonly JsonSerializerOptions _input = new(json.Value.SerializerOptions) { MaxDepth = InputText.MaxDepth };

    /// <summary>Returns the function's result, or the problem that stopped it (both <see cref="IResult"/>s the host executes).</summary>
    public async Task<object?> InvokeAsync(HttpContext http, HttpFunction function, Func<ValueTask<DurableTaskClient>> durableClient,
        Func<object?[], Task<object?>> invoke)
    {
        var ct = http.RequestAborted;
        // Every answer is JSON (or a stream) of the declared type; no browser may read it as anything else.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            var caller = function.IsAnonymous ? null : await authenticator.AuthenticateAsync(http.Request, ct);
            // The authenticator already read a signed-in caller's address; only an anonymous call needs it read here.
            await limits.CheckAsync(function, caller, caller?.ClientAddress ?? Caller.ClientAddressOf(http.Request), ct);
            if (caller is not null)
            {
                caller.Require(function.Access!);
                http.Features.Set(caller);
            }
            var arguments = new object?[function.Parameters.Count];
            for (var i = 0; i < arguments.Length; i++) arguments[i] = await BindAsync(http, function.Parameters[i], caller, durableClient);
            return await invoke(arguments);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return Problems.For(http, e, logger);
        }
    }

    private async ValueTask<object?> BindAsync(HttpContext http, HttpFunctionParameter parameter, Caller? caller, Func<ValueTask<DurableTaskClient>> durableClient)
    {
        var request = http.Request;
        var type = parameter.Info.ParameterType;
        return parameter.Source switch
        {
            ParameterSource.Caller => caller,
            ParameterSource.Body => await ReadBodyAsync(request, parameter, http.RequestAborted),
            ParameterSource.Query => Query(request, parameter.Name),
            ParameterSource.QueryRecord => QueryRecord(request, type),
            _ when type == typeof(HttpRequest) => request,
            _ when type == typeof(CancellationToken) => http.RequestAborted,
            _ when type == typeof(DurableTaskClient) => await durableClient(),
            _ => request.RouteValues.TryGetValue(parameter.Name, out var value) ? InputText.Checked(value?.ToString(), parameter.Name) : null,
        };
    }

    /// <summary>
    /// The JSON body with the API's serializer options, read whole up to FENTA_MAX_BODY_BYTES (the Functions host itself
    /// allows 100 MB), so a bad body is a 400 naming the JSON path in both hosts.
    /// </summary>
    private async Task<object?> ReadBodyAsync(HttpRequest request, HttpFunctionParameter parameter, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > options.MaxRequestBodyBytes) throw new BadHttpRequestException("The request body is too large.", StatusCodes.Status413PayloadTooLarge);
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
            return parameter.Optional ? null : throw new ValidationFailedException("body", "a JSON body is required");
        if (request.ContentType is not { } contentType || !(contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) || contentType.Contains("+json", StringComparison.OrdinalIgnoreCase)))
            throw new UnsupportedContentTypeException(request.ContentType ?? "");
        var body = buffer.GetBuffer().AsSpan(0, (int)buffer.Length);
        InputText.CheckJson(body);
        return JsonSerializer.Deserialize(body, parameter.Info.ParameterType, _input)
            ?? (parameter.Optional ? null : throw new ValidationFailedException("body", "a JSON body is required"));
    }

    private static string? Query(HttpRequest request, string name) =>
        request.Query.TryGetValue(name, out var values) ? InputText.Checked(values.ToString(), name) : null;

    /// <summary>An <c>[AsParameters]</c> record: each constructor parameter from the query value it names (<c>[FromQuery(Name)]</c>, else its own name).</summary>
    private static object QueryRecord(HttpRequest request, Type type)
    {
        var (constructor, names) = QueryRecords.GetOrAdd(type, static t =>
        {
            var constructor = t.GetConstructors().Single();
            return (constructor, constructor.GetParameters().Select(HttpFunctions.QueryName).ToArray());
        });
        return constructor.Invoke([.. names.Select(name => Query(request, name))]);
    }
}
