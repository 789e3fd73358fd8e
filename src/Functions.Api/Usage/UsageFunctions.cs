using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Usage;

public sealed record UsageTotals(long LlmTokens, long KaiCredits, decimal RenderSeconds, decimal CostUsd);
public sealed record UsageDay(DateOnly Date, long LlmTokens, long KaiCredits, decimal RenderSeconds, decimal CostUsd);
public sealed record UsageDto(DateOnly From, DateOnly To, UsageTotals Totals, long StorageBytes, IReadOnlyList<UsageDay> Days);
public sealed record QuotaLineDto(string Resource, decimal? Limit, decimal Used, decimal Reserved, decimal? Remaining, decimal Overage);
public sealed record QuotaDto(string Plan, decimal? PriceUsd, bool BlocksAtLimit, DateTimeOffset PeriodStart, DateTimeOffset ResetsAt, IReadOnlyList<QuotaLineDto> Resources);

/// <summary>What the org consumed (metered per node item) and where it stands against its plan's monthly allowances.</summary>
[Tags("Usage")]
public sealed class UsageFunctions(NpgsqlDataSource db, TimeProvider clock)
{
    [Function(nameof(GetUsage)), Access(OrgRole.Viewer, Scopes.BillingView),
     EndpointSummary("Usage per day and in total between from and to (dates, UTC; default: this month), and storage now.")]
    public async Task<Ok<UsageDto>> GetUsage([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/usage")] HttpRequest request,
        string? from, string? to, Caller caller, CancellationToken ct)
    {
        var (periodStart, periodEnd) = Metering.PeriodOf(clock.GetUtcNow());
        var errors = new FieldErrors();
        var start = Date(from, "from", DateOnly.FromDateTime(periodStart.UtcDateTime), errors);
        var end = Date(to, "to", DateOnly.FromDateTime(periodEnd.UtcDateTime.AddDays(-1)), errors);
        if (!errors.Any && end < start) errors.Add("to", "must not be before from");
        if (!errors.Any && end.DayNumber - start.DayNumber > 366) errors.Add("to", "must be at most 366 days after from");
        errors.ThrowIfAny();

        await using var cmd = db.CreateCommand("""
            SELECT (created_at AT TIME ZONE 'UTC')::date, coalesce(sum(llm_tokens_prompt + llm_tokens_output), 0)::bigint, coalesce(sum(kai_credits), 0)::bigint,
                   coalesce(sum(render_seconds), 0), coalesce(sum(cost_usd), 0)
            FROM usage_records WHERE org_id = $1 AND created_at >= $2 AND created_at < $3
            GROUP BY 1 ORDER BY 1
            """);
        cmd.Parameters.Add(new() { Value = caller.OrgId });
        cmd.Parameters.Add(new() { Value = new DateTimeOffset(start.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) });
        cmd.Parameters.Add(new() { Value = new DateTimeOffset(end.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) });
        var days = new List<UsageDay>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                days.Add(new UsageDay(reader.GetFieldValue<DateOnly>(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetDecimal(3), reader.GetDecimal(4)));
        var status = await Metering.StatusAsync(db, caller.OrgId, clock.GetUtcNow(), ct);
        var totals = new UsageTotals(days.Sum(d => d.LlmTokens), days.Sum(d => d.KaiCredits), days.Sum(d => d.RenderSeconds), days.Sum(d => d.CostUsd));
        return TypedResults.Ok(new UsageDto(start, end, totals, (long)status.Lines.Single(l => l.Resource == UsageResources.StorageBytes).Used, days));
    }

    [Function(nameof(GetUsageQuota)), Access(OrgRole.Viewer, Scopes.BillingView),
     EndpointSummary("The plan's monthly allowances, what is used, what remains and any overage; when the period resets.")]
    public async Task<Ok<QuotaDto>> GetUsageQuota([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/usage/quota")] HttpRequest request,
        Caller caller, CancellationToken ct)
    {
        var status = await Metering.StatusAsync(db, caller.OrgId, clock.GetUtcNow(), ct);
        return TypedResults.Ok(new QuotaDto(status.Plan.Id, status.Plan.PriceUsd, status.Plan.BlocksAtLimit, status.PeriodStart, status.ResetsAt,
            [.. status.Lines.Select(l => new QuotaLineDto(l.Resource, l.Limit, l.Used, l.Reserved, l.Remaining, l.Overage))]));
    }

    private static DateOnly Date(string? text, string field, DateOnly fallback, FieldErrors errors)
    {
        if (text is null) return fallback;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", out var date)) return date;
        errors.Add(field, "must be a date like 2026-12-01");
        return fallback;
    }
}
