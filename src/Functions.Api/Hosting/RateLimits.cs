using System.Security.Claims;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// A fixed one-minute window per API key, else per user, else per client address. Counters live in this
/// process: with N instances behind a balancer the effective limit is up to N times the setting.
/// </summary>
public static class RateLimits
{
    public static IServiceCollection AddFentaRateLimits(this IServiceCollection services, FentaOptions options) =>
        services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                if (http.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null)
                    return RateLimitPartition.GetNoLimiter("unlimited");
                return RateLimitPartition.GetFixedWindowLimiter(PartitionKey(http), _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.RateLimitPerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                });
            });
            limiter.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var problem = Titles.Problem(429, "RATE_LIMITED", $"More than {options.RateLimitPerMinute} requests in a minute; retry after {seconds} s.");
                await http.RequestServices.GetRequiredService<IProblemDetailsService>()
                    .WriteAsync(new ProblemDetailsContext { HttpContext = http, ProblemDetails = problem });
            };
        });

    private static string PartitionKey(HttpContext http)
    {
        var user = http.User;
        if (user.FindFirstValue(Caller.ApiKeyClaim) is { } keyId) return $"key:{keyId}";
        if (user.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId) return $"user:{userId}";
        return $"ip:{http.Connection.RemoteIpAddress}";
    }
}
