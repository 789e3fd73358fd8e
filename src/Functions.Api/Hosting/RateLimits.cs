using System.Net;
using FentaWeb.Domain.Identity;
using Npgsql;

namespace FentaWeb.Api.Hosting;

/// <summary>Over a rate limit: answered 429 with the seconds left in the window as Retry-After.</summary>
public sealed class RateLimitedException(string bucket, int limit, TimeSpan retryAfter)
    : Exception($"More than {limit} requests in a minute for this {bucket}; retry after {Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds))} s.")
{
    public TimeSpan RetryAfter { get; } = retryAfter;
}

/// <summary>
/// Fixed one-minute windows per org and per user (per client address before sign-in), counted in PostgreSQL so every
/// instance shares one budget. Keys are not buckets of their own: minting more API keys does not buy more requests.
/// </summary>
public sealed class RateLimits(NpgsqlDataSource db, FentaOptions options, TimeProvider clock)
{
    private sealed record Bucket(string Key, string Kind, int Limit);

    public async Task CheckAsync(HttpFunction function, Caller? caller, IPAddress? client, CancellationToken ct)
    {
        if (function.RateLimit == RateLimitClass.Unlimited) return;
        Bucket[] buckets = function.RateLimit == RateLimitClass.SharePage
            ? [new($"share:{client}", "client address", options.ShareViewsPerMinute)]
            : caller is null
            ? [new($"ip:{client}", "client address", options.RateLimitPerMinute)]
            : [new($"org:{caller.OrgId}", "organization", options.OrgRateLimitPerMinute), new($"user:{caller.UserId}", "user", options.RateLimitPerMinute)];
        var now = clock.GetUtcNow();
        var hits = await RateLimitWindows.HitAsync(db, [.. buckets.Select(b => b.Key)], now, ct);
        if (buckets.FirstOrDefault(b => hits[b.Key] > b.Limit) is { } over)
            throw new RateLimitedException(over.Kind, over.Limit, RateLimitWindows.WindowStart(now) + RateLimitWindows.Window - now);
    }
}
