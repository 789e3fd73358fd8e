using System.Text.Json;
using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;
using Stripe;
using Stripe.Checkout;

namespace FentaWeb.Integrations.Stripe;

/// <summary>
/// What Stripe's webhook events change here, each applied once (the event id is recorded in the same transaction):
/// a completed checkout links the org to its customer and subscription, subscription events set the org's plan from
/// the subscribed price (back to free when it ends), and invoice events keep the org's invoices.
/// </summary>
public static class StripeEvents
{
    /// <summary>How far a delivery's signing time may be from now (Stripe's default): older ones are replays.</summary>
    public static readonly TimeSpan SignatureTolerance = TimeSpan.FromSeconds(EventUtility.DefaultTimeTolerance);

    /// <summary>Subscription states in which the paid plan applies; anything else (canceled, unpaid, incomplete…) is the free plan.</summary>
    private static readonly HashSet<string> Paying = ["active", "trialing", "past_due"];

    /// <summary>
    /// The event in a webhook delivery, verified on the raw body before anything is read from it. Only events of the
    /// API version Stripe.net is built for are taken: another version's objects have other shapes (a subscription's
    /// period end moved onto its items in 2025-03-31.basil), and reading them as this version's would be silently wrong.
    /// </summary>
    public static Event Verify(string payload, string? signatureHeader, string webhookSecret, DateTimeOffset now)
    {
        static ValidationFailedException BadSignature() => new("Stripe-Signature",
            $"is missing, does not match the body, or is older than {SignatureTolerance.TotalMinutes:0} minutes");
        if (signatureHeader is not { Length: > 0 }) throw BadSignature();
        try
        {
            // ConstructEvent's two steps, taken apart so that a bad signature and a wrong API version each get their own answer.
            EventUtility.ValidateSignature(payload, signatureHeader, webhookSecret, (long)SignatureTolerance.TotalSeconds, now.ToUnixTimeSeconds());
        }
        catch (Exception e) when (e is StripeException or FormatException or OverflowException)
        {
            throw BadSignature();
        }

        Event evt;
        try
        {
            evt = EventUtility.ParseEvent(payload, throwOnApiVersionMismatch: false);
        }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            throw new ValidationFailedException("body", "is not a Stripe event");
        }
        if (evt.ApiVersion is not { Length: > 0 } version || !EventUtility.IsCompatibleApiVersion(version))
            throw new ValidationFailedException("api_version",
                $"is {evt.ApiVersion ?? "missing"}, but this API reads Stripe events of API version {StripeConfiguration.ApiVersion} (the version Stripe.net " +
                $"{StripeConfiguration.StripeNetVersion} is built for): set the Stripe webhook endpoint's API version to {StripeConfiguration.ApiVersion}");
        if (evt is not { Id.Length: > 0, Type.Length: > 0, Data: not null })
            throw new ValidationFailedException("body", "is not a Stripe event");
        return evt;
    }

    /// <summary>
    /// Applies the event; false when it was seen before (a redelivery) and changed nothing. Throws
    /// <see cref="UnstorableStripeEventException"/>, having stored nothing (not even the event id), when a value it would
    /// write is text PostgreSQL cannot hold.
    /// </summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource db, StripeOptions options, Event evt, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await ExecAsync(conn, tx, "INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING", ct, evt.Id, evt.Type) == 0) return false;
        switch (evt.Data.Object)
        {
            case Session { ClientReferenceId: { } orgId } session when evt.Type == EventTypes.CheckoutSessionCompleted:
                await ExecAsync(conn, tx, """
                    UPDATE orgs SET billing_customer_id = coalesce(billing_customer_id, $2), stripe_subscription_id = coalesce($3, stripe_subscription_id), updated_at = now()
                    WHERE id = $1
                    """, ct, orgId, session.CustomerId, session.SubscriptionId);
                break;
            case Subscription subscription when evt.Type is EventTypes.CustomerSubscriptionCreated or EventTypes.CustomerSubscriptionUpdated
                or EventTypes.CustomerSubscriptionDeleted:
                await SubscriptionAsync(conn, tx, options, subscription, ended: evt.Type == EventTypes.CustomerSubscriptionDeleted, ct);
                break;
            case Invoice invoice when evt.Type is EventTypes.InvoicePaid or EventTypes.InvoicePaymentFailed:
                await InvoiceAsync(conn, tx, invoice, ct);
                break;
        }
        await tx.CommitAsync(ct);
        return true;
    }

    private static async Task SubscriptionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StripeOptions options, Subscription sub, bool ended, CancellationToken ct)
    {
        var status = ended ? "canceled" : sub.Status ?? "incomplete";
        // The plan is the item whose price this deployment sells (others may be add-ons); its billing period is the plan's.
        var items = sub.Items?.Data ?? [];
        var planItem = items.FirstOrDefault(i => options.PlanOfPrice(i.Price?.Id) is not null) ?? items.FirstOrDefault();
        var paidPlan = options.PlanOfPrice(planItem?.Price?.Id);
        // A canceled subscription never comes back (Stripe starts a new one), so a late "updated" for it is stale.
        await ExecAsync(conn, tx, """
            UPDATE orgs SET
              plan = CASE WHEN $4::text IS NULL OR NOT $5 THEN 'free' ELSE $4 END,
              plan_started_at = CASE WHEN plan IS DISTINCT FROM (CASE WHEN $4::text IS NULL OR NOT $5 THEN 'free' ELSE $4 END) THEN now() ELSE plan_started_at END,
              billing_customer_id = coalesce(billing_customer_id, $3),
              stripe_subscription_id = $2, subscription_status = $6, current_period_end = $7, cancel_at_period_end = $8, updated_at = now()
            WHERE (id = $1 OR ($1::text IS NULL AND billing_customer_id = $3))
              AND (stripe_subscription_id IS DISTINCT FROM $2 OR subscription_status IS DISTINCT FROM 'canceled')
            """, ct, sub.Metadata?.GetValueOrDefault("org_id"), sub.Id, sub.CustomerId, paidPlan,
            Paying.Contains(status), status, At(planItem?.CurrentPeriodEnd), sub.CancelAtPeriodEnd);
    }

    private static async Task InvoiceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Invoice invoice, CancellationToken ct)
    {
        var cents = invoice.Status == "paid" ? invoice.AmountPaid : invoice.AmountDue;
        await ExecAsync(conn, tx, """
            INSERT INTO invoices (id, org_id, stripe_invoice_id, amount_usd, status, period_start, period_end, hosted_invoice_url, paid_at)
            SELECT fenta_id('inv'), o.id, $2, $3, $4, ($5::timestamptz AT TIME ZONE 'UTC')::date, ($6::timestamptz AT TIME ZONE 'UTC')::date, $7,
                   CASE WHEN $4 = 'paid' THEN now() END
            FROM orgs o WHERE o.billing_customer_id = $1
            ON CONFLICT (stripe_invoice_id) DO UPDATE SET status = EXCLUDED.status, amount_usd = EXCLUDED.amount_usd,
              paid_at = coalesce(invoices.paid_at, EXCLUDED.paid_at), hosted_invoice_url = EXCLUDED.hosted_invoice_url
            """, ct, invoice.CustomerId, invoice.Id, cents / 100m, invoice.Status ?? "open",
            At(invoice.PeriodStart) ?? DateTimeOffset.UtcNow, At(invoice.PeriodEnd) ?? DateTimeOffset.UtcNow, invoice.HostedInvoiceUrl);
    }

    /// <summary>A Stripe timestamp, or null where the event left it out (Stripe.net reads a missing one as the Unix epoch).</summary>
    private static DateTimeOffset? At(DateTime? stripeTime) =>
        stripeTime is { } at && at > DateTime.UnixEpoch ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;

    private static async Task<int> ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, params object?[] values)
    {
        // Every value an event writes passes here, so this is the one check: a signed event is Stripe's word, but some of its
        // text (client_reference_id comes from whoever opened the Checkout or Payment Link) may hold what PostgreSQL refuses.
        // Throwing before the statement leaves the transaction uncommitted, so nothing of the event is stored.
        foreach (var value in values)
            if (value is string text && !IsStorable(text)) throw new UnstorableStripeEventException(text);
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var value in values)
            cmd.Parameters.Add(value switch
            {
                null => new NpgsqlParameter { Value = DBNull.Value }, // the statement's context gives it a type
                DateTimeOffset at => new NpgsqlParameter { Value = at, NpgsqlDbType = NpgsqlDbType.TimestampTz },
                _ => new NpgsqlParameter { Value = value },
            });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Whether PostgreSQL's text can hold <paramref name="text"/>: no U+0000 and no lone UTF-16 surrogate (UTF-8 has no encoding for one).</summary>
    private static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0') return false;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) i++;
            else if (char.IsSurrogate(c)) return false;
        }
        return true;
    }
}

/// <summary>
/// An authentic Stripe event that cannot be applied: a value it would store holds U+0000 or a lone surrogate. Sending it
/// again brings the same bytes, so it is the caller's to acknowledge and report, not to fail on.
/// </summary>
public sealed class UnstorableStripeEventException(string value)
    : Exception($"a value of the event cannot be stored: {Printable(value)}")
{
    /// <summary>The offending value with U+0000, other control characters and lone surrogates written as \uXXXX, at most 200 characters.</summary>
    public string Value { get; } = Printable(value);

    public static string Printable(string value)
    {
        var printable = new System.Text.StringBuilder();
        foreach (var c in value.Length > 200 ? value[..200] : value)
            printable.Append(char.IsControl(c) || char.IsSurrogate(c) ? $"\\u{(int)c:x4}" : c.ToString());
        return printable.ToString();
    }
}
