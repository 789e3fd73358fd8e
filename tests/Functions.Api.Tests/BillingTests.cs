using System.Net.Http.Json;
using System.Text.Json;
using System.Text;
using FentaWeb.Integrations.Http;
using FentaWeb.Simulators;
using Stripe;

namespace FentaWeb.Api.Tests;

/// <summary>Paid plans through Stripe: checkout and portal against the Stripe simulator, and signed webhooks moving the plan.</summary>
public class BillingTests(BillingTests.Host host) : IClassFixture<BillingTests.Host>
{
    public const string WebhookSecret = "whsec_billing_test";

    public sealed class Host : ApiHost
    {
        public StripeSimulator Stripe { get; } = new();
        protected override Task BeforeStartAsync() => Stripe.StartAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_STRIPE_SECRET_KEY"] = StripeSimulator.ValidKey,
            ["FENTA_STRIPE_BASE_URL"] = Stripe.BaseAddress.ToString(),
            ["FENTA_STRIPE_WEBHOOK_SECRET"] = WebhookSecret,
            ["FENTA_STRIPE_PRICE_STARTER"] = "price_starter",
            ["FENTA_STRIPE_PRICE_PRO"] = "price_pro",
        };
    }

    private static object Checkout(string plan = "pro") => new { plan, success_url = "https://app.example.com/billing/done", cancel_url = "https://app.example.com/billing" };

    /// <summary>A webhook delivery as Stripe makes it: the event at the endpoint's API version, signed with the endpoint's secret.</summary>
    private async Task<HttpResponseMessage> SendEventAsync(string type, object obj, string? id = null, DateTimeOffset? signedAt = null, string secret = WebhookSecret,
        string? apiVersion = null)
    {
        var payload = JsonSerializer.Serialize(new
        {
            id = id ?? $"evt_{Guid.NewGuid():N}", @object = "event", api_version = apiVersion ?? StripeConfiguration.ApiVersion,
            created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), livemode = false, pending_webhooks = 1, type, data = new { @object = obj },
        });
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", StripeSimulator.Sign(payload, secret, signedAt));
        return await host.Client().SendAsync(request);
    }

    private static readonly DateTimeOffset PeriodEnd = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds());

    /// <summary>A subscription in the current API version's shape: the billing period is on each item, not on the subscription.</summary>
    private static object Subscription(string orgId, string customer, string status, string price = "price_pro", string id = "sub_1") => new
    {
        id, @object = "subscription", customer, status, cancel_at_period_end = false,
        items = new
        {
            @object = "list",
            data = new[]
            {
                new
                {
                    id = $"si_{id}", @object = "subscription_item", price = new { id = price, @object = "price" },
                    current_period_start = PeriodEnd.AddDays(-30).ToUnixTimeSeconds(), current_period_end = PeriodEnd.ToUnixTimeSeconds(),
                },
            },
        },
        metadata = new { org_id = orgId },
    };

    [Fact]
    public async Task CheckoutMakesOneCustomerPerOrgAndASubscriptionSessionForThePlansPrice()
    {
        var session = await host.RegisterVerifiedAsync();
        var client = session.Client();
        var first = await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadJsonAsync(201);
        Assert.StartsWith("https://checkout.stripe.com/c/pay/cs_test_", first.GetProperty("url").GetString());
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout("starter"))).ReadJsonAsync(201);

        var customer = Assert.Single(host.Stripe.Calls, c => c.Path == "/v1/customers" && c.Form["metadata[org_id]"] == session.OrgId);
        Assert.Equal($"customer:{session.OrgId}", customer.IdempotencyKey);
        var checkouts = host.Stripe.Calls.Where(c => c.Path == "/v1/checkout/sessions" && c.Form["client_reference_id"] == session.OrgId).ToList();
        var checkout = checkouts.Select(c => c.Form).ToList();
        Assert.Equal(["price_pro", "price_starter"], checkout.Select(f => f["line_items[0][price]"]));
        Assert.All(checkout, f => Assert.Equal(("subscription", session.OrgId, "1"), (f["mode"], f["subscription_data[metadata][org_id]"], f["line_items[0][quantity]"])));
        // No overage prices configured (FENTA_STRIPE_OVERAGE_PRICES_*): the plan's price is the only line item.
        Assert.All(checkout, f => Assert.DoesNotContain(f.Keys, k => k.StartsWith("line_items[1]", StringComparison.Ordinal)));
        // Two clicks without an Idempotency-Key of the caller's are two attempts, each with its own key at Stripe.
        Assert.Equal(2, checkouts.Select(c => c.IdempotencyKey).Distinct().Count(k => k is { Length: > 0 }));
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal((true, "free"), (billing.GetProperty("stripe_configured").GetBoolean(), billing.GetProperty("plan").GetString()));
        Assert.StartsWith("cus_", billing.GetProperty("customer_id").GetString());

        var portal = await (await client.PostAsJsonAsync("/v1/billing/portal", new { return_url = "https://app.example.com/billing" })).ReadJsonAsync(201);
        Assert.StartsWith("https://billing.stripe.com/p/session/", portal.GetProperty("url").GetString());
        Assert.Equal(billing.GetProperty("customer_id").GetString(), host.Stripe.Calls.Last(c => c.Path == "/v1/billing_portal/sessions").Form["customer"]);

        // Every call asks for the API version Stripe.net is built for, the one the webhook endpoint is set to.
        Assert.All(host.Stripe.Calls, c => Assert.Equal(StripeConfiguration.ApiVersion, c.StripeVersion));
    }

    [Fact]
    public async Task StripeFailuresBecomeProblemsNamingTheCause()
    {
        var client = (await host.RegisterVerifiedAsync()).Client();
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadJsonAsync(201); // the customer exists from here on

        host.Stripe.EnqueueError(401, """{"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_***"}}""");
        var unauthorized = await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(502, "STRIPE_UNAUTHORIZED");
        Assert.Contains("FENTA_STRIPE_SECRET_KEY", unauthorized.GetProperty("detail").GetString());

        host.Stripe.EnqueueError(429, """{"error": {"type": "invalid_request_error", "code": "rate_limit", "message": "Too many requests."}}""", retryAfterSeconds: 7);
        var limited = await client.PostAsJsonAsync("/v1/billing/checkout", Checkout());
        await limited.ReadProblemAsync(503, "STRIPE_RATE_LIMITED");
        Assert.Equal(TimeSpan.FromSeconds(7), limited.Headers.RetryAfter?.Delta);

        host.Stripe.EnqueueError(400, """{"error": {"type": "invalid_request_error", "message": "No such price: 'price_pro'", "param": "line_items[0][price]"}}""");
        var rejected = await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(502, "STRIPE_REJECTED");
        Assert.Contains("(param line_items[0][price])", rejected.GetProperty("detail").GetString());

        // The connection drops before any answer, on every try the client's resilience pipeline makes.
        for (var i = 0; i < ProviderResilience.Attempts; i++)
            host.Stripe.Enqueue(http =>
            {
                http.Abort();
                return Task.CompletedTask;
            });
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(502, "STRIPE_UNREACHABLE");
    }

    [Fact]
    public async Task AStripeBlipIsRetriedWithTheSameIdempotencyKeyAndAnOutageIsAProblem()
    {
        var client = (await host.RegisterVerifiedAsync()).Client();
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadJsonAsync(201); // the customer exists from here on
        host.Stripe.EnqueueError(500, """{"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}""");
        var (requestsBefore, callsBefore) = (host.Stripe.Requests.Count, host.Stripe.Calls.Count);
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadJsonAsync(201);
        // Two tries reached Stripe (the failed one and its retry); the one that succeeded carried the Idempotency-Key.
        Assert.Equal(2, host.Stripe.Requests.Skip(requestsBefore).Count(r => r.Path == "/v1/checkout/sessions"));
        Assert.NotNull(Assert.Single(host.Stripe.Calls.Skip(callsBefore), c => c.Path == "/v1/checkout/sessions").IdempotencyKey);

        for (var i = 0; i < ProviderResilience.Attempts; i++)
            host.Stripe.EnqueueError(500, """{"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}""");
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(502, "STRIPE_UNAVAILABLE");
    }

    [Fact]
    public async Task ARetriedCheckoutIsTheSameSessionAndBadRequestsNameTheirFields()
    {
        var session = await host.RegisterVerifiedAsync();
        var client = session.Client();
        async Task<JsonElement> KeyedAsync(object body, int status)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/checkout") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "upgrade-click-1");
            return status == 201 ? await (await client.SendAsync(request)).ReadJsonAsync(201) : await (await client.SendAsync(request)).ReadProblemAsync(status, "STRIPE_REJECTED");
        }
        var once = await KeyedAsync(Checkout(), 201);
        Assert.Equal(once.GetProperty("id").GetString(), (await KeyedAsync(Checkout(), 201)).GetProperty("id").GetString());
        Assert.Contains("idempotent", (await KeyedAsync(Checkout("starter"), 502)).GetProperty("detail").GetString()); // same key, other plan

        var bad = await (await client.PostAsJsonAsync("/v1/billing/checkout", new { plan = "enterprise", success_url = "nope" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["cancel_url", "plan", "success_url"], bad.Fields().Order());
        var (key, _) = await session.CreateKeyAsync("billing:view");
        await (await host.Client(key).PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(403, "FORBIDDEN");
        Assert.Equal("free", (await (await host.Client(key).GetAsync("/v1/billing")).ReadJsonAsync(200)).GetProperty("plan").GetString());
    }

    [Fact]
    public async Task SignedWebhooksMoveThePlanOnceEachAndKeepInvoices()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var customer = $"cus_{Guid.NewGuid():N}";
        (await SendEventAsync("checkout.session.completed", new { id = "cs_x", @object = "checkout.session", client_reference_id = session.OrgId, customer, subscription = "sub_1" }))
            .EnsureSuccessStatusCode();

        var active = $"evt_{Guid.NewGuid():N}";
        var first = await (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), active)).ReadJsonAsync(200);
        Assert.False(first.GetProperty("duplicate").GetBoolean());
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal(("pro", customer, "sub_1", "active"), (billing.GetProperty("plan").GetString(), billing.GetProperty("customer_id").GetString(),
            billing.GetProperty("subscription_id").GetString(), billing.GetProperty("subscription_status").GetString()));
        Assert.Equal(PeriodEnd, billing.GetProperty("current_period_end").GetDateTimeOffset()); // from the subscription's item
        Assert.Equal("pro", (await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200)).GetProperty("plan").GetString());

        // A redelivery changes nothing, even after the state moved on.
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        Assert.True((await (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), active)).ReadJsonAsync(200))
            .GetProperty("duplicate").GetBoolean());
        Assert.Equal("starter", (await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200)).GetProperty("plan").GetString());

        (await SendEventAsync("invoice.paid", new
        {
            id = "in_1", @object = "invoice", customer, status = "paid", amount_paid = 9900, hosted_invoice_url = "https://invoice.stripe.com/i/in_1",
            period_start = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), period_end = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds(),
        })).EnsureSuccessStatusCode();
        var invoice = Assert.Single((await (await client.GetAsync("/v1/billing/invoices")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());
        Assert.Equal(("in_1", 99.00m, "paid"), (invoice.GetProperty("stripe_invoice_id").GetString(), invoice.GetProperty("amount_usd").GetDecimal(),
            invoice.GetProperty("status").GetString()));

        (await SendEventAsync("customer.subscription.deleted", Subscription(session.OrgId, customer, "canceled"))).EnsureSuccessStatusCode();
        Assert.Equal(("free", "canceled"), await PlanAsync(client));
        // A late update of the ended subscription cannot bring the plan back.
        (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"))).EnsureSuccessStatusCode();
        Assert.Equal(("free", "canceled"), await PlanAsync(client));
        // A new subscription can.
        (await SendEventAsync("customer.subscription.created", Subscription(session.OrgId, customer, "trialing", "price_starter", "sub_2"))).EnsureSuccessStatusCode();
        Assert.Equal(("starter", "trialing"), await PlanAsync(client));
    }

    private static async Task<(string?, string?)> PlanAsync(HttpClient client)
    {
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        return (billing.GetProperty("plan").GetString(), billing.GetProperty("subscription_status").GetString());
    }

    [Fact]
    public async Task UnsignedStaleOrForgedWebhooksAreRefusedAndChangeNothing()
    {
        var session = await host.RegisterAsync();
        var customer = $"cus_{Guid.NewGuid():N}";
        await host.ScalarAsync("UPDATE orgs SET billing_customer_id = $2 WHERE id = $1", session.OrgId, customer);
        var forged = await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), secret: "whsec_someone_else");
        Assert.Equal(["Stripe-Signature"], (await forged.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var stale = await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), signedAt: DateTimeOffset.UtcNow.AddMinutes(-10));
        await stale.ReadProblemAsync(400, "VALIDATION_FAILED");
        var unsigned = await host.Client().PostAsync("/v1/billing/stripe/webhook", new StringContent("{}", Encoding.UTF8, "application/json"));
        await unsigned.ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal("free", (string?)await host.ScalarAsync("SELECT plan FROM orgs WHERE id = $1", session.OrgId));

        // Within Stripe's five minutes a delivery still counts (its clock and ours need not agree to the second).
        (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), signedAt: DateTimeOffset.UtcNow.AddMinutes(-4)))
            .EnsureSuccessStatusCode();
        Assert.Equal("pro", (string?)await host.ScalarAsync("SELECT plan FROM orgs WHERE id = $1", session.OrgId));
    }

    /// <summary>A signed delivery of <paramref name="payload"/> exactly as written (JSON escapes such as \u0000 kept).</summary>
    private async Task<HttpResponseMessage> SendRawAsync(string payload)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", StripeSimulator.Sign(payload, WebhookSecret));
        return await host.Client().SendAsync(request);
    }

    [Theory]
    [InlineData("client_reference_id")] // the org, as checkout sets it (Payment Links take it from the link's URL)
    [InlineData("customer")]
    public async Task ASignedCheckoutWithANulInAValueToStoreIsAcknowledgedAndChangesNothing(string field)
    {
        var session = await host.RegisterAsync();
        var id = $"evt_{Guid.NewGuid():N}";
        var customer = $"cus_{Guid.NewGuid():N}";
        string Event(string? nulIn) => $$"""
            {"id": "{{id}}", "object": "event", "api_version": "{{StripeConfiguration.ApiVersion}}", "created": {{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},
             "livemode": false, "pending_webhooks": 1, "type": "checkout.session.completed",
             "data": {"object": {"id": "cs_nul", "object": "checkout.session", "subscription": "sub_nul",
                                 "client_reference_id": "{{session.OrgId}}{{(nulIn == "client_reference_id" ? "\\u0000" : "")}}",
                                 "customer": "{{customer}}{{(nulIn == "customer" ? "\\u0000" : "")}}"} } }
            """;
        // Stripe retries anything but a 2xx for days: the event is taken (200), applied to nothing, and not recorded as seen.
        var answer = await (await SendRawAsync(Event(field))).ReadJsonAsync(200);
        Assert.True(answer.GetProperty("ignored").GetBoolean());
        Assert.Equal("none", (string?)await host.ScalarAsync("SELECT coalesce(billing_customer_id, 'none') FROM orgs WHERE id = $1", session.OrgId));
        Assert.Equal(0L, (long)(await host.ScalarAsync("SELECT count(*) FROM stripe_events WHERE id = $1", id))!);
        // Sent again as it is, the same answer; sent without the NUL (the same event id), it applies.
        Assert.True((await (await SendRawAsync(Event(field))).ReadJsonAsync(200)).GetProperty("ignored").GetBoolean());
        Assert.False((await (await SendRawAsync(Event(null))).ReadJsonAsync(200)).GetProperty("duplicate").GetBoolean());
        Assert.Equal(customer, (string?)await host.ScalarAsync("SELECT billing_customer_id FROM orgs WHERE id = $1", session.OrgId));
    }

    [Fact]
    public async Task AnEventOfAnotherApiVersionSaysWhichVersionToConfigureAndIsTakenOnceSentRight()
    {
        var session = await host.RegisterAsync();
        var customer = $"cus_{Guid.NewGuid():N}";
        await host.ScalarAsync("UPDATE orgs SET billing_customer_id = $2 WHERE id = $1", session.OrgId, customer);
        var id = $"evt_{Guid.NewGuid():N}";
        // An endpoint left on basil, whose subscriptions still carried the period on the subscription itself.
        var basil = new
        {
            id = "sub_basil", @object = "subscription", customer, status = "active", cancel_at_period_end = false,
            current_period_end = PeriodEnd.ToUnixTimeSeconds(), items = new { @object = "list", data = new[] { new { price = new { id = "price_pro" } } } },
            metadata = new { org_id = session.OrgId },
        };
        var problem = await (await SendEventAsync("customer.subscription.updated", basil, id, apiVersion: "2025-03-31.basil")).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["api_version"], problem.Fields());
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.Contains("2025-03-31.basil", detail);
        Assert.Contains($"set the Stripe webhook endpoint's API version to {StripeConfiguration.ApiVersion}", detail);
        Assert.Equal("free", (string?)await host.ScalarAsync("SELECT plan FROM orgs WHERE id = $1", session.OrgId));

        // Refused is not seen: once the endpoint is on the right version, the same event applies.
        var applied = await (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active", id: "sub_basil"), id)).ReadJsonAsync(200);
        Assert.False(applied.GetProperty("duplicate").GetBoolean());
        Assert.Equal("pro", (string?)await host.ScalarAsync("SELECT plan FROM orgs WHERE id = $1", session.OrgId));
    }
}

/// <summary>Without Stripe every org is on the free plan, and paying says why it cannot.</summary>
public class BillingWithoutStripeTests(BillingWithoutStripeTests.Host host) : IClassFixture<BillingWithoutStripeTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task CheckoutExplainsThatStripeIsNotConfigured()
    {
        var client = (await host.RegisterVerifiedAsync()).Client();
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal((false, "free", 0), (billing.GetProperty("stripe_configured").GetBoolean(), billing.GetProperty("plan").GetString(),
            billing.GetProperty("plans_for_sale").GetArrayLength()));
        await (await client.PostAsJsonAsync("/v1/billing/checkout", new { plan = "pro" })).ReadProblemAsync(409, "BILLING_NOT_CONFIGURED");
        await (await host.Client().PostAsync("/v1/billing/stripe/webhook", new StringContent("{}"))).ReadProblemAsync(409, "BILLING_NOT_CONFIGURED");
    }
}
