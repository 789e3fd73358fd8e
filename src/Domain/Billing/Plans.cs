namespace FentaWeb.Domain.Billing;

/// <summary>
/// What one unit of each metered resource costs in US dollars (seed 000's overage rates): tokens per 100K, KIE credits
/// each, render seconds each, storage per GB-month.
/// </summary>
public sealed record UnitPrices(decimal PerHundredThousandTokens, decimal PerKaiCredit, decimal PerRenderSecond, decimal PerStorageGb)
{
    public decimal Of(decimal tokens, decimal kaiCredits, decimal renderSeconds) =>
        decimal.Round(tokens / 100_000m * PerHundredThousandTokens + kaiCredits * PerKaiCredit + renderSeconds * PerRenderSecond, 4);
}

/// <summary>
/// What a subscription tier includes each month (seed 000's pricing table); null means unlimited. <paramref name="Enrichments"/>
/// is seed 003's AI metadata generations a month, refused beyond it on every plan.
/// </summary>
public sealed record Plan(string Id, decimal? PriceUsd, long? LlmTokens, int? KaiCredits, int? RenderSeconds, long? StorageBytes, bool BlocksAtLimit,
    UnitPrices? Overage = null, int? Enrichments = null)
{
    private const long GB = 1024L * 1024 * 1024;

    private static readonly UnitPrices StarterRates = new(0.10m, 0.05m, 0.02m, 0.10m);
    private static readonly UnitPrices ProRates = new(0.08m, 0.04m, 0.015m, 0.08m);

    public static readonly IReadOnlyList<Plan> All =
    [
        // The free tier stops starting jobs at its limits; paid tiers carry on and bill the overage at their rates.
        new("free", 0, 100_000, 50, 300, 5 * GB, BlocksAtLimit: true, Enrichments: 10),
        new("starter", 29, 1_000_000, 500, 3_600, 50 * GB, BlocksAtLimit: false, StarterRates, Enrichments: 100),
        new("pro", 99, 5_000_000, 2_000, 10_800, 200 * GB, BlocksAtLimit: false, ProRates, Enrichments: 1000),
        new("enterprise", null, null, null, null, null, BlocksAtLimit: false),
    ];

    public static Plan For(string? id) => All.FirstOrDefault(p => p.Id == id) ?? All[0];

    /// <summary>
    /// What a job's units cost in dollars (its <c>cost_total_usd</c>, budgets and estimates): the plan's overage rates,
    /// Starter's (the published list rates) for plans that have none, whether or not the units fall within the allowance.
    /// </summary>
    public UnitPrices Prices => Overage ?? StarterRates;

    /// <summary>The plan's monthly allowance of a metered resource, or null when unlimited.</summary>
    public decimal? Allowance(string resource) => resource switch
    {
        UsageResources.LlmTokens => LlmTokens,
        UsageResources.KaiCredits => KaiCredits,
        UsageResources.RenderSeconds => RenderSeconds,
        UsageResources.StorageBytes => StorageBytes,
        UsageResources.Enrichments => Enrichments,
        _ => null,
    };
}

public static class UsageResources
{
    public const string LlmTokens = "llm_tokens";
    public const string KaiCredits = "kai_credits";
    public const string RenderSeconds = "render_seconds";
    public const string StorageBytes = "storage_bytes";
    /// <summary>AI metadata generations (POST /v1/enrichment/generate), counted in the enrichments table, not usage_records.</summary>
    public const string Enrichments = "enrichments";
}
