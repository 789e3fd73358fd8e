using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FentaWeb.Simulators;

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

    private async Task<HttpResponseMessage> SendEventAsync(string type, object obj, string? id = null, DateTimeOffset? signedAt = null, string secret = WebhookSecret)
    {
        var payload = JsonSerializer.Serialize(new { id = id ?? $"evt_{Guid.NewGuid():N}", @object = "event", type, data = new { @object = obj } });
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/billing/stripe/webhook") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.Add("Stripe-Signature", StripeSimulator.Sign(payload, secret, signedAt));
        return await host.Client().SendAsync(request);
    }

    private static object Subscription(string orgId, string customer, string status, string price = "price_pro", string id = "sub_1") => new
    {
        id, @object = "subscription", customer, status, cancel_at_period_end = false,
        current_period_end = DateTimeOffset.UtcNow.AddDays(30).ToUnixTimeSeconds(),
        items = new { data = new[] { new { price = new { id = price } } } },
        metadata = new { org_id = orgId },
    };

    [Fact]
    public async Task CheckoutMakesOneCustomerPerOrgAndASubscriptionSessionForThePlansPrice()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var first = await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadJsonAsync(201);
        Assert.StartsWith("https://checkout.stripe.com/c/pay/cs_test_", first.GetProperty("url").GetString());
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout("starter"))).ReadJsonAsync(201);

        var customers = host.Stripe.Forms.Where(f => f.Path == "/v1/customers" && f.Form["metadata[org_id]"] == session.OrgId).ToList();
        Assert.Single(customers);
        var checkout = host.Stripe.Forms.Where(f => f.Path == "/v1/checkout/sessions" && f.Form["client_reference_id"] == session.OrgId).Select(f => f.Form).ToList();
        Assert.Equal(["price_pro", "price_starter"], checkout.Select(f => f["line_items[0][price]"]));
        Assert.All(checkout, f => Assert.Equal(("subscription", session.OrgId, "1"), (f["mode"], f["subscription_data[metadata][org_id]"], f["line_items[0][quantity]"])));
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal((true, "free"), (billing.GetProperty("stripe_configured").GetBoolean(), billing.GetProperty("plan").GetString()));
        Assert.StartsWith("cus_", billing.GetProperty("customer_id").GetString());

        var portal = await (await client.PostAsJsonAsync("/v1/billing/portal", new { return_url = "https://app.example.com/billing" })).ReadJsonAsync(201);
        Assert.StartsWith("https://billing.stripe.com/p/session/", portal.GetProperty("url").GetString());
    }

    [Fact]
    public async Task ARetriedCheckoutIsTheSameSessionAndBadRequestsNameTheirFields()
    {
        var session = await host.RegisterAsync();
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

        host.Stripe.EnqueueError(500, """{"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}""");
        await (await client.PostAsJsonAsync("/v1/billing/checkout", Checkout())).ReadProblemAsync(502, "STRIPE_UNAVAILABLE");
    }

    [Fact]
    public async Task SignedWebhooksMoveThePlanOnceEachAndKeepInvoices()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var customer = $"cus_{Guid.NewGuid():N}";
        (await SendEventAsync("checkout.session.completed", new { id = "cs_x", client_reference_id = session.OrgId, customer, subscription = "sub_1" })).EnsureSuccessStatusCode();

        var active = $"evt_{Guid.NewGuid():N}";
        var first = await (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), active)).ReadJsonAsync(200);
        Assert.False(first.GetProperty("duplicate").GetBoolean());
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal(("pro", customer, "sub_1", "active"), (billing.GetProperty("plan").GetString(), billing.GetProperty("customer_id").GetString(),
            billing.GetProperty("subscription_id").GetString(), billing.GetProperty("subscription_status").GetString()));
        Assert.Equal("pro", (await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200)).GetProperty("plan").GetString());

        // A redelivery changes nothing, even after the state moved on.
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        Assert.True((await (await SendEventAsync("customer.subscription.updated", Subscription(session.OrgId, customer, "active"), active)).ReadJsonAsync(200))
            .GetProperty("duplicate").GetBoolean());
        Assert.Equal("starter", (await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200)).GetProperty("plan").GetString());

        (await SendEventAsync("invoice.paid", new
        {
            id = "in_1", customer, status = "paid", amount_paid = 9900, hosted_invoice_url = "https://invoice.stripe.com/i/in_1",
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
    }
}

/// <summary>Without Stripe every org is on the free plan, and paying says why it cannot.</summary>
public class BillingWithoutStripeTests(BillingWithoutStripeTests.Host host) : IClassFixture<BillingWithoutStripeTests.Host>
{
    public sealed class Host : ApiHost;

    [Fact]
    public async Task CheckoutExplainsThatStripeIsNotConfigured()
    {
        var client = (await host.RegisterAsync()).Client();
        var billing = await (await client.GetAsync("/v1/billing")).ReadJsonAsync(200);
        Assert.Equal((false, "free", 0), (billing.GetProperty("stripe_configured").GetBoolean(), billing.GetProperty("plan").GetString(),
            billing.GetProperty("plans_for_sale").GetArrayLength()));
        await (await client.PostAsJsonAsync("/v1/billing/checkout", new { plan = "pro" })).ReadProblemAsync(409, "BILLING_NOT_CONFIGURED");
        await (await host.Client().PostAsync("/v1/billing/stripe/webhook", new StringContent("{}"))).ReadProblemAsync(409, "BILLING_NOT_CONFIGURED");
    }
}
