namespace FentaWeb.Domain.Billing;

/// <summary>What a subscription tier includes each month (seed 000's pricing table); null means unlimited.</summary>
public sealed record Plan(string Id, decimal? PriceUsd, long? LlmTokens, int? KaiCredits, int? RenderSeconds, long? StorageBytes, bool BlocksAtLimit)
{
    private const long GB = 1024L * 1024 * 1024;

    public static readonly IReadOnlyList<Plan> All =
    [
        // The free tier stops starting jobs at its limits; paid tiers carry on and bill the overage.
        new("free", 0, 100_000, 50, 300, 5 * GB, BlocksAtLimit: true),
        new("starter", 29, 1_000_000, 500, 3_600, 50 * GB, BlocksAtLimit: false),
        new("pro", 99, 5_000_000, 2_000, 10_800, 200 * GB, BlocksAtLimit: false),
        new("enterprise", null, null, null, null, null, BlocksAtLimit: false),
    ];

    public static Plan For(string? id) => All.FirstOrDefault(p => p.Id == id) ?? All[0];
}

public static class UsageResources
{
    public const string LlmTokens = "llm_tokens";
    public const string KaiCredits = "kai_credits";
    public const string RenderSeconds = "render_seconds";
    public const string StorageBytes = "storage_bytes";
}
