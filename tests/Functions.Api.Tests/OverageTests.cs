using System.Diagnostics;
using System.Net.Http.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Integrations.Http;
using FentaWeb.Simulators;
using Npgsql;
using NpgsqlTypes;
using Stripe;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Paid overage reaches Stripe as Billing Meter events, once per usage record: two orchestration hosts run the
/// "OverageReports" timer on a fake clock the tests move a minute at a time, against the Stripe simulator. Usage records
/// are written as the activities write them (one row per item and resource); the plans' allowances are seed 000's.
/// </summary>
public class OverageTests(OverageTests.Host host) : IClassFixture<OverageTests.Host>
{
    private const string MeterEventsPath = "/v1/billing/meter_events";

    public sealed class Host : FakeClockHost
    {
        public StripeSimulator Stripe { get; } = new();
        protected override int Workers => 2;
        protected override Task BeforeStartAsync() => Stripe.StartAsync();

        private Dictionary<string, string?> StripeSettings => new()
        {
            ["FENTA_STRIPE_SECRET_KEY"] = StripeSimulator.ValidKey,
            ["FENTA_STRIPE_BASE_URL"] = Stripe.BaseAddress.ToString(),
        };

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => StripeSettings;

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>(StripeSettings)
        {
            ["FENTA_STRIPE_PRICE_STARTER"] = "price_starter",
            ["FENTA_STRIPE_PRICE_PRO"] = "price_pro",
            ["FENTA_STRIPE_OVERAGE_PRICES_STARTER"] = "price_starter_tokens, price_starter_credits,price_starter_seconds",
            ["FENTA_STRIPE_OVERAGE_PRICES_PRO"] = "price_pro_tokens,price_pro_credits,price_pro_seconds",
        };

        /// <summary>One timer round on every host: the clock moves just past the next :45, the timer's second.</summary>
        public void Tick()
        {
            var now = Clock.GetUtcNow();
            var next = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 45, TimeSpan.Zero).AddMilliseconds(500);
            Clock.SetUtcNow(next > now ? next : next.AddMinutes(1));
        }

        /// <summary>
        /// Waits for <paramref name="condition"/> while moving the clock a second at a time (at most 20 s, well short of the
        /// next round), since the hosts' clock is also what the Stripe client's retries wait on between tries.
        /// </summary>
        public async Task WaitThroughRetriesAsync(string what, Func<bool> condition)
        {
            var watch = Stopwatch.StartNew();
            for (var nudged = 0; !condition(); await Task.Delay(200))
            {
                if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"never happened: {what}");
                if (nudged++ < 20) Clock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        public int MeterEventRequests => Stripe.Requests.Count(r => r.Path == MeterEventsPath);
    }

    private sealed record Usage(string Id, DateTimeOffset CreatedAt);

    /// <summary>An org on <paramref name="plan"/> with a Stripe customer, as a completed checkout and its subscription leave it.</summary>
    private async Task<(string OrgId, string CustomerId)> OrgAsync(string plan)
    {
        var session = await host.RegisterAsync();
        var customer = $"cus_{Guid.NewGuid():N}";
        await host.ScalarAsync("UPDATE orgs SET plan = $2, billing_customer_id = $3, subscription_status = 'active' WHERE id = $1", session.OrgId, plan, customer);
        return (session.OrgId, customer);
    }

    /// <summary>
    /// The records' times: seconds apart, in this calendar month (allowances are monthly), and in the past (Stripe takes no
    /// event more than 5 minutes ahead).
    /// </summary>
    private static DateTimeOffset Base()
    {
        var now = DateTimeOffset.UtcNow;
        var (start, _) = Metering.PeriodOf(now);
        var tenMinutesAgo = DateTimeOffset.FromUnixTimeSeconds(now.AddMinutes(-10).ToUnixTimeSeconds());
        return tenMinutesAgo > start ? tenMinutesAgo : start;
    }

    private async Task<Usage> RecordAsync(string orgId, DateTimeOffset at, int? promptTokens = null, int? outputTokens = null, int? kaiCredits = null,
        decimal? renderSeconds = null)
    {
        var resource = promptTokens is not null ? UsageResources.LlmTokens : kaiCredits is not null ? UsageResources.KaiCredits : UsageResources.RenderSeconds;
        await using var cmd = host.Db.CreateCommand("""
            INSERT INTO usage_records (id, org_id, resource_type, llm_tokens_prompt, llm_tokens_output, kai_credits, render_seconds, created_at)
            VALUES (fenta_id('usage'), $1, $2, $3, $4, $5, $6, $7) RETURNING id
            """);
        void Add(object? value, NpgsqlDbType type) => cmd.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });
        Add(orgId, NpgsqlDbType.Text);
        Add(resource, NpgsqlDbType.Text);
        Add(promptTokens, NpgsqlDbType.Integer);
        Add(outputTokens, NpgsqlDbType.Integer);
        Add(kaiCredits, NpgsqlDbType.Integer);
        Add(renderSeconds, NpgsqlDbType.Numeric);
        Add(at, NpgsqlDbType.TimestampTz);
        return new Usage((string)(await cmd.ExecuteScalarAsync())!, at);
    }

    /// <summary>Each record's settled overage (null while unsettled), by id.</summary>
    private async Task<Dictionary<string, decimal?>> SettledAsync(string orgId)
    {
        await using var cmd = host.Db.CreateCommand("SELECT id, overage_reported_at IS NOT NULL, overage_quantity FROM usage_records WHERE org_id = $1");
        cmd.Parameters.Add(new NpgsqlParameter { Value = orgId });
        var settled = new Dictionary<string, decimal?>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) settled[reader.GetString(0)] = reader.GetBoolean(1) ? reader.IsDBNull(2) ? -1 : reader.GetDecimal(2) : null;
        return settled;
    }

    /// <summary>
    /// Waits for a round's outcome. The Stripe client's retries wait on the hosts' fake clock, so a try that failed on a
    /// loaded machine (a dropped connection) would wait for ever; the clock is nudged a second at a time as
    /// <see cref="Host.WaitThroughRetriesAsync"/> does (at most 20 s, well short of the next round).
    /// </summary>
    private async Task UntilAsync(string what, Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        for (var nudged = 0; !await condition(); await Task.Delay(200))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"never happened: {what}");
            if (nudged++ < 20) host.Clock.Advance(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>Lets the round that the last tick started finish on both hosts (a round that sends nothing leaves no trace to wait for).</summary>
    private static Task SettleDownAsync() => Task.Delay(TimeSpan.FromSeconds(1.5));

    private List<StripeMeterEvent> EventsOf(string customerId) => [.. host.Stripe.MeterEvents.Values.Where(e => e.CustomerId == customerId).OrderBy(e => e.Timestamp)];

    [Fact]
    public async Task PaidOverageReachesStripeOncePerRecordWhileTwoHostsTickAndFreeOrgsAndUsageWithinTheAllowanceSendNothing()
    {
        var (orgId, customer) = await OrgAsync("starter");
        var (freeOrgId, freeCustomer) = await OrgAsync("free");
        var at = Base();
        // Starter: 1,000,000 tokens, 500 KIE credits, 3,600 render seconds a month.
        var withinTokens = await RecordAsync(orgId, at, promptTokens: 600_000, outputTokens: 100_000);
        var crossingTokens = await RecordAsync(orgId, at.AddSeconds(1), promptTokens: 250_000, outputTokens: 100_000); // 1,050,000: 50,000 over
        var overTokens = await RecordAsync(orgId, at.AddSeconds(2), promptTokens: 20_000, outputTokens: 5_000);
        var withinCredits = await RecordAsync(orgId, at.AddSeconds(3), kaiCredits: 480);
        var crossingCredits = await RecordAsync(orgId, at.AddSeconds(4), kaiCredits: 30); // 510: 10 over
        var withinSeconds = await RecordAsync(orgId, at.AddSeconds(5), renderSeconds: 3_599.5m);
        var crossingSeconds = await RecordAsync(orgId, at.AddSeconds(6), renderSeconds: 12.25m); // 3,611.75: 11.75 over
        var freeUsage = await RecordAsync(freeOrgId, at, promptTokens: 4_000_000, outputTokens: 1_000_000);

        host.Tick();
        await UntilAsync("both orgs' records settled", async () => (await SettledAsync(orgId)).Values.All(v => v is not null)
                                                                && (await SettledAsync(freeOrgId)).Values.All(v => v is not null));
        await SettleDownAsync();

        // Exactly the overage, each record's own share of it, as Stripe recorded it: the crossing record only its part beyond the allowance.
        var events = EventsOf(customer);
        Assert.Equal(
            [
                (crossingTokens.Id, "fenta_llm_tokens", 50_000m), (overTokens.Id, "fenta_llm_tokens", 25_000m),
                (crossingCredits.Id, "fenta_kai_credits", 10m), (crossingSeconds.Id, "fenta_render_seconds", 11.75m),
            ],
            events.Select(e => (e.Identifier, e.EventName, e.Value)));
        Assert.Equal([crossingTokens.CreatedAt, overTokens.CreatedAt, crossingCredits.CreatedAt, crossingSeconds.CreatedAt], events.Select(e => e.Timestamp));
        // Two hosts ticked at once, yet each event was sent once: one request per record with overage, none for the rest.
        var calls = host.Stripe.Calls.Where(c => c.Path == MeterEventsPath && c.Form["payload[stripe_customer_id]"] == customer).ToList();
        Assert.Equal(events.Select(e => e.Identifier).Order(), calls.Select(c => c.Form["identifier"]).Order());
        Assert.All(calls, c => Assert.Equal(($"meter_event:{c.Form["identifier"]}:{c.Form["payload[value]"]}", StripeConfiguration.ApiVersion),
            (c.IdempotencyKey, c.StripeVersion)));
        Assert.Empty(EventsOf(freeCustomer));
        Assert.DoesNotContain(host.Stripe.Calls, c => c.Path == MeterEventsPath && c.Form["payload[stripe_customer_id]"] == freeCustomer);

        var settled = await SettledAsync(orgId);
        Assert.Equal(new Dictionary<string, decimal?>
        {
            [withinTokens.Id] = 0, [crossingTokens.Id] = 50_000, [overTokens.Id] = 25_000, [withinCredits.Id] = 0, [crossingCredits.Id] = 10,
            [withinSeconds.Id] = 0, [crossingSeconds.Id] = 11.75m,
        }, settled);
        Assert.Equal(0m, (await SettledAsync(freeOrgId))[freeUsage.Id]);

        // Later rounds send only what is new: a record past the allowance is billed whole, nothing earlier again.
        var later = await RecordAsync(orgId, at.AddSeconds(7), promptTokens: 700, outputTokens: 300);
        var requests = host.MeterEventRequests;
        host.Tick();
        await UntilAsync("the later record settled", async () => (await SettledAsync(orgId))[later.Id] is not null);
        host.Tick();
        await SettleDownAsync();
        Assert.Equal(requests + 1, host.MeterEventRequests);
        Assert.Equal((later.Id, 1_000m), EventsOf(customer).Select(e => (e.Identifier, e.Value)).Last());
        Assert.Equal(5, EventsOf(customer).Count);
    }

    [Fact]
    public async Task AFailedSendIsRetriedOnALaterRoundAndStripeStillCountsEachRecordOnce()
    {
        var (orgId, customer) = await OrgAsync("pro");
        var at = Base();
        // Pro: 5,000,000 tokens and 2,000 KIE credits a month.
        var tokens = await RecordAsync(orgId, at, promptTokens: 5_000_000, outputTokens: 200_000);
        var credits = await RecordAsync(orgId, at.AddSeconds(1), kaiCredits: 2_100);

        // Round 1: Stripe fails every try the client's pipeline makes; nothing is settled, and the org's later record waits
        // behind the failed one (its share depends on it).
        var requests = host.MeterEventRequests;
        for (var i = 0; i < ProviderResilience.Attempts; i++)
            host.Stripe.EnqueueError(500, """{"error": {"type": "api_error", "message": "Something went wrong on Stripe's end."}}""");
        host.Tick();
        await host.WaitThroughRetriesAsync("every try of round 1", () => host.MeterEventRequests >= requests + ProviderResilience.Attempts);
        await SettleDownAsync();
        Assert.Equal(requests + ProviderResilience.Attempts, host.MeterEventRequests);
        Assert.All((await SettledAsync(orgId)).Values, quantity => Assert.Null(quantity));
        Assert.Empty(EventsOf(customer));

        // Round 2: Stripe records the event but every answer is lost on the way back: the record stays unsettled.
        host.Stripe.LoseAnswers(ProviderResilience.Attempts);
        host.Tick();
        await host.WaitThroughRetriesAsync("every try of round 2", () => host.MeterEventRequests >= requests + 2 * ProviderResilience.Attempts);
        await SettleDownAsync();
        Assert.Null((await SettledAsync(orgId))[tokens.Id]);
        Assert.Single(EventsOf(customer));

        // Round 3: the resend carries the same Idempotency-Key, so Stripe answers with the event it has; then the next record goes.
        host.Tick();
        await UntilAsync("both records settled", async () => (await SettledAsync(orgId)).Values.All(v => v is not null));
        Assert.Equal([(tokens.Id, 200_000m), (credits.Id, 100m)], EventsOf(customer).Select(e => (e.Identifier, e.Value)));

        // A host that died between Stripe's answer and settling the record, found after Stripe forgot the Idempotency-Key:
        // the resend is refused for its identifier, which the reporter takes as reported.
        host.Stripe.ForgetIdempotencyKeys();
        await host.ScalarAsync("UPDATE usage_records SET overage_reported_at = NULL, overage_quantity = NULL WHERE id = $1", credits.Id);
        var beforeResend = host.MeterEventRequests;
        host.Tick();
        await UntilAsync("the record settled again", async () => (await SettledAsync(orgId))[credits.Id] is not null);
        await SettleDownAsync();
        Assert.Equal(beforeResend + 1, host.MeterEventRequests);

        // Stripe holds one event per record, with its share, however often it was sent.
        Assert.Equal([(tokens.Id, "fenta_llm_tokens", 200_000m), (credits.Id, "fenta_kai_credits", 100m)],
            EventsOf(customer).Select(e => (e.Identifier, e.EventName, e.Value)));
        Assert.Equal(new Dictionary<string, decimal?> { [tokens.Id] = 200_000, [credits.Id] = 100 }, await SettledAsync(orgId));
    }

    [Fact]
    public async Task CheckoutForAPaidPlanAddsThePlansMeteredOveragePricesWithoutQuantity()
    {
        var session = await host.RegisterVerifiedAsync();
        var client = session.Client();
        foreach (var plan in new[] { "starter", "pro" })
            await (await client.PostAsJsonAsync("/v1/billing/checkout",
                new { plan, success_url = "https://app.example.com/billing/done", cancel_url = "https://app.example.com/billing" })).ReadJsonAsync(201);

        var checkouts = host.Stripe.Calls.Where(c => c.Path == "/v1/checkout/sessions" && c.Form["client_reference_id"] == session.OrgId).Select(c => c.Form).ToList();
        Assert.Equal(2, checkouts.Count);
        foreach (var (form, plan) in checkouts.Zip(new[] { "starter", "pro" }))
        {
            var items = form.Where(f => f.Key.StartsWith("line_items[", StringComparison.Ordinal)).ToDictionary(f => f.Key, f => f.Value);
            Assert.Equal(new Dictionary<string, string>
            {
                ["line_items[0][price]"] = $"price_{plan}", ["line_items[0][quantity]"] = "1",
                ["line_items[1][price]"] = $"price_{plan}_tokens", ["line_items[2][price]"] = $"price_{plan}_credits", ["line_items[3][price]"] = $"price_{plan}_seconds",
            }, items);
        }
    }
}
