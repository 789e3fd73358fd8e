using System.Security.Cryptography;
using System.Text;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Stripe;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Orchestrations.Billing;

/// <summary>One org's round: what was settled, and the failure that stopped it (its remaining records wait for the next round).</summary>
public sealed record OrgOverageRound(string OrgId, int Reported, int AlreadyAtStripe, int WithinAllowance, ProviderException? Failure);

/// <summary>A whole round of overage reporting.</summary>
public sealed record OverageRound(int SettledWithoutOverageRates, IReadOnlyList<OrgOverageRound> Orgs, int OrgsBusyElsewhere);

/// <summary>
/// Reports paid plans' overage to Stripe as Billing Meter events, one per usage record, at most once each (seed 000:
/// "Paid tiers: Automatic overage billing"). A record's share of its month's overage is what it takes the month's total
/// beyond the allowance: with the records of one org, resource and calendar month (UTC) in order, record i is billed
/// <c>max(0, used_i − allowance) − max(0, used_{i−1} − allowance)</c>; tokens count prompt plus output. Records with no
/// share, and every record of a plan without overage rates (free stops at its limits, enterprise has none), are settled
/// without a call. Stripe prices each meter (docs/api-guide.md, Overage billing), so the events carry units, not dollars: tokens as
/// tokens, KIE credits and render seconds as they are. Storage is a level (bytes held), not usage that happens, so it is
/// not reported here.
/// </summary>
public sealed class OverageReporter(NpgsqlDataSource db, StripeBilling stripe, StripeOptions options)
{
    /// <summary>
    /// Stripe refuses meter events older than 35 days; an hour's margin keeps a send from crossing that line in flight.
    /// Older unsettled records (Stripe was unreachable for over a month) are no longer reported, though they still count
    /// towards their month's allowance.
    /// </summary>
    public static readonly TimeSpan MaxEventAge = TimeSpan.FromDays(35) - TimeSpan.FromHours(1);

    /// <summary>Records one org's lock covers at a time; the next batch starts where it ended.</summary>
    private const int Batch = 200;

    private static readonly string[] PlansWithOverage = [.. Plan.All.Where(p => p.Overage is not null).Select(p => p.Id)];

    private sealed record Pending(string Id, string Resource, DateTimeOffset CreatedAt, decimal Quantity, decimal UsedBefore);

    public async Task<OverageRound> ReportAsync(DateTimeOffset now, CancellationToken ct)
    {
        var cutoff = now - MaxEventAge;
        var settled = await SettleWithoutOverageRatesAsync(cutoff, ct);
        var rounds = new List<OrgOverageRound>();
        var busy = 0;
        foreach (var orgId in await BillableOrgsAsync(cutoff, ct))
        {
            if (await ReportOrgAsync(orgId, cutoff, ct) is { } round) rounds.Add(round);
            else busy++;
        }
        return new OverageRound(settled, rounds, busy);
    }

    /// <summary>
    /// Records of orgs whose plan has no overage rates are settled at 0 in one statement, by the plan the org has as it
    /// runs (so a record is never settled by a plan the org left while this round was reading).
    /// </summary>
    private async Task<int> SettleWithoutOverageRatesAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE usage_records u SET overage_quantity = 0, overage_reported_at = now()
            FROM orgs o
            WHERE o.id = u.org_id AND NOT (o.plan = ANY($2)) AND u.overage_reported_at IS NULL AND u.created_at >= $1
            """);
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = PlansWithOverage });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Orgs on a plan with overage rates and unsettled records. One without a Stripe customer (a paid plan only comes
    /// through a Stripe subscription, so only a hand-edited org) has nobody to bill: its records wait, unsettled.
    /// </summary>
    private async Task<List<string>> BillableOrgsAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT o.id FROM orgs o
            WHERE o.plan = ANY($2) AND o.billing_customer_id IS NOT NULL
              AND EXISTS (SELECT 1 FROM usage_records u WHERE u.org_id = o.id AND u.overage_reported_at IS NULL AND u.created_at >= $1)
            ORDER BY o.id
            """);
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = PlansWithOverage });
        var orgs = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) orgs.Add(reader.GetString(0));
        return orgs;
    }

    /// <summary>
    /// One org's unsettled records, in order, under the org's advisory lock; null when another host holds it.
    /// <para>
    /// Why a lock per org, held across the Stripe calls: a record's share depends on every record before it in its month,
    /// so one host must settle an org's records in order, each before computing the next, or two hosts could each bill
    /// the same stretch of the allowance. A session lock (not a transaction) lets each record be settled, committed, as
    /// soon as Stripe has it; it goes with the connection if the host dies (and the pool's reset drops it too). A host
    /// that finds the org locked skips it for this round: nothing waits on a lock.
    /// </para>
    /// <para>
    /// A crash between Stripe's answer and the settling UPDATE leaves that one record unsettled; the next round sends it
    /// again with the same identifier and Idempotency-Key, and Stripe answers with the first event or refuses the
    /// duplicate identifier (taken as settled), so it is counted once. After a failed send the org stops for this round:
    /// a later record's share is only right once the earlier ones are settled.
    /// </para>
    /// </summary>
    private async Task<OrgOverageRound?> ReportOrgAsync(string orgId, DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var lockKey = LockKey(orgId);
        if (!await TryLockAsync(conn, lockKey, ct)) return null;
        var (reported, duplicates, within) = (0, 0, 0);
        try
        {
            // The plan may have changed since the org was listed; its allowance, rates and customer are read under the lock.
            if (await BillingAsync(conn, orgId, ct) is not ({ Overage: not null } plan, var customerId)) return new OrgOverageRound(orgId, 0, 0, 0, null);
            while (true)
            {
                var batch = await PendingAsync(conn, orgId, cutoff, ct);
                foreach (var record in batch)
                {
                    var overage = ShareOfOverage(record.UsedBefore, record.Quantity, plan.Allowance(record.Resource));
                    if (overage > 0)
                    {
                        MeterEventOutcome outcome;
                        try
                        {
                            outcome = await stripe.ReportUsageAsync(options.MeterEventNames[record.Resource], customerId, overage, record.Id, record.CreatedAt, ct);
                        }
                        catch (ProviderException e)
                        {
                            return new OrgOverageRound(orgId, reported, duplicates, within, e);
                        }
                        if (outcome == MeterEventOutcome.AlreadyRecorded) duplicates++;
                        else reported++;
                    }
                    else within++;
                    await SettleAsync(conn, record.Id, overage, ct);
                }
                if (batch.Count < Batch) return new OrgOverageRound(orgId, reported, duplicates, within, null);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock($1)", conn);
            unlock.Parameters.Add(new() { Value = lockKey });
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>What this record adds to its month's overage, given what the month used before it.</summary>
    public static decimal ShareOfOverage(decimal usedBefore, decimal quantity, decimal? allowance) =>
        allowance is { } limit ? Math.Max(0, usedBefore + quantity - limit) - Math.Max(0, usedBefore - limit) : 0;

    /// <summary>
    /// The org's next unsettled records (oldest first) with what their month used before each. Settled records come first
    /// in that sum whatever their time: a record written late with an earlier created_at (its transaction began before
    /// others committed) is then billed against what is left of the allowance, so the month's reported shares always add
    /// up to its overage. Without such late records the order is plain (created_at, id). Unsettled records too old to
    /// report still count (they are earlier).
    /// </summary>
    private static async Task<List<Pending>> PendingAsync(NpgsqlConnection conn, string orgId, DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            WITH month_rows AS (
              SELECT id, resource_type, created_at, overage_reported_at IS NULL AS pending,
                     date_trunc('month', created_at, 'UTC') AS period,
                     (CASE resource_type
                        WHEN 'llm_tokens' THEN coalesce(llm_tokens_prompt, 0)::numeric + coalesce(llm_tokens_output, 0)
                        WHEN 'kai_credits' THEN coalesce(kai_credits, 0)::numeric
                        ELSE coalesce(render_seconds, 0) END) AS quantity
              FROM usage_records
              WHERE org_id = $1 AND created_at >= date_trunc('month', $2::timestamptz, 'UTC')),
            ordered AS (
              SELECT *, coalesce(sum(quantity) OVER (PARTITION BY resource_type, period ORDER BY pending, created_at, id
                                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS used_before
              FROM month_rows)
            SELECT id, resource_type, created_at, quantity, used_before FROM ordered
            WHERE pending AND created_at >= $2
            ORDER BY created_at, id LIMIT $3
            """, conn);
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = Batch });
        var pending = new List<Pending>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            pending.Add(new Pending(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetDecimal(3), reader.GetDecimal(4)));
        return pending;
    }

    private static async Task SettleAsync(NpgsqlConnection conn, string recordId, decimal overage, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "UPDATE usage_records SET overage_quantity = $2, overage_reported_at = now() WHERE id = $1 AND overage_reported_at IS NULL", conn);
        cmd.Parameters.Add(new() { Value = recordId });
        cmd.Parameters.Add(new() { Value = overage });
        // Stripe has the event: settling it must not be abandoned half-way because the round is being cancelled.
        await cmd.ExecuteNonQueryAsync(CancellationToken.None);
    }

    /// <summary>The org's plan and Stripe customer, or null when it has no customer.</summary>
    private static async Task<(Plan Plan, string CustomerId)?> BillingAsync(NpgsqlConnection conn, string orgId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT plan, billing_customer_id FROM orgs WHERE id = $1 AND billing_customer_id IS NOT NULL", conn);
        cmd.Parameters.Add(new() { Value = orgId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? (Plan.For(reader.GetString(0)), reader.GetString(1)) : null;
    }

    private static async Task<bool> TryLockAsync(NpgsqlConnection conn, long key, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_try_advisory_lock($1)", conn);
        cmd.Parameters.Add(new() { Value = key });
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The org's advisory lock key: a stable 64-bit hash of "overage:{org}" (a collision only makes two orgs take turns).</summary>
    private static long LockKey(string orgId) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes($"overage:{orgId}")), 0);
}
