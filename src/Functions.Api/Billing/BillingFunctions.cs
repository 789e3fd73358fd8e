using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Integrations.Stripe;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Api.Billing;

public sealed record CheckoutRequest(string? Plan, string? SuccessUrl, string? CancelUrl);
public sealed record PortalRequest(string? ReturnUrl);
public sealed record BillingSessionDto(string Id, string Url);
public sealed record BillingDto(string Plan, bool StripeConfigured, IReadOnlyList<string> PlansForSale, string? CustomerId, string? SubscriptionId,
    string? SubscriptionStatus, DateTimeOffset? CurrentPeriodEnd, bool CancelAtPeriodEnd);
public sealed record InvoiceDto(string Id, string StripeInvoiceId, decimal AmountUsd, string Status, DateOnly PeriodStart, DateOnly PeriodEnd,
    string? HostedInvoiceUrl, DateTimeOffset? PaidAt, DateTimeOffset CreatedAt);

/// <summary>
/// Paid plans through Stripe: Checkout to subscribe, the Billing Portal to change or cancel, and Stripe's signed webhook
/// to keep the org's plan and invoices in step. Without FENTA_STRIPE_SECRET_KEY everything runs on the free plan.
/// </summary>
[Tags("Billing")]
public sealed partial class BillingFunctions(NpgsqlDataSource data, TimeProvider clock, ILogger<BillingFunctions> logger, StripeOptions? stripe = null,
    StripeBilling? client = null)
{
    [Function(nameof(GetBilling)), Access(OrgRole.Viewer, Scopes.BillingView), EndpointSummary("The org's plan and subscription.")]
    public async Task<Ok<BillingDto>> GetBilling([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/billing")] HttpRequest request, Caller caller,
        CancellationToken ct)
    {
        await using var cmd = data.CreateCommand("""
            SELECT plan, billing_customer_id, stripe_subscription_id, subscription_status, current_period_end, cancel_at_period_end FROM orgs WHERE id = $1
            """);
        cmd.Parameters.Add(new() { Value = caller.OrgId });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) throw new NotFoundException("org", caller.OrgId);
        return TypedResults.Ok(new BillingDto(r.GetString(0), stripe is not null, stripe?.PlanPrices.Keys.Order().ToList() ?? [], Nullable(r, 1), Nullable(r, 2),
            Nullable(r, 3), r.IsDBNull(4) ? null : r.GetFieldValue<DateTimeOffset>(4), r.GetBoolean(5)));
    }

    // Spending money is for signed-in admins, not API keys, whose address is verified: a plan bought on an address
    // someone registered without owning it would bill in the owner's name.
    [Function(nameof(CreateCheckoutSession)), Access(OrgRole.Admin, SessionOnly = true, VerifiedEmail = true),
     EndpointSummary("A Stripe Checkout session subscribing the org to a paid plan; send the user to its url. Honours Idempotency-Key.")]
    public async Task<Created<BillingSessionDto>> CreateCheckoutSession(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/billing/checkout")] HttpRequest request, [FromBody] CheckoutRequest body, Caller caller,
        CancellationToken ct)
    {
        var (options, stripeClient) = Configured(stripe, client);
        var errors = new FieldErrors();
        if (body.Plan is null || !options.PlanPrices.ContainsKey(body.Plan))
            errors.Add("plan", $"must be one of the plans for sale: {string.Join(", ", options.PlanPrices.Keys.Order())}");
        CheckUrl(body.SuccessUrl, "success_url", errors);
        CheckUrl(body.CancelUrl, "cancel_url", errors);
        errors.ThrowIfAny();

        var customer = await CustomerAsync(caller, data, stripeClient, ct);
        var key = request.Headers["Idempotency-Key"].FirstOrDefault() is { Length: > 0 and <= 200 } given ? $"checkout:{caller.OrgId}:{given}" : Ids.New("checkout");
        return Session(await stripeClient.CreateCheckoutSessionAsync(caller.OrgId, customer, options.PlanPrices[body.Plan!], options.OveragePricesOf(body.Plan!),
            body.SuccessUrl!, body.CancelUrl!, key, ct));
    }

    [Function(nameof(CreatePortalSession)), Access(OrgRole.Admin, SessionOnly = true, VerifiedEmail = true),
     EndpointSummary("A Stripe Billing Portal session to change or cancel the subscription.")]
    public async Task<Created<BillingSessionDto>> CreatePortalSession(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/billing/portal")] HttpRequest request, [FromBody] PortalRequest body, Caller caller,
        CancellationToken ct)
    {
        var (_, stripeClient) = Configured(stripe, client);
        var errors = new FieldErrors();
        CheckUrl(body.ReturnUrl, "return_url", errors);
        errors.ThrowIfAny();
        var customer = await ExistingCustomerAsync(caller, data, ct)
                       ?? throw new ConflictException("NO_SUBSCRIPTION", "The org has no Stripe customer yet: subscribe with POST /v1/billing/checkout first.");
        return Session(await stripeClient.CreatePortalSessionAsync(customer, body.ReturnUrl!, ct));
    }

    [Function(nameof(ListInvoices)), Access(OrgRole.Viewer, Scopes.BillingView), EndpointSummary("The org's invoices, newest first.")]
    public async Task<Ok<Page<InvoiceDto>>> ListInvoices([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/billing/invoices")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct)
    {
        var (limit, after) = page.Parse();
        await using var cmd = data.CreateCommand("""
            SELECT id, stripe_invoice_id, amount_usd, status, period_start, period_end, hosted_invoice_url, paid_at, created_at FROM invoices
            WHERE org_id = $1 AND ($2::text IS NULL OR id < $2) ORDER BY id DESC LIMIT $3
            """);
        cmd.Parameters.Add(new() { Value = caller.OrgId });
        cmd.Parameters.Add(new() { Value = (object?)after ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = limit + 1 });
        var rows = new List<InvoiceDto>();
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct))
                rows.Add(new InvoiceDto(r.GetString(0), r.GetString(1), r.GetDecimal(2), r.GetString(3), r.GetFieldValue<DateOnly>(4), r.GetFieldValue<DateOnly>(5),
                    Nullable(r, 6), r.IsDBNull(7) ? null : r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8)));
        var more = rows.Count > limit;
        if (more) rows.RemoveAt(limit);
        return TypedResults.Ok(new Page<InvoiceDto>(rows, more ? PageQuery.Encode(rows[^1].Id) : null, more));
    }

    /// <summary>Verified on the raw body before anything is parsed; a redelivered event answers 200 and changes nothing.</summary>
    [Function(nameof(StripeWebhook)), Anonymous, RateLimit(RateLimitClass.Unlimited),
     EndpointSummary("Where Stripe sends subscription and invoice events (verified by their Stripe-Signature).")]
    public async Task<Ok<object>> StripeWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/billing/stripe/webhook")] HttpRequest request, CancellationToken ct)
    {
        if (stripe?.WebhookSecret is not { Length: > 0 } secret)
            throw new ConflictException("BILLING_NOT_CONFIGURED", "Stripe webhooks are not configured here (FENTA_STRIPE_WEBHOOK_SECRET).");
        using var reader = new StreamReader(request.Body);
        var body = await reader.ReadToEndAsync(ct);
        var evt = StripeEvents.Verify(body, request.Headers["Stripe-Signature"].FirstOrDefault(), secret, clock.GetUtcNow());
        try
        {
            var applied = await StripeEvents.ApplyAsync(data, stripe, evt, ct);
            return TypedResults.Ok<object>(new { received = true, duplicate = !applied });
        }
        catch (UnstorableStripeEventException e)
        {
            // Signed, so Stripe's own event, and it would come back byte for byte: Stripe retries anything but a 2xx for three
            // days (and emails about, then may disable, a failing endpoint), so a 400 or 500 buys nothing but noise. It is
            // acknowledged, applied to nothing, and logged for a person to look at; a client_reference_id that is no org's
            // id is ignored the same way when it is storable.
            LogUnstorableEvent(logger, UnstorableStripeEventException.Printable(evt.Id), UnstorableStripeEventException.Printable(evt.Type), e.Value);
            return TypedResults.Ok<object>(new { received = true, duplicate = false, ignored = true });
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning,
        Message = "Stripe event {EventId} ({EventType}) acknowledged but not applied: it carries text that cannot be stored ({Value})")]
    private static partial void LogUnstorableEvent(ILogger logger, string eventId, string eventType, string value);

    /// <summary>The org's Stripe customer, made on first checkout (Stripe's idempotency key makes a retried creation return the same one).</summary>
    private static async Task<string> CustomerAsync(Caller caller, NpgsqlDataSource data, StripeBilling client, CancellationToken ct)
    {
        await using var find = data.CreateCommand("SELECT o.name, o.billing_customer_id, u.email FROM orgs o LEFT JOIN users u ON u.id = $2 WHERE o.id = $1");
        find.Parameters.Add(new() { Value = caller.OrgId });
        find.Parameters.Add(new() { Value = caller.UserId });
        string name;
        string? email;
        await using (var r = await find.ExecuteReaderAsync(ct))
        {
            if (!await r.ReadAsync(ct)) throw new NotFoundException("org", caller.OrgId);
            if (!r.IsDBNull(1)) return r.GetString(1);
            (name, email) = (r.GetString(0), Nullable(r, 2));
        }
        var customer = (await client.CreateCustomerAsync(caller.OrgId, name, email, ct)).Id;
        await using var save = data.CreateCommand("UPDATE orgs SET billing_customer_id = coalesce(billing_customer_id, $2) WHERE id = $1 RETURNING billing_customer_id");
        save.Parameters.Add(new() { Value = caller.OrgId });
        save.Parameters.Add(new() { Value = customer });
        return (string)(await save.ExecuteScalarAsync(ct))!;
    }

    private static async Task<string?> ExistingCustomerAsync(Caller caller, NpgsqlDataSource data, CancellationToken ct)
    {
        await using var cmd = data.CreateCommand("SELECT billing_customer_id FROM orgs WHERE id = $1");
        cmd.Parameters.Add(new() { Value = caller.OrgId });
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>A Checkout or Portal session: where to send the user.</summary>
    private static Created<BillingSessionDto> Session(StripeSession session) =>
        TypedResults.Created(session.Url, new BillingSessionDto(session.Id, session.Url));

    private static (StripeOptions, StripeBilling) Configured(StripeOptions? options, StripeBilling? client) =>
        options is not null && client is not null
            ? (options, client)
            : throw new ConflictException("BILLING_NOT_CONFIGURED", "Paid plans need Stripe (FENTA_STRIPE_SECRET_KEY); this deployment runs everyone on the free plan.");

    private static void CheckUrl(string? url, string field, FieldErrors errors)
    {
        if (url is null || !Uri.TryCreate(url, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("https" or "http"))
            errors.Add(field, "is required: an absolute http(s) URL");
    }

    private static string? Nullable(NpgsqlDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
}
