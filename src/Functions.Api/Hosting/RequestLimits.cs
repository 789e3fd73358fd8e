using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// The local host's limits on a request's target and headers, answered as problem+json. Kestrel rejects what passes its own
/// limits while parsing, before any middleware runs, and writes an empty 414/431; so Kestrel's limits are set well above
/// these and the rejection happens here, where a body can be written. (On Azure the Functions host applies its own limits
/// and answers those itself.) Only a request past Kestrel's generous limits, or one that is not HTTP at all, still gets
/// Kestrel's empty answer.
/// </summary>
public static class RequestLimits
{
    /// <summary>The longest request target (path and query) answered; Kestrel's own default.</summary>
    public const int MaxTargetLength = 8 * 1024;
    /// <summary>The most header bytes (names and values) answered; Kestrel's own default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;
    public const int MaxHeaderCount = 100;

    /// <summary>Kestrel parses up to this much, so the middleware sees what passes the limits above and can say so.</summary>
    public static void ParseGenerously(KestrelServerLimits limits)
    {
        limits.MaxRequestLineSize = 16 * MaxTargetLength;
        limits.MaxRequestHeadersTotalSize = 16 * MaxHeaderBytes;
        limits.MaxRequestHeaderCount = 10 * MaxHeaderCount;
    }

    /// <summary>Answers 414 or 431 problem+json for a request over the limits, before routing; every answer says nosniff.</summary>
    public static IApplicationBuilder UseRequestLimits(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        http.Response.Headers.XContentTypeOptions = "nosniff";
        if (Violation(http.Request) is { } problem)
        {
            http.Response.StatusCode = problem.Status;
            await TypedResults.Problem(Titles.Problem(problem.Status, problem.Code, problem.Detail)).ExecuteAsync(http);
            return;
        }
        await next(http);
    });

    private static (int Status, string Code, string Detail)? Violation(HttpRequest request)
    {
        var target = (request.PathBase.Value?.Length ?? 0) + (request.Path.Value?.Length ?? 0) + (request.QueryString.Value?.Length ?? 0);
        if (target > MaxTargetLength)
            return (414, "URI_TOO_LONG", $"The request's path and query are {target} characters; at most {MaxTargetLength} are accepted.");
        if (request.Headers.Count > MaxHeaderCount)
            return (431, "HEADERS_TOO_LARGE", $"The request has {request.Headers.Count} headers; at most {MaxHeaderCount} are accepted.");
        var bytes = request.Headers.Sum(h => h.Key.Length + h.Value.Sum(v => v?.Length ?? 0));
        return bytes > MaxHeaderBytes
            ? (431, "HEADERS_TOO_LARGE", $"The request's headers are {bytes} bytes; at most {MaxHeaderBytes} are accepted.")
            : null;
    }
}
