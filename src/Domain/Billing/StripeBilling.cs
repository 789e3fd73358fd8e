using System.Net;
using System.Net.Http.Headers;
using FentaWeb.Domain.Engine;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Stripe;
using Stripe.Checkout;
using PortalSessionCreateOptions = Stripe.BillingPortal.SessionCreateOptions;

namespace FentaWeb.Domain.Billing;

/// <summary>FENTA_STRIPE_*: the secret key, the webhook endpoint's secret and the price of each paid plan.</summary>
public sealed record StripeOptions(Uri BaseUrl, string SecretKey, string? WebhookSecret, IReadOnlyDictionary<string, string> PlanPrices, TimeSpan Timeout)
{
    public static StripeOptions? FromSettings(Func<string, string?> setting) =>
        setting("FENTA_STRIPE_SECRET_KEY") is { Length: > 0 } secretKey
            ? new StripeOptions(new Uri(setting("FENTA_STRIPE_BASE_URL") is { Length: > 0 } baseUrl ? baseUrl : "https://api.stripe.com/"), secretKey,
                setting("FENTA_STRIPE_WEBHOOK_SECRET"),
                new Dictionary<string, string?> { ["starter"] = setting("FENTA_STRIPE_PRICE_STARTER"), ["pro"] = setting("FENTA_STRIPE_PRICE_PRO") }
                    .Where(p => p.Value is { Length: > 0 }).ToDictionary(p => p.Key, p => p.Value!), TimeSpan.FromSeconds(30))
            : null;

    /// <summary>The plan a Stripe price id stands for, or null for a price this deployment does not sell.</summary>
    public string? PlanOfPrice(string? priceId) => PlanPrices.FirstOrDefault(p => p.Value == priceId).Key;
}

/// <summary>A Checkout or Billing Portal session: where to send the user.</summary>
public sealed record StripeSession(string Id, string Url);

/// <summary>
/// The few Stripe calls billing needs, made with Stripe.net at the API version it is built for
/// (<see cref="StripeConfiguration.ApiVersion"/>). Every create carries an Idempotency-Key, so a retried request
/// cannot make a second customer or session; Stripe's failures become <see cref="ProviderException"/>s.
/// </summary>
public sealed class StripeBilling
{
    /// <summary>The IHttpClientFactory client the SDK sends through, where the resilience pipeline attaches.</summary>
    public const string HttpClientName = "stripe";

    private readonly StripeClient _stripe;
    private readonly TimeSpan _timeout;

    public StripeBilling(HttpClient http, StripeOptions options)
    {
        _timeout = options.Timeout;
        _stripe = new StripeClient(new StripeClientOptions
        {
            ApiKey = options.SecretKey,
            // Stripe.net appends "/v1/…" to the base as it is, so a trailing slash would double it.
            ApiBase = options.BaseUrl.AbsoluteUri.TrimEnd('/'),
            // Retries belong to the "stripe" client's pipeline, in one place, not also inside the SDK. Telemetry would
            // write an id file under the home directory and report latencies to Stripe: a server needs neither.
            HttpClient = new SystemNetHttpClient(http, maxNetworkRetries: 0, enableTelemetry: false),
        });
    }

    public Task<Customer> CreateCustomerAsync(string orgId, string name, string? email, CancellationToken ct) =>
        CallAsync(token => _stripe.V1.Customers.CreateAsync(new CustomerCreateOptions
        {
            Name = name, Email = email, Metadata = new() { ["org_id"] = orgId },
        }, new RequestOptions { IdempotencyKey = $"customer:{orgId}" }, token), ct);

    public async Task<StripeSession> CreateCheckoutSessionAsync(string orgId, string customerId, string priceId, string successUrl, string cancelUrl,
        string idempotencyKey, CancellationToken ct)
    {
        var session = await CallAsync(token => _stripe.V1.Checkout.Sessions.CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customerId,
            LineItems = [new SessionLineItemOptions { Price = priceId, Quantity = 1 }],
            SuccessUrl = successUrl,
            CancelUrl = cancelUrl,
            ClientReferenceId = orgId,
            Metadata = new() { ["org_id"] = orgId },
            // The subscription's own metadata is what its webhook events carry back to the org.
            SubscriptionData = new SessionSubscriptionDataOptions { Metadata = new() { ["org_id"] = orgId } },
        }, new RequestOptions { IdempotencyKey = idempotencyKey }, token), ct);
        return new StripeSession(session.Id, session.Url);
    }

    public async Task<StripeSession> CreatePortalSessionAsync(string customerId, string returnUrl, CancellationToken ct)
    {
        var session = await CallAsync(token => _stripe.V1.BillingPortal.Sessions.CreateAsync(new PortalSessionCreateOptions
        {
            Customer = customerId, ReturnUrl = returnUrl,
        }, requestOptions: null, token), ct);
        return new StripeSession(session.Id, session.Url);
    }

    /// <summary>Calls Stripe through the "stripe" client's pipeline (its timeouts, retries and breaker); failures become provider errors.</summary>
    private async Task<T> CallAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call(ct);
        }
        catch (TimeoutRejectedException)
        {
            throw new ProviderException("STRIPE_TIMEOUT", $"Stripe did not answer within {_timeout.TotalSeconds:0} s.");
        }
        catch (BrokenCircuitException e)
        {
            throw new ProviderException("STRIPE_UNAVAILABLE", "Stripe keeps failing; calls to it are paused for a while.", retryAfter: e.RetryAfter ?? ProviderResilience.BreakDuration);
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException("STRIPE_UNREACHABLE", $"Stripe could not be reached: {e.Message}");
        }
        catch (StripeException e)
        {
            throw Describe(e);
        }
    }

    private static ProviderException Describe(StripeException e)
    {
        var message = e.StripeError?.Param is { } param ? $"{e.Message} (param {param})" : e.Message;
        var status = e.HttpStatusCode;
        return status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ProviderException("STRIPE_UNAUTHORIZED", $"Stripe refused the secret key (FENTA_STRIPE_SECRET_KEY): {message}", permanent: true),
            HttpStatusCode.TooManyRequests => new ProviderException("STRIPE_RATE_LIMITED", $"Stripe is rate limiting: {message}",
                retryAfter: RetryAfter(e.StripeResponse?.Headers) ?? TimeSpan.FromSeconds(2)),
            >= HttpStatusCode.InternalServerError => new ProviderException("STRIPE_UNAVAILABLE", $"Stripe failed ({(int)status}): {message}"),
            _ => new ProviderException("STRIPE_REJECTED", $"Stripe rejected the request ({(int)status}): {message}", permanent: true),
        };
    }

    /// <summary>Stripe's Retry-After (seconds or an HTTP date) as a delay.</summary>
    private static TimeSpan? RetryAfter(HttpResponseHeaders? headers) => headers?.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };
}
