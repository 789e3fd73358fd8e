using FentaWeb.Domain.Jobs;
using FentaWeb.Runs;
using FentaWeb.Orchestrations.Tests;
using FentaWeb.Simulators;
using Microsoft.DurableTask.Client;

namespace FentaWeb.EndToEnd.Tests;

/// <summary>Orchestration workers as separate processes on one task hub: crashes (SIGKILL) and sharing work.</summary>
public class CrashTests(RunHostWithoutWorker host) : IClassFixture<RunHostWithoutWorker>
{
    [Fact]
    public async Task KilledWorkerIsReplacedAndResumesTheRecordedExternalIdWithoutRepeatingIt()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}},
                   {"id": "gen", "type": "Input.KAI.GenerateVideo", "params": {"prompt": "hold=60000"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "gen", "toPort": "script"}, {"from": "gen", "to": "t"}]}
        """);
        var status = await KillWhileWaitingThenReplaceAsync(job, null,
            async () => Assert.Equal("processing", (string)(await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", job))!));
        Assert.Equal("completed", status);

        // The activity ran again after the crash (at least once) but found the recorded id: one side effect, same attempt.
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_side_effects WHERE job_id = $1", job));
        var (attempt, output) = ((int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0", job))!,
            await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0", job));
        Assert.Equal(1, attempt);
        var externalRef = (string)(await host.ScalarAsync("SELECT external_ref FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0", job))!;
        Assert.Equal($"video:{externalRef}", output[0].GetString());
    }

    [Fact]
    public async Task AWorkerKilledWhileWaitingOnKieResumesPollingTheRecordedTaskWithoutCreatingAnother()
    {
        await using var kie = new KieSimulator { TaskDuration = TimeSpan.FromSeconds(4), SendCallbacks = false };
        await kie.StartAsync();
        var realWorker = new Dictionary<string, string?>
        {
            ["FENTA_TEST_ACTIVITIES"] = "none",
            ["FENTA_KIE_API_KEY"] = KieSimulator.ValidKey,
            ["FENTA_KIE_BASE_URL"] = kie.BaseAddress.ToString(),
            ["FENTA_KIE_POLL_SECONDS"] = "0.5",
            ["FENTA_PUBLIC_URL"] = "http://127.0.0.1:9/",
        };
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "gen", "type": "Input.KAI.GenerateVideo", "params": {"prompt": "a fox in the snow", "model": "veo-3.1-fast", "provider": "kie"}}],
         "edges": []}
        """);
        var status = await KillWhileWaitingThenReplaceAsync(job, realWorker, () =>
        {
            Assert.Equal(1, kie.CreateTaskCalls);
            return Task.CompletedTask;
        });
        Assert.Equal("completed", status);

        Assert.Equal(1, kie.CreateTaskCalls);
        // The item ran as its own orchestration, which the replacement worker picked up where the dead one left it.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Runs.GetInstanceAsync($"{job}:gen:0"))!.RuntimeStatus);
        var taskId = Assert.Single(kie.Tasks.Keys);
        Assert.Equal(taskId, (string)(await host.ScalarAsync("SELECT external_ref FROM node_runs WHERE job_id = $1 AND node_id = 'gen'", job))!);
        Assert.Contains(kie.Requests, r => r.Path == $"/api/v1/veo/record-info?taskId={taskId}");
        Assert.Equal(("completed", taskId), ((string)(await host.ScalarAsync("SELECT status FROM kai_generations WHERE job_id = $1", job))!,
            (string)(await host.ScalarAsync("SELECT external_id FROM kai_generations WHERE job_id = $1", job))!));
        var output = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'gen'", job);
        Assert.Equal("video", output[0].GetProperty("type").GetString());
    }

    /// <summary>
    /// Runs the job on a worker process that is SIGKILLed as soon as node "gen" is in flight (its external id recorded),
    /// checks <paramref name="afterKill"/>, then lets a replacement worker run the job to its end; returns its status.
    /// </summary>
    private async Task<string> KillWhileWaitingThenReplaceAsync(string job, IReadOnlyDictionary<string, string?>? environment, Func<Task> afterKill)
    {
        using (var doomed = WorkerProcess.Start(host.WorkerSettings(), environment))
        {
            await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0 AND external_ref IS NOT NULL)", job);
            doomed.Kill();
        }
        await afterKill();
        using var replacement = WorkerProcess.Start(host.WorkerSettings(), environment);
        return await host.WaitForJobAsync(job, TimeSpan.FromSeconds(60));
    }

    /// <summary>
    /// Deliveries a worker handed to orchestrations and died before posting reach the endpoint from the worker that
    /// replaces it, with their own delivery ids (receivers dedupe on them). The doomed worker is held inside PostgreSQL
    /// (a trigger waiting on an advisory lock the test holds) at the chosen point, so the kill lands there every time:
    /// "hand-over" while the dispatcher marks the rows it has just started orchestrations for (the kill rolls the marking
    /// back, the orchestrations stay), "post" once the hand-over is committed and each orchestration's PostWebhook is
    /// about to count its attempt. In the first, the replacement runs the orchestrations before its own dispatcher gets to
    /// the rows (its timer is set not to fire; in the field it fires within 5 s, which is a race, not an order): they found
    /// no hand-over and ended, and a dispatcher started afterwards handed the deliveries to the ended instances, where
    /// they stayed pending for good.
    /// </summary>
    [Theory]
    [InlineData("hand-over", "NEW.dispatched AND NOT OLD.dispatched")]
    [InlineData("post", "NEW.attempts > OLD.attempts")]
    public async Task WebhookDeliveriesHandedOverByAKilledWorkerArePostedByItsReplacement(string killedAt, string holdWhen)
    {
        const int Deliveries = 10;
        const long Hold = 4711;
        await using var receiver = new WebhookReceiver();
        await receiver.StartAsync();
        var org = $"org_crash_{killedAt.Replace("-", "")}";
        await host.ExecAsync($$"""
            INSERT INTO orgs (id, name, slug, owner_id, plan) VALUES ('{{org}}', 'Crash', '{{org}}', 'user_test', 'starter');
            INSERT INTO webhooks (id, org_id, url, events, secret) VALUES ('hook_{{org}}', '{{org}}', '{{receiver.Url(org)}}', '{job.started}', 'whsec_test');
            CREATE OR REPLACE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared({{Hold}}); RETURN NEW; END $$;
            CREATE TRIGGER test_hold BEFORE UPDATE ON webhook_deliveries FOR EACH ROW WHEN ({{holdWhen}}) EXECUTE FUNCTION test_hold();
            SELECT webhook_emit('{{org}}', 'job.started', jsonb_build_object('job', jsonb_build_object('id', 'job_' || n))) FROM generate_series(1, {{Deliveries}}) n;
            """);
        var deliveries = new List<string>();
        await using (var rows = host.Db.CreateCommand($"SELECT id FROM webhook_deliveries WHERE org_id = '{org}' ORDER BY id"))
        await using (var reader = await rows.ExecuteReaderAsync())
            while (await reader.ReadAsync()) deliveries.Add(reader.GetString(0));
        Assert.Equal(Deliveries, deliveries.Count);
        var settings = host.WorkerSettings();
        settings["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true"; // the receiver is on loopback
        settings["FENTA_WEBHOOK_REDISPATCH_SECONDS"] = "3";

        await using (var holder = await host.Db.OpenConnectionAsync())
        {
            await using (var hold = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({Hold})", holder)) await hold.ExecuteNonQueryAsync();
            using (var doomed = WorkerProcess.Start(settings))
            {
                if (killedAt == "hand-over")
                {
                    // The dispatcher waits inside its transaction, every orchestration started; let them run up to their activity.
                    await host.WaitUntilAsync($"SELECT count(*) >= 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = {Hold} AND NOT granted");
                    foreach (var delivery in deliveries)
                        await WaitForAsync(async () => (await host.Runs.GetInstanceAsync($"{delivery}:1"))?.RuntimeStatus == OrchestrationRuntimeStatus.Running);
                }
                else
                {
                    await host.WaitUntilAsync($"SELECT count(*) = {Deliveries} FROM webhook_deliveries WHERE org_id = '{org}' AND dispatched");
                    await host.WaitUntilAsync($"SELECT count(*) = {Deliveries} FROM pg_locks WHERE locktype = 'advisory' AND objid = {Hold} AND NOT granted");
                }
                doomed.Kill();
            }
            await using (var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({Hold})", holder)) await release.ExecuteNonQueryAsync();
        }
        // The dead worker's transactions end once their statements run on and find no client: nothing of theirs was committed.
        await host.ExecAsync("DROP TRIGGER test_hold ON webhook_deliveries");
        Assert.Equal(0, await host.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE org_id = '{org}' AND attempts > 0"));
        Assert.Empty(receiver.Received);

        var delivered = () => Task.FromResult(receiver.Received.Select(r => r.Headers["Fenta-Delivery-Id"]).Distinct().Count() == Deliveries);
        using var replacement = WorkerProcess.Start(settings, killedAt == "hand-over" ? new Dictionary<string, string?> { ["FENTA_WEBHOOK_SCHEDULE"] = "0 0 0 1 1 *" } : null);
        using var dispatcher = killedAt == "hand-over" ? await DispatcherAfterOrchestrationsAsync() : null;
        await WaitForAsync(delivered,
            TimeSpan.FromSeconds(60), async () => string.Join("; ", await Task.WhenAll(deliveries.Select(async d =>
                $"{d}: {await host.ScalarAsync("SELECT format('%s attempts %s dispatched %s dispatches %s', status, attempts, dispatched, dispatches) FROM webhook_deliveries WHERE id = $1", d)}" +
                $" instance {(await host.Runs.GetInstanceAsync($"{d}:1"))?.RuntimeStatus.ToString() ?? "none"}"))));
        Assert.Equal(deliveries, receiver.Received.Select(r => r.Headers["Fenta-Delivery-Id"]).Distinct().Order());
        await host.WaitUntilAsync($"SELECT count(*) = {Deliveries} FROM webhook_deliveries WHERE org_id = '{org}' AND status = 'success'");

        // Once every started orchestration has posted or ended, a worker with a running dispatcher joins.
        async Task<WorkerProcess> DispatcherAfterOrchestrationsAsync()
        {
            await WaitForAsync(async () => await delivered() || (await Task.WhenAll(deliveries.Select(d => host.Runs.GetInstanceAsync($"{d}:1"))))
                .All(i => i?.RuntimeStatus is OrchestrationRuntimeStatus.Completed or OrchestrationRuntimeStatus.Failed), TimeSpan.FromSeconds(60));
            return WorkerProcess.Start(settings);
        }
    }

    private static async Task WaitForAsync(Func<Task<bool>> done, TimeSpan? timeout = null, Func<Task<string>>? describe = null)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!await done())
        {
            if (watch.Elapsed > (timeout ?? TimeSpan.FromSeconds(30)))
                throw new TimeoutException($"not done within {(timeout ?? TimeSpan.FromSeconds(30)).TotalSeconds} s{(describe is null ? "" : ": " + await describe())}");
            await Task.Delay(100);
        }
    }

    private static readonly Dictionary<string, string?> SlowRenders = new() { ["FENTA_TEST_RENDER"] = "sleep=4000" };

    private const string RenderGraph = """
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=2"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "clips"}},
                   {"id": "t", "type": "Edit.Timeline"},
                   {"id": "r", "type": "Output.Render"}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}, {"from": "t", "to": "r"}]}
        """;

    [Fact]
    public async Task AWorkerKilledWhileItsRunWaitsOnARenderIsReplacedAndTheRenderIsReportedToTheRun()
    {
        var job = await host.StartJobAsync(RenderGraph);
        using var renderer = WorkerProcess.StartRenderer(host.WorkerSettings(), SlowRenders);
        using (var doomed = WorkerProcess.Start(host.WorkerSettings()))
        {
            await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM test_side_effects WHERE job_id = $1 AND node_id = 'r:started')", job);
            doomed.Kill();
        }
        using var replacement = WorkerProcess.Start(host.WorkerSettings());
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(90)));

        // The render went on while no worker ran: rendered once, reported to the run, never submitted again.
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_side_effects WHERE job_id = $1 AND node_id = 'r:started'", job));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'r'", job));
        var (attempt, output) = ((int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'r'", job))!,
            await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'r'", job));
        Assert.Equal((1, "render:r:0"), (attempt, output.GetProperty("video_asset_id").GetString()));
    }

    [Fact]
    public async Task ARendererKilledMidRenderLeavesTheRequestToAnotherWhichCompletesTheJob()
    {
        // A killed renderer's request shows again after the visibility timeout (3 s here; renewed while a render runs).
        var renderers = new Dictionary<string, string?>(SlowRenders) { ["FENTA_RENDER_VISIBILITY_SECONDS"] = "3" };
        var job = await host.StartJobAsync(RenderGraph);
        using var worker = WorkerProcess.Start(host.WorkerSettings());
        using (var doomed = WorkerProcess.StartRenderer(host.WorkerSettings(), renderers))
        {
            await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM test_side_effects WHERE job_id = $1 AND node_id = 'r:started')", job);
            doomed.Kill();
        }
        using var replacement = WorkerProcess.StartRenderer(host.WorkerSettings(), renderers);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(90)));

        // Taken twice (the dead renderer's start, the replacement's), finished once, as the same attempt.
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM test_side_effects WHERE job_id = $1 AND node_id = 'r:started'", job));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'r'", job));
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'r'", job))!);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1 AND message = 'Job completed'", job));
    }

    [Fact]
    public async Task TwoWorkerProcessesShareTheWorkAndRunEachItemToCompletionOnce()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=300"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=20"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}]}
        """);
        using var first = WorkerProcess.Start(host.WorkerSettings());
        using var second = WorkerProcess.Start(host.WorkerSettings());
        // A bound on liveness, not a speed check: beside the rest of the suite on two cores the 300 items have taken over 90 s.
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(240)));

        Assert.Equal(300, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
        Assert.Equal(300, await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
        var perWorker = await host.JsonAsync("""
            SELECT json_object_agg(worker, n)::text FROM (SELECT worker, count(*) AS n FROM test_executions WHERE job_id = $1 AND node_id = 'st' GROUP BY worker) w
            """, job);
        var counts = perWorker.EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt32());
        Assert.Equal(new[] { first.Pid, second.Pid }.Order(), counts.Keys.Order());
        Assert.All(counts.Values, n => Assert.True(n >= 30, $"a worker ran only {n} of 300 items: {perWorker}"));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1 AND message = 'Job completed'", job));
    }

    [Fact]
    public async Task AWorkerKilledMidFanOutIsReplacedAndTheJobCompletesWithEveryItem()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=40"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=500"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}]}
        """);
        using (var doomed = WorkerProcess.Start(host.WorkerSettings()))
        {
            await host.WaitUntilAsync("SELECT count(*) >= 5 FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job);
            doomed.Kill();
        }
        var before = await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job);
        Assert.InRange(before, 5, 39);
        using var replacement = WorkerProcess.Start(host.WorkerSettings());
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(90)));

        Assert.Equal(40, await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
        var media = (await host.JsonAsync("SELECT result::text FROM jobs WHERE id = $1", job)).GetProperty("t").GetProperty("media");
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"stock:st:{i}"), media.EnumerateArray().Select(e => e.GetString()));
    }
}
