using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Api.Samples;
using FentaWeb.Simulators;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Cost estimates, budgets and credit reservations over HTTP, with the real activities and renderer against the LLM and
/// KIE simulators: an estimate matches what the run meters, a budget its estimate passes is refused up front, a run that
/// comes to pass its budget stops and keeps what it made, and concurrent runs cannot spend credits a free org lacks.
/// </summary>
public class BudgetTests(BudgetTests.Host host) : IClassFixture<BudgetTests.Host>
{
    public sealed class Host : KieHost
    {
        public OpenAiSimulator Llm { get; } = new() { FollowsInstructions = true };
        public Host() => Kie.TaskDuration = TimeSpan.FromSeconds(2);
        protected override bool RunsRenderer => true;
        protected override Task BeforeKieHostStartsAsync() => Llm.StartAsync();

        protected override IReadOnlyDictionary<string, string?> MoreSettings => new Dictionary<string, string?>
        {
            ["FENTA_LLM_BASE_URL"] = Llm.ApiBase.ToString(),
            ["FENTA_LLM_API_KEY"] = OpenAiSimulator.ValidKey,
        };
    }

    private static async Task<string> WorkflowAsync(HttpClient client, string graph, object? variables = null) =>
        (await (await client.PostAsJsonAsync("/v1/workflows", new
        {
            name = $"wf-{Guid.NewGuid():N}", graph = JsonDocument.Parse(graph).RootElement, variables = variables ?? new { },
        })).ReadJsonAsync(201)).GetProperty("id").GetString()!;

    private static void Within(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(actual), $"{what}: estimated {expected}, metered {actual} (more than {tolerance:P0} apart)");

    [Theory]
    [InlineData(SampleWorkflows.AiStory)]
    [InlineData(SampleWorkflows.ProductReview)]
    public async Task TheEstimateOfASampleWorkflowMatchesWhatItsRunMetersWithinTenPercent(string sample)
    {
        var session = await host.RegisterAsync();
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId); // 180 credits: more than the free tier's 50
        var client = session.Client();
        var aiStory = sample == SampleWorkflows.AiStory;
        var workflow = aiStory
            ? await WorkflowAsync(client, SampleWorkflows.AiStoryGraph, new { topic = "a lighthouse keeper who finds a message in a bottle" })
            : await WorkflowAsync(client, SampleWorkflows.ProductReviewGraph, new
            {
                product = "a folding desk lamp", clip = (await client.UploadAsync(await Uploads.ClipAsync(seconds: 3), "lamp.mp4")).GetProperty("id").GetString(),
            });

        var estimate = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/estimate", new { })).ReadJsonAsync(200);
        var total = estimate.GetProperty("total");
        Assert.Equal(("starter", 0.05m), (estimate.GetProperty("plan").GetString(), estimate.GetProperty("prices").GetProperty("per_kai_credit").GetDecimal()));
        Assert.Contains(estimate.GetProperty("assumptions").EnumerateArray(), a => a.GetString()!.Contains("per-unit rates"));
        if (aiStory)
        {
            var clips = estimate.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "clips");
            Assert.Equal((3, 180), (clips.GetProperty("items").GetInt32(), clips.GetProperty("kai_credits").GetInt32())); // veo-3.1-fast: 60 a scene
        }

        var started = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { })).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!);
        Assert.Equal("completed", job.GetProperty("status").GetString());
        Assert.Equal(aiStory ? 180 : 0, job.GetProperty("cost_kai_credits").GetInt32());
        Assert.Equal(total.GetProperty("kai_credits").GetInt32(), job.GetProperty("cost_kai_credits").GetInt32());
        Within(total.GetProperty("tokens").GetDouble(), job.GetProperty("cost_tokens").GetDouble(), 0.10, "tokens");
        Within(total.GetProperty("render_seconds").GetDouble(), job.GetProperty("cost_render_seconds").GetDouble(), 0.10, "render seconds");
        Within(total.GetProperty("cost_usd").GetDouble(), job.GetProperty("cost_total_usd").GetDouble(), 0.10, "dollars");
        // Every unit at the plan's rates: the job's dollars are its units priced, and every reservation was settled.
        var metered = job.GetProperty("cost_kai_credits").GetInt32() * 0.05m + job.GetProperty("cost_tokens").GetInt32() / 100_000m * 0.10m
                      + job.GetProperty("cost_render_seconds").GetDecimal() * 0.02m;
        Assert.Equal(decimal.Round(metered, 3), decimal.Round(job.GetProperty("cost_total_usd").GetDecimal(), 3));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE job_id = $1", job.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task TheEstimateOfADirectJobIsWhatCreatingItChecksAndMatchesWhatItsRunMetersWithinTenPercent()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        object Body(object? budget = null) => new
        {
            template_id = "tmpl_shorts_v1",
            config = new
            {
                sources = new object[] { new { type = "kai_image", model = "gpt-4o-image", prompt = "a lighthouse at dusk" } },
                // Long enough that the simulated model, which writes whole sentences, comes near the words asked for.
                script = new { prompt = "a lighthouse keeper's last evening", duration_seconds = 24 },
                tts = new { provider = "espeak" },
                subtitles = new { style = "clean_box" },
                output = new { profile = "9x16_720p", quality = "draft" },
            },
            budget,
        };

        var estimate = await (await client.PostAsJsonAsync("/v1/jobs/estimate", Body())).ReadJsonAsync(200);
        var total = estimate.GetProperty("total");
        Assert.Equal(["render", "script", "sources_0", "subtitles", "timeline", "tts"],
            estimate.GetProperty("nodes").EnumerateArray().Select(n => n.GetProperty("node_id").GetString()).Order());
        Assert.Equal(6, total.GetProperty("kai_credits").GetInt32()); // gpt-4o-image: one image
        Assert.True(total.GetProperty("tokens").GetInt64() > 0);
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));

        // Creating the job estimates exactly the same thing: a budget just under it is refused with that estimate.
        var under = total.GetProperty("cost_usd").GetDecimal() - 0.001m;
        var refused = await (await client.PostAsJsonAsync("/v1/jobs", Body(new { max_cost_usd = under }))).ReadProblemAsync(402, "BUDGET_EXCEEDED");
        Assert.True(JsonElement.DeepEquals(estimate, refused.GetProperty("estimate")), $"{estimate}\n{refused.GetProperty("estimate")}");

        var started = await (await client.PostAsJsonAsync("/v1/jobs", Body())).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!);
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());
        Assert.Equal(total.GetProperty("kai_credits").GetInt32(), job.GetProperty("cost_kai_credits").GetInt32());
        Within(total.GetProperty("tokens").GetDouble(), job.GetProperty("cost_tokens").GetDouble(), 0.10, "tokens");
        Within(total.GetProperty("render_seconds").GetDouble(), job.GetProperty("cost_render_seconds").GetDouble(), 0.10, "render seconds");
        Within(total.GetProperty("cost_usd").GetDouble(), job.GetProperty("cost_total_usd").GetDouble(), 0.10, "dollars");
    }

    [Fact]
    public async Task ARunWhoseEstimatePassesItsBudgetIsRefusedUpFrontWithTheEstimate()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflow = await WorkflowAsync(client, SampleWorkflows.AiStoryGraph, new { topic = "tides" });
        var refused = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { budget = new { max_cost_usd = 1.00, max_tokens = 10000 } }))
            .ReadProblemAsync(402, "BUDGET_EXCEEDED");
        Assert.Equal(180, refused.GetProperty("estimate").GetProperty("total").GetProperty("kai_credits").GetInt32());
        Assert.Contains("max_cost_usd", refused.GetProperty("detail").GetString());
        var tokens = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { budget = new { max_tokens = 100 } })).ReadProblemAsync(402, "BUDGET_EXCEEDED");
        Assert.Contains("max_tokens", tokens.GetProperty("detail").GetString());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));

        var bad = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { budget = new { max_cost_usd = -1 } })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["budget.max_cost_usd"], bad.Fields());
        var schedule = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "0 9 * * *", budget = new { max_cost_usd = 2 } }))
            .ReadProblemAsync(402, "BUDGET_EXCEEDED");
        Assert.True(schedule.GetProperty("estimate").GetProperty("total").GetProperty("cost_usd").GetDecimal() > 2);
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM schedules WHERE org_id = $1", session.OrgId));

        // A budget the estimate fits is kept with the job and the schedule.
        var fits = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflow, cron = "0 9 * * *", budget = new { max_cost_usd = 50 } })).ReadJsonAsync(201);
        Assert.Equal(50m, fits.GetProperty("budget").GetProperty("max_cost_usd").GetDecimal());
        var cleared = await (await client.PatchAsJsonAsync($"/v1/schedules/{fits.GetProperty("id").GetString()}", new { budget = new { } })).ReadJsonAsync(200);
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("budget").ValueKind);
    }

    [Fact]
    public async Task ARunThatComesToPassItsBudgetStopsWithBudgetExceededAndKeepsWhatItMade()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        // The workflow asks for one scene; this model writes three regardless, so the run generates three images
        // where its estimate counted one. At $0.30 an image (6 credits), the third would pass the $0.70 budget.
        host.Llm.FollowsInstructions = false;
        try
        {
            var workflow = await WorkflowAsync(client, """
                {"nodes": [{"id": "script", "type": "Script.Generate", "params": {"prompt": "night markets", "scenes": 1, "duration_seconds": 6}},
                           {"id": "stills", "type": "Input.KAI.GenerateImage", "params": {"model": "gpt-4o-image", "prompt": "warm light"}}],
                 "edges": [{"from": "script", "to": "stills"}]}
                """);
            var estimate = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/estimate", new { })).ReadJsonAsync(200);
            Assert.Equal(6, estimate.GetProperty("total").GetProperty("kai_credits").GetInt32());
            var started = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/run", new { budget = new { max_cost_usd = 0.70 } })).ReadJsonAsync(202);
            Assert.Equal(0.70m, started.GetProperty("budget").GetProperty("max_cost_usd").GetDecimal());
            var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!);

            Assert.True(job.GetProperty("status").GetString() == "failed", job.ToString());
            Assert.Equal(("BUDGET_EXCEEDED", "stills"), (job.GetProperty("error").GetProperty("code").GetString(), job.GetProperty("error").GetProperty("node_id").GetString()));
            Assert.Equal(12, job.GetProperty("cost_kai_credits").GetInt32());
            Assert.True(job.GetProperty("cost_total_usd").GetDecimal() <= 0.70m);
            // Two generations were made; the third was refused before KIE was asked.
            var items = await host.StringsAsync("SELECT status || ':' || coalesce(error->>'code', '') FROM node_runs WHERE job_id = $1 AND node_id = 'stills' AND item_index >= 0 ORDER BY status",
                job.GetProperty("id").GetString()!);
            Assert.Equal(["failed:BUDGET_EXCEEDED", "succeeded:", "succeeded:"], items);
            Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1 AND status = 'completed'", job.GetProperty("id").GetString()!));
            // The two images it made stay, as assets of the job.
            var assets = await host.StringsAsync("SELECT id FROM assets WHERE org_id = $1 AND job_id = $2 AND deleted_at IS NULL", session.OrgId, job.GetProperty("id").GetString()!);
            Assert.Equal(2, assets.Count);
            foreach (var asset in assets) await (await client.GetAsync($"/v1/assets/{asset}")).ReadJsonAsync(200);
        }
        finally
        {
            host.Llm.FollowsInstructions = true;
        }
    }

    [Fact]
    public async Task TwoConcurrentRunsOfAFreeOrgWithCreditsForOneSettleWithoutGoingNegative()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        // 44 of the free tier's 50 credits are used this month: one 6-credit image is left.
        await host.ScalarAsync("INSERT INTO usage_records (id, org_id, resource_type, kai_credits, cost_usd) VALUES (fenta_id('usage'), $1, 'kai_credits', 44, 0)", session.OrgId);
        var graph = JsonDocument.Parse("""
            {"nodes": [{"id": "still", "type": "Input.KAI.GenerateImage", "params": {"model": "gpt-4o-image", "prompt": "a red kite"}}], "edges": []}
            """).RootElement;
        var jobs = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
            (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!));
        var finished = await Task.WhenAll(jobs.Select(id => client.JobEndedAsync(id)));

        Assert.Equal(["completed", "failed"], finished.Select(j => j.GetProperty("status").GetString()).Order());
        var refused = finished.Single(j => j.GetProperty("status").GetString() == "failed");
        Assert.Equal("INSUFFICIENT_CREDITS", refused.GetProperty("error").GetProperty("code").GetString());
        var quota = await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200);
        var credits = quota.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "kai_credits");
        Assert.Equal((50m, 0m), (credits.GetProperty("used").GetDecimal(), credits.GetProperty("remaining").GetDecimal()));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE org_id = $1", session.OrgId));
    }

    [Fact]
    public async Task WhileAGenerationRunsItsCreditsShowAsReservedInTheQuotaUntilTheJobEnds()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var graph = JsonDocument.Parse("""
            {"nodes": [{"id": "still", "type": "Input.KAI.GenerateImage", "params": {"model": "gpt-4o-image", "prompt": "a paper boat"}}], "edges": []}
            """).RootElement;
        host.Kie.NeverFinish = true;
        try
        {
            var job = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
            // Reserved before KIE is asked: wait until KIE has the task, then the quota counts its 6 credits as held.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (await host.CountAsync("SELECT count(*) FROM kai_generations WHERE job_id = $1", job) == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
            var held = Credits(await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200));
            Assert.Equal((0m, 6m, 44m), (held.GetProperty("used").GetDecimal(), held.GetProperty("reserved").GetDecimal(), held.GetProperty("remaining").GetDecimal()));

            await (await client.PostAsync($"/v1/jobs/{job}/cancel", null)).ReadJsonAsync(202);
            Assert.Equal("cancelled", (await client.JobEndedAsync(job)).GetProperty("status").GetString());
            var released = Credits(await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200));
            Assert.Equal((0m, 0m, 50m), (released.GetProperty("used").GetDecimal(), released.GetProperty("reserved").GetDecimal(), released.GetProperty("remaining").GetDecimal()));
            Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM spend_reservations WHERE job_id = $1", job));

            // A row a worker left behind for a job that is no longer running (it died mid-item) holds nothing either.
            await host.ScalarAsync("INSERT INTO spend_reservations (job_id, node_id, item_index, org_id, kai_credits) VALUES ($1, 'still', 0, $2, 6)", job, session.OrgId);
            var leftover = Credits(await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200));
            Assert.Equal((0m, 50m), (leftover.GetProperty("reserved").GetDecimal(), leftover.GetProperty("remaining").GetDecimal()));
        }
        finally
        {
            host.Kie.NeverFinish = false;
        }

        static JsonElement Credits(JsonElement quota) => quota.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "kai_credits");
    }

    [Fact]
    public async Task OfflineDefaultsSpendOnlyRenderSecondsAndAnotherOrgsWorkflowIsNotFound()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflow = await WorkflowAsync(client, """
            {"nodes": [{"id": "script", "type": "Script.Generate", "params": {"prompt": "tides", "duration_seconds": 12}},
                       {"id": "stills", "type": "Input.KAI.GenerateImage", "params": {"provider": "local", "prompt": "sea"}},
                       {"id": "voice", "type": "Voice.TTS", "params": {"provider": "espeak"}},
                       {"id": "timeline", "type": "Edit.Timeline"}, {"id": "render", "type": "Output.Render"}],
             "edges": [{"from": "script", "to": "stills"}, {"from": "script", "to": "voice"}, {"from": "stills", "to": "timeline"},
                       {"from": "voice", "to": "timeline"}, {"from": "timeline", "to": "render"}]}
            """);
        var estimate = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/estimate", new { variables = new { } })).ReadJsonAsync(200);
        var nodes = estimate.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!);
        Assert.Equal((3, 0), (nodes["stills"].GetProperty("items").GetInt32(), nodes["stills"].GetProperty("kai_credits").GetInt32()));
        Assert.True(nodes["script"].GetProperty("tokens").GetInt64() > 0); // the LLM is configured here
        var render = nodes["render"].GetProperty("render_seconds").GetDecimal();
        Assert.InRange(render, 10m, 13m); // 30 words read at 175 a minute, plus the tail
        Assert.Equal(render * 0.02m, nodes["render"].GetProperty("cost_usd").GetDecimal());

        // A preview of the same is estimated at a quarter of the render seconds.
        var preview = await WorkflowAsync(client, """
            {"nodes": [{"id": "script", "type": "Script.Generate", "params": {"prompt": "tides", "duration_seconds": 12}},
                       {"id": "stills", "type": "Input.KAI.GenerateImage", "params": {"provider": "local", "prompt": "sea"}},
                       {"id": "voice", "type": "Voice.TTS", "params": {"provider": "espeak"}},
                       {"id": "timeline", "type": "Edit.Timeline"}, {"id": "render", "type": "Output.Render", "params": {"quality": "preview"}}],
             "edges": [{"from": "script", "to": "stills"}, {"from": "script", "to": "voice"}, {"from": "stills", "to": "timeline"},
                       {"from": "voice", "to": "timeline"}, {"from": "timeline", "to": "render"}]}
            """);
        var previewed = await (await client.PostAsJsonAsync($"/v1/workflows/{preview}/estimate", new { variables = new { } })).ReadJsonAsync(200);
        var previewRender = previewed.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "render");
        Assert.InRange(previewRender.GetProperty("render_seconds").GetDecimal(), render / 4 - 0.01m, render / 4 + 0.01m);

        var other = (await host.RegisterAsync()).Client();
        await (await other.PostAsJsonAsync($"/v1/workflows/{workflow}/estimate", new { })).ReadProblemAsync(404, "NOT_FOUND");
        var bad = await (await client.PostAsJsonAsync($"/v1/workflows/{workflow}/estimate", new { variables = 3 })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["variables"], bad.Fields());
    }
}
