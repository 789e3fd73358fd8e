using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using FentaWeb.Domain.Engine;

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

/// <summary>
/// The few Stripe calls billing needs, to Stripe's documented contract: form-encoded POSTs with the secret key as a
/// bearer token, an Idempotency-Key on every create (so a retried request cannot make a second customer or session),
/// and <c>{ error: { type, code, message, param } }</c> errors mapped to typed outcomes.
/// </summary>
public sealed class StripeClient(HttpClient http, StripeOptions options)
{
    public Task<JsonElement> CreateCustomerAsync(string orgId, string name, string? email, CancellationToken ct) =>
        PostAsync("v1/customers", $"customer:{orgId}", ct, ("name", name), ("email", email), ("metadata[org_id]", orgId));

    public Task<JsonElement> CreateCheckoutSessionAsync(string orgId, string customerId, string priceId, string successUrl, string cancelUrl,
        string idempotencyKey, CancellationToken ct) =>
        PostAsync("v1/checkout/sessions", idempotencyKey, ct,
            ("mode", "subscription"), ("customer", customerId), ("line_items[0][price]", priceId), ("line_items[0][quantity]", "1"),
            ("success_url", successUrl), ("cancel_url", cancelUrl), ("client_reference_id", orgId), ("metadata[org_id]", orgId),
            ("subscription_data[metadata][org_id]", orgId));

    public Task<JsonElement> CreatePortalSessionAsync(string customerId, string returnUrl, CancellationToken ct) =>
        PostAsync("v1/billing_portal/sessions", null, ct, ("customer", customerId), ("return_url", returnUrl));

    private async Task<JsonElement> PostAsync(string path, string? idempotencyKey, CancellationToken ct, params (string Key, string? Value)[] fields)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.BaseUrl, path))
        {
            Content = new FormUrlEncodedContent(fields.Where(f => f.Value is not null).Select(f => new KeyValuePair<string, string>(f.Key, f.Value!))),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.SecretKey);
        if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(options.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ProviderException("STRIPE_TIMEOUT", $"Stripe did not answer within {options.Timeout.TotalSeconds:0} s.");
        }
        catch (HttpRequestException e)
        {
            throw new ProviderException("STRIPE_UNREACHABLE", $"Stripe could not be reached: {e.Message}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return JsonDocument.Parse(text).RootElement.Clone();
            var message = ErrorMessage(text);
            throw response.StatusCode switch
            {
                HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new ProviderException("STRIPE_UNAUTHORIZED", $"Stripe refused the secret key (FENTA_STRIPE_SECRET_KEY): {message}", permanent: true),
                HttpStatusCode.TooManyRequests => new ProviderException("STRIPE_RATE_LIMITED", $"Stripe is rate limiting: {message}",
                    retryAfter: ProviderException.RetryAfterOf(response, TimeSpan.FromSeconds(2))),
                >= HttpStatusCode.InternalServerError => new ProviderException("STRIPE_UNAVAILABLE", $"Stripe failed ({(int)response.StatusCode}): {message}"),
                _ => new ProviderException("STRIPE_REJECTED", $"Stripe rejected the request ({(int)response.StatusCode}): {message}", permanent: true),
            };
        }
    }

    private static string ErrorMessage(string text)
    {
        try
        {
            var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
            var message = error.TryGetProperty("message", out var m) ? m.GetString() : error.GetRawText();
            return error.TryGetProperty("param", out var p) && p.GetString() is { } param ? $"{message} (param {param})" : message ?? text;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return text.Length > 200 ? text[..200] : text;
        }
    }
}
