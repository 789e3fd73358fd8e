using FentaWeb.Domain.Billing;
using FentaWeb.Integrations.Stripe;
using FentaWeb.Orchestrations.Billing;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>A usage record's share of its month's overage, and the Stripe settings that name the meters and overage prices.</summary>
public class OverageShareTests
{
    [Theory]
    [InlineData(0, 700_000, 0)] // within the allowance
    [InlineData(700_000, 350_000, 50_000)] // crosses it: only the part beyond
    [InlineData(1_050_000, 25_000, 25_000)] // already beyond: all of it
    [InlineData(1_000_000, 1, 1)] // exactly at the allowance before it
    [InlineData(999_999, 1, 0)] // reaches it exactly
    public void ARecordIsBilledForWhatItTakesTheMonthBeyondTheAllowance(long usedBefore, long quantity, long expected) =>
        Assert.Equal(expected, OverageReporter.ShareOfOverage(usedBefore, quantity, allowance: 1_000_000));

    [Fact]
    public void TheSharesOfAMonthAddUpToItsOverageAndAnUnlimitedPlanHasNone()
    {
        decimal[] records = [3_000.5m, 400m, 0.25m, 199.5m, 12.25m];
        decimal used = 0, billed = 0;
        foreach (var quantity in records)
        {
            billed += OverageReporter.ShareOfOverage(used, quantity, allowance: 3_600);
            used += quantity;
        }
        Assert.Equal(used - 3_600, billed);
        Assert.Equal(0, OverageReporter.ShareOfOverage(10_000, 5_000, allowance: null));
    }

    [Fact]
    public void MeterNamesDefaultToTheFentaMetersAndOveragePricesAreOptionalListsPerPlan()
    {
        var settings = new Dictionary<string, string?>
        {
            ["FENTA_STRIPE_SECRET_KEY"] = "sk_test_x",
            ["FENTA_STRIPE_METER_KAI_CREDITS"] = "acme_kie_credits",
            ["FENTA_STRIPE_OVERAGE_PRICES_PRO"] = " price_a, ,price_b ",
        };
        var options = StripeOptions.FromSettings(key => settings.GetValueOrDefault(key))!;
        Assert.Equal(new Dictionary<string, string>
        {
            [UsageResources.LlmTokens] = "fenta_llm_tokens", [UsageResources.KaiCredits] = "acme_kie_credits", [UsageResources.RenderSeconds] = "fenta_render_seconds",
        }, options.MeterEventNames);
        Assert.Equal(["price_a", "price_b"], options.OveragePricesOf("pro"));
        Assert.Empty(options.OveragePricesOf("starter"));
        Assert.Empty(options.OveragePricesOf("free"));
        Assert.Null(StripeOptions.FromSettings(_ => null));
    }
}
