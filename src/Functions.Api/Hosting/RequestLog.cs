using System.Diagnostics;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// One line per request: method, path, status and time, written where each host takes requests (the local pipeline;
/// <see cref="GateMiddleware"/> on Azure). It stands in for ASP.NET Core's own request lines (filtered to warnings in
/// <see cref="Services"/>), which print the raw URL, because a path can carry a credential: the invitation token of
/// <c>POST /v1/invitations/{token}/accept</c> is logged as <c>{token}</c>.
/// </summary>
public static partial class RequestLog
{
    /// <summary>Route values that are credentials.</summary>
    private static readonly string[] SecretRouteValues = ["token"];

    /// <summary>The local host: every request, an unknown route or a refused one too.</summary>
    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app) => app.Use((http, next) =>
    {
        Track(http);
        return next(http);
    });

    private static void Track(HttpContext http)
    {
        var started = Stopwatch.GetTimestamp();
        var logger = LoggerOf(http); // before the request's services are disposed
        http.Response.OnCompleted(() =>
        {
            LogAnswered(logger, http.Request.Method, PathOf(http), http.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// The Functions host: the line for a function's <paramref name="result"/>, written before the result is, because the
    /// worker sends a log line to the host only while its invocation lasts.
    /// </summary>
    public static void Answered(HttpContext http, object? result, long started) =>
        LogAnswered(LoggerOf(http), http.Request.Method, PathOf(http), (result as IStatusCodeHttpResult)?.StatusCode ?? StatusCodes.Status200OK,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds);

    private static ILogger LoggerOf(HttpContext http) => http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RequestLog).FullName!);

    /// <summary>The request's path as it may be logged: every secret route value replaced by its name.</summary>
    public static string PathOf(HttpContext http)
    {
        var path = http.Request.Path.Value ?? "";
        foreach (var name in SecretRouteValues)
        {
            if (http.Request.RouteValues.TryGetValue(name, out var value) && value?.ToString() is { Length: > 0 } secret)
                path = path.Replace(secret, $"{{{name}}}", StringComparison.Ordinal).Replace(Uri.EscapeDataString(secret), $"{{{name}}}", StringComparison.Ordinal);
        }
        return path;
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "{Method} {Path} answered {Status} in {Milliseconds:0} ms")]
    private static partial void LogAnswered(ILogger logger, string method, string path, int status, double milliseconds);
}
