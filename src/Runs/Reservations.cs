using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Jobs;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs;

/// <summary>
/// Spend reserved before a costly node item runs and released once its usage is recorded or it failed (seed 004's
/// reserve_credits / refund_credits), in <c>spend_reservations</c>. A reservation is refused when, with what the job
/// has spent and reserved, it would pass the job's budget (<c>BUDGET_EXCEEDED</c>), or when its KIE credits would pass
/// what is left of a free-tier org's monthly allowance with every other reservation of the org (<c>INSUFFICIENT_CREDITS</c>).
/// The check and the insert run under the org's row lock, so the items and concurrent runs of an org reserve one after
/// the other.
/// </summary>
public static class Reservations
{
    /// <summary>Reserves <paramref name="spend"/> for one node item; null when reserved (a repeated execution finds its own reservation), else why not.</summary>
    public static async Task<ActivityResult.Failed?> ReserveAsync(NpgsqlDataSource db, NodeCall call, Spend spend, CancellationToken ct)
    {
        if (spend.IsNone) return null;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        // The lock first, in its own statement: a statement that waited for a row lock still sums with the snapshot it
        // started with, so only a statement begun after the lock is held sees what the previous holder reserved.
        await using (var lockOrg = new NpgsqlCommand("SELECT 1 FROM orgs WHERE id = (SELECT org_id FROM jobs WHERE id = $1) FOR UPDATE", conn, tx))
        {
            lockOrg.Parameters.Add(new() { Value = call.JobId });
            await lockOrg.ExecuteNonQueryAsync(ct);
        }
        await using var cmd = new NpgsqlCommand($$"""
            SELECT o.id, o.plan, j.budget, j.cost_tokens, j.cost_total_usd, j.status,
                   coalesce((SELECT sum(r.tokens) FROM spend_reservations r WHERE r.job_id = j.id AND (r.node_id, r.item_index) <> ($2, $3)), 0),
                   coalesce((SELECT sum(r.cost_usd) FROM spend_reservations r WHERE r.job_id = j.id AND (r.node_id, r.item_index) <> ($2, $3)), 0),
                   coalesce((SELECT sum(u.kai_credits)::numeric FROM usage_records u
                             WHERE u.org_id = o.id AND u.created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'), 0),
                   coalesce((SELECT sum(r.kai_credits) FROM {{Metering.HeldReservationsSql}} AND r.org_id = o.id AND (r.job_id, r.node_id, r.item_index) <> ($1, $2, $3)), 0)
            FROM jobs j JOIN orgs o ON o.id = j.org_id WHERE j.id = $1
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = call.JobId });
        cmd.Parameters.Add(new() { Value = call.NodeId });
        cmd.Parameters.Add(new() { Value = call.Item });
        string orgId;
        Plan plan;
        Budget? budget;
        long tokens;
        decimal usd, creditsUsed;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct)) return new ActivityResult.Failed("JOB_NOT_FOUND", $"Job {call.JobId} is gone.", Permanent: true);
            orgId = reader.GetString(0);
            plan = Plan.For(reader.GetString(1));
            budget = reader.IsDBNull(2) ? null : reader.GetFieldValue<Budget>(2);
            // Ended (a cancel) since the item started: nothing more is spent for it, and nothing is left held.
            if (!JobStatuses.Parse(reader.GetString(5)).IsActive())
                return new ActivityResult.Failed("CANCELLED", $"The job ended before {call.NodeId} could spend anything.", Permanent: true);
            tokens = reader.GetInt32(3) + reader.GetInt64(6);
            usd = reader.GetDecimal(4) + reader.GetDecimal(7);
            creditsUsed = reader.GetDecimal(8) + reader.GetInt64(9);
        }
        var cost = Estimates.Price(spend, plan.Prices);
        if (budget?.Refusal(tokens + spend.Tokens, usd + cost) is { } overBudget)
            return new ActivityResult.Failed("BUDGET_EXCEEDED", $"Stopped before {call.NodeId}: {overBudget} (spent and reserved so far: {tokens} tokens, ${usd:0.####}).", Permanent: true);
        if (plan.BlocksAtLimit && plan.KaiCredits is { } allowance && spend.KaiCredits > 0 && creditsUsed + spend.KaiCredits > allowance)
            return new ActivityResult.Failed("INSUFFICIENT_CREDITS",
                $"{call.NodeId} needs {spend.KaiCredits} KIE credits, but only {Math.Max(0, allowance - creditsUsed):0} of the plan's {allowance} this month are left (used or reserved by running jobs). Upgrade the plan or wait for the reset.",
                Permanent: true);

        await using var insert = new NpgsqlCommand("""
            INSERT INTO spend_reservations (job_id, node_id, item_index, org_id, tokens, kai_credits, render_seconds, cost_usd)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (job_id, node_id, item_index) DO UPDATE
              SET tokens = EXCLUDED.tokens, kai_credits = EXCLUDED.kai_credits, render_seconds = EXCLUDED.render_seconds, cost_usd = EXCLUDED.cost_usd
            """, conn, tx);
        foreach (var value in new object[] { call.JobId, call.NodeId, call.Item, orgId, spend.Tokens, spend.KaiCredits })
            insert.Parameters.Add(new() { Value = value });
        insert.Parameters.Add(new() { Value = spend.RenderSeconds, NpgsqlDbType = NpgsqlDbType.Numeric });
        insert.Parameters.Add(new() { Value = cost, NpgsqlDbType = NpgsqlDbType.Numeric });
        await insert.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return null;
    }

    /// <summary>The item's reservation is settled (its usage is recorded) or refunded (it failed): either way it no longer counts.</summary>
    public static async Task ReleaseAsync(NpgsqlDataSource db, NodeCall call, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(ReleaseItemSql);
        cmd.Parameters.Add(new() { Value = call.JobId });
        cmd.Parameters.Add(new() { Value = call.NodeId });
        cmd.Parameters.Add(new() { Value = call.Item });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>SQL that releases the reservation of the node item in $1 (job), $2 (node), $3 (item), for statements that settle it in one go.</summary>
    public const string ReleaseItemSql = "DELETE FROM spend_reservations WHERE job_id = $1 AND node_id = $2 AND item_index = $3";
}
