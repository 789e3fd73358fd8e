namespace FentaWeb.Domain.Common;

/// <summary>
/// An external service said no. Activities just let it propagate: the engine turns it into the outcome it names. <see cref="Permanent"/> failures (bad key, rejected input) are not retried;
/// <see cref="RetryAfter"/> means "ask again later" (rate limits) and does not use up an attempt.
/// </summary>
public sealed class ProviderException(string code, string message, bool permanent = false, TimeSpan? retryAfter = null) : Exception(message)
{
    public string Code { get; } = code;
    public bool Permanent { get; } = permanent;
    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The Retry-After header as a delay (seconds or an HTTP date), else <paramref name="fallback"/>.</summary>
    public static TimeSpan RetryAfterOf(HttpResponseMessage response, TimeSpan fallback)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        return fallback;
    }
}
