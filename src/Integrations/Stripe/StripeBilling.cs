using Microsoft.Extensions.DependencyInjection;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using Polly.CircuitBreaker;
using Polly.Timeout;
using Stripe.Billing;
using Stripe.Checkout;
using Stripe;
using PortalSessionCreateOptions = Stripe.BillingPortal.SessionCreateOptions;

namespace FentaWeb.Integrations.Stripe;

/// <summary>
/// FENTA_STRIPE_*: the secret key, the webhook endpoint's secret, the price of each paid plan, the metered prices its
/// overage is billed at (extra Checkout line items) and the meter event name of each metered resource.
/// </summary>
public sealed record StripeOptions(Uri BaseUrl, string SecretKey, string? WebhookSecret, IReadOnlyDictionary<string, string> PlanPrices, TimeSpan Timeout,
    IReadOnlyDictionary<string, IReadOnlyList<string>> OveragePrices, IReadOnlyDictionary<string, string> MeterEventNames)
{
    /// <summary>The meter event names used unless FENTA_STRIPE_METER_* says otherwise (docs/api-guide.md: the meters to create in Stripe).</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultMeterEventNames = new Dictionary<string, string>
    {
        [UsageResources.LlmTokens] = "fenta_llm_tokens",
        [UsageResources.KaiCredits] = "fenta_kai_credits",
        [UsageResources.RenderSeconds] = "fenta_render_seconds",
    };

    private static readonly string[] PaidPlans = ["starter", "pro"];

    public static StripeOptions? FromSettings(Func<string, string?> setting)
    {
        if (setting("FENTA_STRIPE_SECRET_KEY") is not { Length: > 0 } secretKey) return null;
        string Upper(string name) => name.ToUpperInvariant();
        return new StripeOptions(new Uri(setting("FENTA_STRIPE_BASE_URL") is { Length: > 0 } baseUrl ? baseUrl : "https://api.stripe.com/"), secretKey,
            setting("FENTA_STRIPE_WEBHOOK_SECRET"),
            PaidPlans.Select(plan => (plan, price: setting($"FENTA_STRIPE_PRICE_{Upper(plan)}")))
                .Where(p => p.price is { Length: > 0 }).ToDictionary(p => p.plan, p => p.price!),
            TimeSpan.FromSeconds(30),
            // Comma-separated price ids, e.g. "price_tokens,price_credits,price_seconds"; absent: checkout sells the plan price alone.
            PaidPlans.ToDictionary(plan => plan, plan => (IReadOnlyList<string>)(setting($"FENTA_STRIPE_OVERAGE_PRICES_{Upper(plan)}") ?? "")
                .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
            DefaultMeterEventNames.ToDictionary(d => d.Key, d => setting($"FENTA_STRIPE_METER_{Upper(d.Key)}") is { Length: > 0 } name ? name : d.Value));
    }

    /// <summary>The plan a Stripe price id stands for, or null for a price this deployment does not sell.</summary>
    public string? PlanOfPrice(string? priceId) => PlanPrices.FirstOrDefault(p => p.Value == priceId).Key;

    /// <summary>The metered prices a plan's overage is billed at (none configured: none).</summary>
    public IReadOnlyList<string> OveragePricesOf(string plan) => OveragePrices.TryGetValue(plan, out var prices) ? prices : [];
}

/// <summary>A Checkout or Billing Portal session: where to send the user.</summary>
public sealed record StripeSession(string Id, string Url);

/// <summary>What became of a meter event: Stripe recorded it now, or it held one with the same identifier already.</summary>
public enum MeterEventOutcome { Recorded, AlreadyRecorded }

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

    /// <param name="meteredPriceIds">
    /// The plan's overage prices: metered prices take no quantity (Stripe bills what the meter events add up to), so the
    /// subscription carries them from the start and each invoice shows the overage beside the plan.
    /// </param>
    public async Task<StripeSession> CreateCheckoutSessionAsync(string orgId, string customerId, string priceId, IReadOnlyList<string> meteredPriceIds,
        string successUrl, string cancelUrl, string idempotencyKey, CancellationToken ct)
    {
        var session = await CallAsync(token => _stripe.V1.Checkout.Sessions.CreateAsync(new SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customerId,
            LineItems = [new SessionLineItemOptions { Price = priceId, Quantity = 1 }, .. meteredPriceIds.Select(metered => new SessionLineItemOptions { Price = metered })],
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

    /// <summary>
    /// Reports usage as a Billing Meter event. <paramref name="identifier"/> names the usage once and for all: it is the
    /// event's identifier, which Stripe keeps unique (for at least 24 hours), and the Idempotency-Key derives from it and the value, so a
    /// resend (a retry, a host that died before recording the answer) replays the first answer or is refused as a
    /// duplicate; either way Stripe counts the usage once. <paramref name="at"/> is when the usage happened (Stripe takes
    /// events of the last 35 days and puts each in the billing period its timestamp falls in).
    /// </summary>
    /// <returns>Recorded now, or already recorded by an earlier send of the same identifier.</returns>
    public Task<MeterEventOutcome> ReportUsageAsync(string eventName, string customerId, decimal value, string identifier, DateTimeOffset at, CancellationToken ct) =>
        CallAsync(async token =>
        {
            // Meter payload values are strings; a decimal point, never a culture's comma.
            var quantity = value.ToString("0.##########", CultureInfo.InvariantCulture);
            try
            {
                await _stripe.V1.Billing.MeterEvents.CreateAsync(new MeterEventCreateOptions
                {
                    EventName = eventName,
                    Identifier = identifier,
                    Timestamp = at.UtcDateTime,
                    Payload = new() { ["stripe_customer_id"] = customerId, ["value"] = quantity },
                    // The value is part of the key: should a resend ever carry another value, Stripe refuses it for its
                    // identifier (taken as recorded) instead of an idempotency_error that would stop the org's reports for a day.
                }, new RequestOptions { IdempotencyKey = $"meter_event:{identifier}:{quantity}" }, token);
                return MeterEventOutcome.Recorded;
            }
            catch (StripeException e) when (IsDuplicateIdentifier(e, identifier))
            {
                return MeterEventOutcome.AlreadyRecorded;
            }
        }, ct);

    /// <summary>
    /// Stripe's refusal of a meter event whose identifier it already holds. Its documentation promises the uniqueness but
    /// not the answer's shape; what Stripe sends (and integrations match on) is a 400 invalid_request_error "An event
    /// already exists with identifier {identifier}." without an error code. The refusal must name our identifier (in its
    /// message, or as its param), so that no other 400 is mistaken for it.
    /// </summary>
    private static bool IsDuplicateIdentifier(StripeException e, string identifier) =>
        e.HttpStatusCode == HttpStatusCode.BadRequest && e.StripeError is { Type: "invalid_request_error" } error
        && (error.Code == "resource_already_exists" || error.Message?.Contains("already exists", StringComparison.OrdinalIgnoreCase) == true)
        && (error.Message?.Contains(identifier, StringComparison.Ordinal) == true || error.Param == "identifier");

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

public static class StripeRegistration
{
    /// <summary>
    /// Stripe, when configured, in either app: its options, the SDK's client through the "stripe" HttpClient with the
    /// provider resilience pipeline (every create carries an Idempotency-Key, so a POST Stripe failed may be sent again
    /// without making a second object or event).
    /// </summary>
    public static IServiceCollection AddStripeBilling(this IServiceCollection services, StripeOptions? options)
    {
        if (options is null) return services;
        services.AddSingleton(options);
        services.AddHttpClient<StripeBilling>(StripeBilling.HttpClientName).AddProviderResilience(options.Timeout, postsCreateNothing: true);
        return services;
    }
}
