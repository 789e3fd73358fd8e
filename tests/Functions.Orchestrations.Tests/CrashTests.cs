using FentaWeb.Domain.Engine;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Workers as separate processes: crashes and sharing work.</summary>
public class CrashTests(CrashTests.Host host) : IClassFixture<CrashTests.Host>
{
    public sealed class Host : EngineHost
    {
        protected override bool StartsWorker => false;
    }

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

        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_side_effects WHERE job_id = $1", job));
        var (attempt, output) = ((int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0", job))!,
            await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0", job));
        Assert.Equal(2, attempt);
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
            ["FENTA_JWT_SIGNING_KEY"] = "crash-test-signing-key-crash-test-signing-key",
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
        var taskId = Assert.Single(kie.Tasks.Keys);
        Assert.StartsWith($"{taskId}|", (string)(await host.ScalarAsync("SELECT external_ref FROM node_runs WHERE job_id = $1 AND node_id = 'gen'", job))!);
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
        using (var doomed = WorkerProcess.Start(host.ConnectionString, environment))
        {
            await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM node_runs WHERE job_id = $1 AND node_id = 'gen' AND item_index = 0 AND external_ref IS NOT NULL)", job);
            doomed.Kill();
        }
        await afterKill();
        using var replacement = WorkerProcess.Start(host.ConnectionString, environment);
        return await host.WaitForJobAsync(job, TimeSpan.FromSeconds(60));
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
        using var first = WorkerProcess.Start(host.ConnectionString);
        using var second = WorkerProcess.Start(host.ConnectionString);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(90)));

        Assert.Equal(300, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
        Assert.Equal(300, await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
        var perWorker = await host.JsonAsync("""
            SELECT json_object_agg(worker, n)::text FROM (SELECT worker, count(*) AS n FROM test_executions WHERE job_id = $1 AND node_id = 'st' GROUP BY worker) w
            """, job);
        var counts = perWorker.EnumerateObject().ToDictionary(p => int.Parse(p.Name), p => p.Value.GetInt32());
        Assert.Equal(new[] { first.Pid, second.Pid }.Order(), counts.Keys.Order());
        Assert.All(counts.Values, n => Assert.True(n >= 30, $"a worker ran only {n} of 300 items: {perWorker}"));
    }
}

/// <summary>The lease is the fence: a worker that lost it cannot finish the task, even if it comes back.</summary>
public class FencingTests(FencingTests.Host host) : IClassFixture<FencingTests.Host>
{
    public sealed class Host : EngineHost
    {
        protected override bool StartsWorker => false;
    }

    [Fact]
    public async Task WorkerThatLostItsLeaseCannotCompleteTheTask()
    {
        await host.ExecAsync("DELETE FROM durable_tasks"); // no worker runs here: start each test with an empty queue
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        var stale = Assert.Single(await TaskStore.ClaimAsync(host.Db, "default", "worker-a", 10, TimeSpan.FromSeconds(30), CancellationToken.None));

        // Worker A stalls past its lease; the rescuer hands the task to worker B.
        await host.ExecAsync($"UPDATE durable_tasks SET lease_expires_at = now() - interval '1 second' WHERE id = {stale.TaskId}");
        Assert.Equal(1, await TaskStore.RescueExpiredAsync(host.Db, CancellationToken.None));
        await host.ExecAsync($"UPDATE durable_tasks SET run_at = now() WHERE id = {stale.TaskId}");
        var fresh = Assert.Single(await TaskStore.ClaimAsync(host.Db, "default", "worker-b", 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        Assert.Equal((stale.TaskId, 2, 2), (fresh.TaskId, fresh.TaskAttempts, fresh.NodeAttempt));

        var plan = JobPlan.Compile((await TaskStore.ConfigAsync(host.Db, job, CancellationToken.None)).Graph);
        var output = System.Text.Json.JsonDocument.Parse("\"from A\"").RootElement;
        await Completer.ApplyAsync(host.Db, "worker-a", TimeSpan.FromSeconds(30), [new Completion.Success(stale, output, 0)],
            (_, _) => Task.FromResult(plan), (_, _) => 0, CancellationToken.None);
        Assert.Equal("running", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1", job))!);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM durable_tasks WHERE job_id = $1", job));
        await Assert.ThrowsAsync<LeaseLostException>(() => TaskStore.RecordExternalRefAsync(host.Db, stale, "worker-a", "x", CancellationToken.None));

        var fromB = System.Text.Json.JsonDocument.Parse("\"from B\"").RootElement;
        await Completer.ApplyAsync(host.Db, "worker-b", TimeSpan.FromSeconds(30), [new Completion.Success(fresh, fromB, 0)],
            (_, _) => Task.FromResult(plan), (_, _) => 0, CancellationToken.None);
        Assert.Equal("completed", (string)(await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", job))!);
        Assert.Equal("from B", (await host.JsonAsync("SELECT result::text FROM jobs WHERE id = $1", job)).GetProperty("s").GetString());
    }

    [Fact]
    public async Task EventArrivingWhileTheActivityRunsCutsItsWaitShort()
    {
        await host.ExecAsync("DELETE FROM durable_tasks"); // no worker runs here: start each test with an empty queue
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        var task = Assert.Single(await TaskStore.ClaimAsync(host.Db, "default", "worker-a", 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        var plan = JobPlan.Compile((await TaskStore.ConfigAsync(host.Db, job, CancellationToken.None)).Graph);

        // The callback lands after the activity looked for it but before it reports "wait 60 s".
        await Task.Delay(20);
        await TaskStore.RaiseEventAsync(host.Db, job, "s", 0, System.Text.Json.JsonDocument.Parse("{}").RootElement, CancellationToken.None);
        await Completer.ApplyAsync(host.Db, "worker-a", TimeSpan.FromSeconds(30),
            [new Completion.Reschedule(task, TimeSpan.FromSeconds(60), false, null, "waiting")],
            (_, _) => Task.FromResult(plan), (_, _) => 0, CancellationToken.None);

        Assert.True((bool)(await host.ScalarAsync("SELECT run_at <= now() FROM durable_tasks WHERE job_id = $1", job))!);
        Assert.Equal("waiting", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1", job))!);
    }

    [Fact]
    public async Task WaitWithoutANewEventSleepsItsDelay()
    {
        await host.ExecAsync("DELETE FROM durable_tasks"); // no worker runs here: start each test with an empty queue
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        var task = Assert.Single(await TaskStore.ClaimAsync(host.Db, "default", "worker-a", 10, TimeSpan.FromSeconds(30), CancellationToken.None));
        var plan = JobPlan.Compile((await TaskStore.ConfigAsync(host.Db, job, CancellationToken.None)).Graph);
        await Completer.ApplyAsync(host.Db, "worker-a", TimeSpan.FromSeconds(30),
            [new Completion.Reschedule(task, TimeSpan.FromSeconds(60), false, null, "waiting")],
            (_, _) => Task.FromResult(plan), (_, _) => 0, CancellationToken.None);
        Assert.True((bool)(await host.ScalarAsync("SELECT run_at > now() + interval '50 seconds' FROM durable_tasks WHERE job_id = $1", job))!);
        Assert.Equal(0, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1", job))!);
    }

    [Fact]
    public async Task NodeProgressMovesTheJobForwardOnly()
    {
        var job = await host.StartJobAsync("""
            {"nodes": [{"id": "a", "type": "Script.Generate", "params": {"prompt": "x"}}, {"id": "b", "type": "Script.Generate", "params": {"prompt": "y"}},
                       {"id": "c", "type": "Script.Generate", "params": {"prompt": "z"}}, {"id": "d", "type": "Script.Generate", "params": {"prompt": "w"}}],
             "edges": []}
            """);
        await host.ExecAsync($"UPDATE jobs SET status = 'processing', nodes_done = 1, progress = 25 WHERE id = '{job}'");
        await TaskStore.ReportNodeProgressAsync(host.Db, job, 0.5, CancellationToken.None);
        Assert.Equal(37, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
        await TaskStore.ReportNodeProgressAsync(host.Db, job, 0.2, CancellationToken.None);
        Assert.Equal(37, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
        await host.ExecAsync($"UPDATE jobs SET nodes_done = 3 WHERE id = '{job}'");
        await TaskStore.ReportNodeProgressAsync(host.Db, job, 1.0, CancellationToken.None);
        Assert.Equal(99, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
    }
}
