using System.Text.Json;
using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Billing;

/// <summary>
/// What Stripe's webhook events change here, each applied once (the event id is recorded in the same transaction):
/// a completed checkout links the org to its customer and subscription, subscription events set the org's plan from
/// the subscribed price (back to free when it ends), and invoice events keep the org's invoices.
/// </summary>
public static class StripeEvents
{
    /// <summary>Subscription states in which the paid plan applies; anything else (canceled, unpaid, incomplete…) is the free plan.</summary>
    private static readonly HashSet<string> Paying = ["active", "trialing", "past_due"];

    /// <summary>Applies the event; false when it was seen before (a redelivery) and changed nothing.</summary>
    public static async Task<bool> ApplyAsync(NpgsqlDataSource db, StripeOptions options, JsonElement evt, CancellationToken ct)
    {
        var id = evt.GetProperty("id").GetString()!;
        var type = evt.GetProperty("type").GetString()!;
        var obj = evt.GetProperty("data").GetProperty("object");
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await ExecAsync(conn, tx, "INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT DO NOTHING", ct, id, type) == 0) return false;
        switch (type)
        {
            case "checkout.session.completed" when Text(obj, "client_reference_id") is { } orgId:
                await ExecAsync(conn, tx, """
                    UPDATE orgs SET billing_customer_id = coalesce(billing_customer_id, $2), stripe_subscription_id = coalesce($3, stripe_subscription_id), updated_at = now()
                    WHERE id = $1
                    """, ct, orgId, Text(obj, "customer"), Text(obj, "subscription"));
                break;
            case "customer.subscription.created" or "customer.subscription.updated" or "customer.subscription.deleted":
                await SubscriptionAsync(conn, tx, options, obj, ended: type == "customer.subscription.deleted", ct);
                break;
            case "invoice.paid" or "invoice.payment_failed":
                await InvoiceAsync(conn, tx, obj, ct);
                break;
        }
        await tx.CommitAsync(ct);
        return true;
    }

    private static async Task SubscriptionAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StripeOptions options, JsonElement sub, bool ended, CancellationToken ct)
    {
        var status = ended ? "canceled" : Text(sub, "status") ?? "incomplete";
        var price = sub.TryGetProperty("items", out var items) && items.GetProperty("data").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } item
            ? Text(item.GetProperty("price"), "id")
            : null;
        var paidPlan = options.PlanOfPrice(price);
        // A canceled subscription never comes back (Stripe starts a new one), so a late "updated" for it is stale.
        await ExecAsync(conn, tx, """
            UPDATE orgs SET
              plan = CASE WHEN $4::text IS NULL OR NOT $5 THEN 'free' ELSE $4 END,
              plan_started_at = CASE WHEN plan IS DISTINCT FROM (CASE WHEN $4::text IS NULL OR NOT $5 THEN 'free' ELSE $4 END) THEN now() ELSE plan_started_at END,
              billing_customer_id = coalesce(billing_customer_id, $3),
              stripe_subscription_id = $2, subscription_status = $6, current_period_end = $7, cancel_at_period_end = $8, updated_at = now()
            WHERE (id = $1 OR ($1::text IS NULL AND billing_customer_id = $3))
              AND (stripe_subscription_id IS DISTINCT FROM $2 OR subscription_status IS DISTINCT FROM 'canceled')
            """, ct, Text(sub.TryGetProperty("metadata", out var meta) ? meta : default, "org_id"), Text(sub, "id"), Text(sub, "customer"), paidPlan,
            Paying.Contains(status), status, Unix(sub, "current_period_end"),
            sub.TryGetProperty("cancel_at_period_end", out var cancel) && cancel.ValueKind == JsonValueKind.True);
    }

    private static async Task InvoiceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, JsonElement invoice, CancellationToken ct)
    {
        var paid = Text(invoice, "status") == "paid";
        var cents = invoice.TryGetProperty(paid ? "amount_paid" : "amount_due", out var amount) ? amount.GetInt64() : 0;
        await ExecAsync(conn, tx, """
            INSERT INTO invoices (id, org_id, stripe_invoice_id, amount_usd, status, period_start, period_end, hosted_invoice_url, paid_at)
            SELECT fenta_id('inv'), o.id, $2, $3, $4, ($5::timestamptz AT TIME ZONE 'UTC')::date, ($6::timestamptz AT TIME ZONE 'UTC')::date, $7,
                   CASE WHEN $4 = 'paid' THEN now() END
            FROM orgs o WHERE o.billing_customer_id = $1
            ON CONFLICT (stripe_invoice_id) DO UPDATE SET status = EXCLUDED.status, amount_usd = EXCLUDED.amount_usd,
              paid_at = coalesce(invoices.paid_at, EXCLUDED.paid_at), hosted_invoice_url = EXCLUDED.hosted_invoice_url
            """, ct, Text(invoice, "customer"), Text(invoice, "id"), cents / 100m, Text(invoice, "status") ?? "open",
            Unix(invoice, "period_start") ?? DateTimeOffset.UtcNow, Unix(invoice, "period_end") ?? DateTimeOffset.UtcNow, Text(invoice, "hosted_invoice_url"));
    }

    private static string? Text(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Unix(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var value) && value.TryGetInt64(out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;

    private static async Task<int> ExecAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, params object?[] values)
    {
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
}
