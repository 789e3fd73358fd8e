using FentaWeb.Domain.Common;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Domain.Billing;

/// <summary>
/// One resource's standing in the current period: the plan's allowance, what was used, what running jobs have reserved
/// (spend_reservations, settled or refunded as they finish), what is left for new work, and what is over.
/// </summary>
public sealed record QuotaLine(string Resource, decimal? Limit, decimal Used, decimal Reserved = 0)
{
    public decimal? Remaining => Limit is { } limit ? Math.Max(0, limit - Used - Reserved) : null;
    public decimal Overage => Limit is { } limit ? Math.Max(0, Used - limit) : 0;
    public bool Exhausted => Limit is { } limit && Used >= limit;
}

public sealed record QuotaStatus(Plan Plan, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt, IReadOnlyList<QuotaLine> Lines);

/// <summary>The free tier's allowance of a resource is used up: no new job starts until the period resets.</summary>
public sealed class QuotaExceededException(QuotaLine line, DateTimeOffset resetsAt)
    : FentaException("QUOTA_EXCEEDED", $"The plan's monthly {line.Resource} ({line.Limit:0.##}) is used up ({line.Used:0.##}); it resets at {resetsAt:yyyy-MM-dd HH:mm} UTC. Upgrade the plan or wait.")
{
    public QuotaLine Line { get; } = line;
    public DateTimeOffset ResetsAt { get; } = resetsAt;
}

/// <summary>
/// Metering: activities record what they consume (once per node item and resource, however often they run), the
/// job's cost columns move with it, and the plan's monthly allowances are checked before a job starts. Periods are
/// calendar months in UTC.
/// </summary>
public static class Metering
{
    public static (DateTimeOffset Start, DateTimeOffset End) PeriodOf(DateTimeOffset instant)
    {
        var start = new DateTimeOffset(instant.UtcDateTime.Year, instant.UtcDateTime.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return (start, start.AddMonths(1));
    }

    /// <summary>Rendered video seconds of one Output.Render item, added to the job's <c>cost_render_seconds</c> the first time only.</summary>
    public static Task RecordRenderAsync(NpgsqlDataSource db, string jobId, string nodeId, int item, decimal seconds, string profile, CancellationToken ct) =>
        RecordAsync(db, jobId, nodeId, item, UsageResources.RenderSeconds, ct, renderSeconds: seconds, renderProfile: profile);

    /// <summary>LLM tokens of one node item, added to the job's <c>cost_tokens</c> the first time only.</summary>
    public static Task RecordTokensAsync(NpgsqlDataSource db, string jobId, string nodeId, int item, int prompt, int output, string model, CancellationToken ct) =>
        RecordAsync(db, jobId, nodeId, item, UsageResources.LlmTokens, ct, promptTokens: prompt, outputTokens: output, model: model);

    /// <summary>The unit prices of the plan of the org that runs <paramref name="jobId"/>: what its usage records cost.</summary>
    public static async Task<UnitPrices> PricesOfJobAsync(NpgsqlDataSource db, string jobId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT o.plan FROM jobs j JOIN orgs o ON o.id = j.org_id WHERE j.id = $1");
        cmd.Parameters.Add(new() { Value = jobId });
        return Plan.For((string?)await cmd.ExecuteScalarAsync(ct)).Prices;
    }

    /// <summary>
    /// SQL that moves a job's and its node item's dollar cost by the usage just recorded: $1-$3 are job, node and item,
    /// <c>recorded</c> a CTE returning the new record's <c>cost_usd</c>.
    /// </summary>
    public const string CostFollowsUsageSql = """
        node_cost AS (
          UPDATE node_runs n SET cost_usd = n.cost_usd + r.cost_usd FROM recorded r WHERE n.job_id = $1 AND n.node_id = $2 AND n.item_index = $3)
        """;

    /// <summary>
    /// One usage record per node item and resource (a re-run finds it there and changes nothing), priced at the org's
    /// plan; the job's cost columns and the item's cost grow by what was recorded. (KIE credits are recorded with their
    /// generation's completion, in one statement.)
    /// </summary>
    private static async Task RecordAsync(NpgsqlDataSource db, string jobId, string nodeId, int item, string resource, CancellationToken ct,
        int? promptTokens = null, int? outputTokens = null, string? model = null, decimal? renderSeconds = null, string? renderProfile = null)
    {
        var cost = (await PricesOfJobAsync(db, jobId, ct)).Of((promptTokens ?? 0) + (outputTokens ?? 0), 0, renderSeconds ?? 0);
        await using var cmd = db.CreateCommand($"""
            WITH recorded AS (
              INSERT INTO usage_records (id, org_id, user_id, job_id, node_id, item_index, resource_type,
                                         llm_tokens_prompt, llm_tokens_output, llm_model, render_seconds, render_profile, cost_usd)
              SELECT fenta_id('usage'), org_id, created_by, id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM jobs WHERE id = $1
              ON CONFLICT (job_id, node_id, item_index, resource_type) WHERE job_id IS NOT NULL DO NOTHING
              RETURNING llm_tokens_prompt, llm_tokens_output, render_seconds, cost_usd),
            {CostFollowsUsageSql}
            UPDATE jobs j SET cost_tokens = j.cost_tokens + coalesce(r.llm_tokens_prompt + r.llm_tokens_output, 0),
                              cost_render_seconds = j.cost_render_seconds + coalesce(r.render_seconds, 0),
                              cost_total_usd = j.cost_total_usd + r.cost_usd
            FROM recorded r WHERE j.id = $1
            """);
        void Add(object? value, NpgsqlDbType type) => cmd.Parameters.Add(new() { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        Add(jobId, NpgsqlDbType.Text);
        Add(nodeId, NpgsqlDbType.Text);
        Add(item, NpgsqlDbType.Integer);
        Add(resource, NpgsqlDbType.Text);
        Add(promptTokens, NpgsqlDbType.Integer);
        Add(outputTokens, NpgsqlDbType.Integer);
        Add(model, NpgsqlDbType.Text);
        Add(renderSeconds, NpgsqlDbType.Numeric);
        Add(renderProfile, NpgsqlDbType.Text);
        Add(cost, NpgsqlDbType.Numeric);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The spend reservations that still hold, as <c>spend_reservations r … WHERE</c>: those of running jobs. A job's run
    /// or its cancel deletes what it held, and this keeps any row left behind (a worker gone mid-item) from holding anything.
    /// </summary>
    public const string HeldReservationsSql = "spend_reservations r JOIN jobs held_by ON held_by.id = r.job_id WHERE held_by.status IN ('queued', 'processing')";

    public static async Task<QuotaStatus> StatusAsync(NpgsqlDataSource db, string orgId, DateTimeOffset now, CancellationToken ct)
    {
        var (start, end) = PeriodOf(now);
        await using var cmd = db.CreateCommand($"""
            SELECT o.plan,
                   coalesce(sum(u.llm_tokens_prompt + u.llm_tokens_output), 0)::numeric, coalesce(sum(u.kai_credits), 0)::numeric,
                   coalesce(sum(u.render_seconds), 0)::numeric,
                   (SELECT coalesce(sum(size_bytes), 0) FROM assets WHERE org_id = o.id AND deleted_at IS NULL)::numeric,
                   held.tokens, held.kai_credits, held.render_seconds,
                   (SELECT count(*) FILTER (WHERE e.completed_at IS NOT NULL) FROM {Publishing.Enrichments.CountedSql})::numeric,
                   (SELECT count(*) FILTER (WHERE e.completed_at IS NULL) FROM {Publishing.Enrichments.CountedSql})::numeric
            FROM orgs o
            CROSS JOIN LATERAL (SELECT coalesce(sum(r.tokens), 0)::numeric AS tokens, coalesce(sum(r.kai_credits), 0)::numeric AS kai_credits,
                                       coalesce(sum(r.render_seconds), 0)::numeric AS render_seconds
                                FROM {HeldReservationsSql} AND r.org_id = o.id) held
            LEFT JOIN usage_records u ON u.org_id = o.id AND u.created_at >= $2 AND u.created_at < $3
            WHERE o.id = $1 GROUP BY o.id, o.plan, held.tokens, held.kai_credits, held.render_seconds
            """);
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = end, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) throw new NotFoundException("org", orgId);
        var plan = Plan.For(reader.GetString(0));
        return new QuotaStatus(plan, start, end,
        [
            new QuotaLine(UsageResources.LlmTokens, plan.LlmTokens, reader.GetDecimal(1), reader.GetDecimal(5)),
            new QuotaLine(UsageResources.KaiCredits, plan.KaiCredits, reader.GetDecimal(2), reader.GetDecimal(6)),
            new QuotaLine(UsageResources.RenderSeconds, plan.RenderSeconds, reader.GetDecimal(3), reader.GetDecimal(7)),
            new QuotaLine(UsageResources.StorageBytes, plan.StorageBytes, reader.GetDecimal(4)),
            // Generations in flight hold their allowance as jobs' reservations do.
            new QuotaLine(UsageResources.Enrichments, plan.Enrichments, reader.GetDecimal(8), reader.GetDecimal(9)),
        ]);
    }

    /// <summary>
    /// Refuses new work when the org's plan stops at its limits and one of them (or <paramref name="only"/> that one,
    /// such as storage for an upload) is reached. (Enrichments are not jobs' work: <see cref="Publishing.Enrichments"/> checks them.)
    /// </summary>
    public static async Task EnsureWithinQuotaAsync(NpgsqlDataSource db, string orgId, DateTimeOffset now, CancellationToken ct, string? only = null)
    {
        // Paid tiers never stop, so only the free tier pays for adding up the month (and the org's storage).
        await using (var plan = db.CreateCommand("SELECT plan FROM orgs WHERE id = $1"))
        {
            plan.Parameters.Add(new() { Value = orgId });
            if (!Plan.For((string?)await plan.ExecuteScalarAsync(ct)).BlocksAtLimit) return;
        }
        var status = await StatusAsync(db, orgId, now, ct);
        if (status.Plan.BlocksAtLimit && status.Lines.FirstOrDefault(l => l.Exhausted && l.Resource != UsageResources.Enrichments && (only is null || l.Resource == only)) is { } line)
            throw new QuotaExceededException(line, status.ResetsAt);
    }
}
