using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Api.Hosting;

/// <summary>The one place exceptions become RFC 9457 problem details, each with a stable <c>code</c>; both hosts' gate uses it.</summary>
public static partial class Problems
{
    public static IResult For(HttpContext http, Exception exception, ILogger logger)
    {
        var (status, code, detail, extensions) = Describe(exception);
        if (status == 500) LogUnhandled(logger, exception, http.Request.Method, RequestLog.PathOf(http));
        var headers = http.Response.Headers;
        switch (exception)
        {
            case ProviderException { RetryAfter: { } wait }: headers.RetryAfter = Seconds(wait); break;
            case RateLimitedException limited: headers.RetryAfter = Seconds(limited.RetryAfter); break;
            case UnauthorizedException { Challenge: { } challenge }: headers.WWWAuthenticate = challenge; break;
        }
        var problem = Titles.Problem(status, code, detail);
        foreach (var (key, value) in extensions) problem.Extensions[key] = value;
        return TypedResults.Problem(problem);
    }

    private static string Seconds(TimeSpan wait) => Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    private static (int Status, string Code, string Detail, Dictionary<string, object?> Extensions) Describe(Exception exception) => exception switch
    {
        ValidationFailedException e => (400, e.Code, e.Message, new() { ["errors"] = e.Errors }),
        NotFoundException e => (404, e.Code, e.Message, []),
        UnauthorizedException e => (401, e.Code, e.Message, []),
        ForbiddenException e => (403, e.Code, e.Message, new() { ["required_scope"] = e.RequiredScope, ["required_role"] = e.RequiredRole }),
        ConflictException e => (e.Code == "PRECONDITION_FAILED" ? 412 : 409, e.Code, e.Message, []),
        QuotaExceededException e => (402, e.Code, e.Message, new()
        {
            ["resource"] = e.Line.Resource, ["limit"] = e.Line.Limit, ["used"] = e.Line.Used, ["resets_at"] = e.ResetsAt,
        }),
        BudgetExceededException e => (402, e.Code, e.Message, new() { ["estimate"] = e.Estimate }),
        // Two requests raced to write the same unique thing (a workflow's next version, an email, an invitation): one wins,
        // the other is told to look again rather than shown a 500.
        DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } e } => Concurrent(e),
        PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } e => Concurrent(e),
        // An external service (Pexels, …) that failed a request made on the caller's behalf: busy says when to come back.
        ProviderException e => (e.RetryAfter is null ? 502 : 503, e.Code, e.Message, []),
        RateLimitedException e => (429, "RATE_LIMITED", e.Message, []),
        UnsupportedContentTypeException e => (415, "UNSUPPORTED_MEDIA_TYPE", e.Message, []),
        BadHttpRequestException { StatusCode: 413 } => (413, "PAYLOAD_TOO_LARGE", "The request body is larger than this API accepts.", []),
        JsonException json => InvalidJson(json),
        BadHttpRequestException e => (e.StatusCode, e.StatusCode == 400 ? "BAD_REQUEST" : Titles.Code(e.StatusCode), e.Message, []),
        _ => (500, "INTERNAL_ERROR", "Something went wrong on our side; the error was logged.", []),
    };

    private static (int, string, string, Dictionary<string, object?>) Concurrent(PostgresException e) =>
        (409, "CONFLICT", "Another request wrote the same thing at the same moment and won; read it again and retry if still needed.",
            new() { ["constraint"] = e.ConstraintName });

    /// <summary>A body that does not parse names the JSON path where it broke, e.g. <c>graph.nodes[0].params</c>.</summary>
    private static (int, string, string, Dictionary<string, object?>) InvalidJson(JsonException json)
    {
        var field = string.IsNullOrEmpty(json.Path) || json.Path == "$" ? "body" : json.Path.TrimStart('$', '.');
        var message = json.Message switch
        {
            var m when m.Contains("could not be mapped", StringComparison.Ordinal) => "is not a known field",
            var m when m.Contains("could not be converted", StringComparison.Ordinal) => "has the wrong JSON type",
            var m when m.Contains("missing required properties", StringComparison.Ordinal) => "is missing required fields",
            var m when m.Contains("maximum configured depth", StringComparison.Ordinal) => $"nests deeper than {InputText.MaxDepth} levels",
            var m => $"is not valid JSON ({m.Split(" Path:")[0].Split(" LineNumber:")[0]})",
        };
        return (400, "VALIDATION_FAILED", $"{field}: {message}", new() { ["errors"] = new[] { new FieldError(field, message) } });
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}

/// <summary>A body that is not JSON.</summary>
public sealed class UnsupportedContentTypeException(string contentType)
    : Exception($"Send the body as application/json, not {(contentType.Length == 0 ? "without a Content-Type" : contentType)}.");

public static class Titles
{
    public static string For(int status) => status switch
    {
        400 => "The request is invalid",
        401 => "Authentication required",
        403 => "Not allowed",
        404 => "Not found",
        405 => "Method not allowed",
        409 => "Conflict",
        410 => "Gone",
        412 => "Precondition failed",
        413 => "Payload too large",
        414 => "URI too long",
        415 => "Unsupported media type",
        431 => "Request headers too large",
        402 => "Plan limit reached",
        429 => "Too many requests",
        502 => "An external service failed",
        503 => "Service unavailable",
        _ => status >= 500 ? "Internal error" : "Request failed",
    };

    public static string Code(int status) => status switch
    {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        414 => "URI_TOO_LONG",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        431 => "HEADERS_TOO_LARGE",
        429 => "RATE_LIMITED",
        503 => "UNAVAILABLE",
        _ => status >= 500 ? "INTERNAL_ERROR" : "REQUEST_FAILED",
    };

    /// <summary>The problem for a status, code and detail; everything that writes one by hand (outside the exception handler) uses this.</summary>
    public static ProblemDetails Problem(int status, string code, string detail)
    {
        var problem = new ProblemDetails { Status = status, Title = For(status), Detail = detail };
        problem.Extensions["code"] = code;
        return problem;
    }

    /// <summary>Fills in title, code and trace id for problems the framework writes itself (404 route, 405, 415).</summary>
    public static void Complete(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Title ??= For(status);
        problem.Extensions.TryAdd("code", Code(status));
        problem.Extensions["trace_id"] = TraceId(context.HttpContext);
    }

    /// <summary>
    /// The request's W3C trace id (the client's <c>traceparent</c>, or the one its span started), what support searches the
    /// logs and traces by; ASP.NET Core's own request id where there is no span.
    /// </summary>
    private static string TraceId(HttpContext http) =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } span ? span.TraceId.ToHexString() : http.TraceIdentifier;
}
