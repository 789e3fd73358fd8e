using System.Net;
using FentaWeb.Domain.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Polly;

namespace FentaWeb.Integrations.Http;

/// <summary>
/// Retries, timeouts and a circuit breaker for the HttpClient of an external provider (KIE, OpenAI-compatible
/// services, Pexels), from the HttpClientFactory's standard resilience handler, so no client loops on its own.
/// A retry here is a quick second try at a blip (a 5xx, a dropped connection): a rate limit (429) is never
/// retried here but handed to the engine, which waits out its Retry-After without holding a worker, and a failure
/// that outlasts the retries becomes the node's failure, which the node's own retry policy handles.
/// </summary>
public static class ProviderResilience
{
    /// <summary>Tries a request gets at most: the first and two retries.</summary>
    public const int Attempts = 3;

    /// <summary>How long calls stay paused once the breaker opens.</summary>
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(30);

    /// <param name="attemptTimeout">How long one try may wait for the answer's headers (the provider's configured timeout).</param>
    /// <param name="postsCreateNothing">
    /// True where a POST only computes something (a chat completion, speech, a transcription): one that the service
    /// failed (5xx, a dropped connection) is sent again, while one that timed out is not (a model that was slow is
    /// usually slow again, and the node's retry has its own backoff). False where a POST may have created something
    /// (a KIE task, billed): only a POST that never reached the service is sent again. Reads are always retried.
    /// </param>
    public static IHttpStandardResiliencePipelineBuilder AddProviderResilience(this IHttpClientBuilder http, TimeSpan attemptTimeout, bool postsCreateNothing)
    {
        // The pipeline's timeouts govern; HttpClient's own 100 s would otherwise cut a longer configured timeout short.
        http.ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan);
        return http.AddStandardResilienceHandler(options =>
        {
            options.AttemptTimeout.Timeout = attemptTimeout;
            // Every try may take its full time; the backoff between them is well under a second or two.
            options.TotalRequestTimeout.Timeout = attemptTimeout * Attempts + TimeSpan.FromSeconds(5);

            options.Retry.MaxRetryAttempts = Attempts - 1;
            options.Retry.BackoffType = DelayBackoffType.Exponential;
            options.Retry.UseJitter = true;
            options.Retry.Delay = TimeSpan.FromMilliseconds(300);
            // A 503 asking for minutes is passed on (as a failed try of the node), not slept through inside an activity.
            options.Retry.ShouldRetryAfterHeader = false;
            options.Retry.ShouldHandle = args => ValueTask.FromResult(MayRetry(args.Outcome, args.Context.GetRequestMessage()?.Method, postsCreateNothing));

            // Opens when half the tries of the last 30 s failed (at least 8 of them); the standard 10 % of 100 tries
            // would never trip at our request rates. The handler insists on sampling over two attempt timeouts.
            options.CircuitBreaker.ShouldHandle = args => ValueTask.FromResult(Transient(args.Outcome));
            options.CircuitBreaker.FailureRatio = 0.5;
            options.CircuitBreaker.MinimumThroughput = 8;
            options.CircuitBreaker.BreakDuration = BreakDuration;
            options.CircuitBreaker.SamplingDuration = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, attemptTimeout.Ticks * 2));
        });
    }

    /// <summary>
    /// Sends through the client's pipeline. What the pipeline gives up on becomes a <see cref="ProviderException"/>:
    /// <c>{code}_UNAVAILABLE</c> with a Retry-After while the breaker is open, <c>{code}_TIMEOUT</c>, <c>{code}_UNREACHABLE</c>.
    /// Answers, errors included, are the caller's to read.
    /// </summary>
    /// <param name="service">The service as a sentence names it ("KIE", "The LLM service").</param>
    public static async Task<HttpResponseMessage> SendToProviderAsync(this HttpClient http, HttpRequestMessage request, HttpCompletionOption completion,
        string code, string service, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, completion, ct);
        }
        catch (BrokenCircuitException e)
        {
            throw new ProviderException($"{code}_UNAVAILABLE", $"{service} keeps failing; calls to it are paused for a while.", retryAfter: e.RetryAfter ?? BreakDuration);
        }
        catch (TimeoutRejectedException)
        {
            throw new ProviderException($"{code}_TIMEOUT", $"{service} did not answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException($"{code}_UNREACHABLE", $"{service} could not be reached: {e.Message}");
        }
    }

    /// <summary>A failure another try may not see: a 5xx (but 501, which will not change), a 408, a timeout, a connection that failed.</summary>
    public static bool Transient(Outcome<HttpResponseMessage> outcome) =>
        outcome.Exception is HttpRequestException or TimeoutRejectedException
        || outcome.Result is { StatusCode: var status } && (status == HttpStatusCode.RequestTimeout || (int)status >= 500 && status != HttpStatusCode.NotImplemented);

    private static bool MayRetry(Outcome<HttpResponseMessage> outcome, HttpMethod? method, bool postsCreateNothing)
    {
        if (!Transient(outcome)) return false;
        if (NeverSent(outcome.Exception) || method == HttpMethod.Get || method == HttpMethod.Head) return true;
        return postsCreateNothing && outcome.Exception is not TimeoutRejectedException;
    }

    // Name resolution, connecting and the TLS handshake fail before a byte of the request is sent.
    private static bool NeverSent(Exception? e) => e is HttpRequestException
    {
        HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError,
    };
}
