using System.Text.Json;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Workflows;
using FentaWeb.Orchestrations.Engine;

namespace FentaWeb.Orchestrations.Tests;

public class EngineTests(EngineTests.Host host) : IClassFixture<EngineTests.Host>
{
    public sealed class Host : EngineHost;

    [Fact]
    public async Task DiamondRunsBothBranchesInParallelAndJoinsOnce()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=2"}},
                   {"id": "v", "type": "Voice.TTS", "params": {"voice": "sleep=600"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=600"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "v"}, {"from": "s", "to": "st"}, {"from": "st", "to": "t"}, {"from": "v", "to": "t"}]}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));

        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 't'", job));
        // The voice and the stock items overlapped in time: the branches ran in parallel.
        Assert.True((bool)(await host.ScalarAsync("""
            SELECT bool_and(v.started_at < st.finished_at AND st.started_at < v.finished_at)
            FROM test_executions v JOIN test_executions st ON st.job_id = v.job_id AND st.node_id = 'st'
            WHERE v.job_id = $1 AND v.node_id = 'v'
            """, job))!);
        // The join ran after both branches were done.
        Assert.True((bool)(await host.ScalarAsync("""
            SELECT t.started_at >= (SELECT max(finished_at) FROM test_executions WHERE job_id = $1 AND node_id IN ('v', 'st'))
            FROM test_executions t WHERE t.job_id = $1 AND t.node_id = 't'
            """, job))!);
        var result = await host.JsonAsync("SELECT result::text FROM jobs WHERE id = $1", job);
        var timeline = result.GetProperty("t");
        Assert.Equal(["stock:st:0", "stock:st:1"], timeline.GetProperty("media").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("voice:v", timeline.GetProperty("audio").GetProperty("audio").GetString());
        Assert.Equal(100, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
    }

    [Fact]
    public async Task ThousandWideFanOutRunsEveryItemExactlyOnceAndFansInInOrder()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1000"}},
                   {"id": "img", "type": "Input.KAI.GenerateImage"},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "img"}, {"from": "img", "to": "t"}]}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromMinutes(2)));

        Assert.Equal(1000, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'img'", job));
        Assert.Equal(1000, await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'img'", job));
        Assert.Equal(1000, await host.CountAsync(
            "SELECT count(*) FROM node_runs WHERE job_id = $1 AND node_id = 'img' AND item_index >= 0 AND status = 'succeeded' AND attempt = 1", job));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 't'", job));
        var media = (await host.JsonAsync("SELECT result::text FROM jobs WHERE id = $1", job)).GetProperty("t").GetProperty("media");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => $"image:img:{i}"), media.EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM durable_tasks WHERE job_id = $1", job));
    }

    [Fact]
    public async Task FailingActivityRetriesWithBackoffThenFailsTheJobWithItsError()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "st", "type": "Input.Stock", "params": {"query": "fail=10"},
                    "retry": {"max_attempts": 3, "first_interval_seconds": 0.3, "backoff_coefficient": 2}}],
         "edges": []}
        """);
        Assert.Equal("failed", await host.WaitForJobAsync(job));

        var error = await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", job);
        Assert.Equal(("TEST_FLAKY", "st"), (error.GetProperty("code").GetString(), error.GetProperty("node_id").GetString()));
        Assert.Contains("after 3 attempts", error.GetProperty("message").GetString());
        Assert.Equal(3, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1", job));
        // Gaps between attempts follow 0.3 s × 2^(n-1), within the ±10 % jitter (and a little scheduling slack).
        var gaps = await host.JsonAsync("""
            SELECT json_agg(gap ORDER BY attempt)::text FROM (
              SELECT attempt, extract(epoch FROM started_at - lag(finished_at) OVER (ORDER BY attempt)) AS gap
              FROM test_executions WHERE job_id = $1) g WHERE gap IS NOT NULL
            """, job);
        var seconds = gaps.EnumerateArray().Select(g => g.GetDouble()).ToList();
        Assert.Equal(2, seconds.Count);
        Assert.InRange(seconds[0], 0.27, 1.0);
        Assert.InRange(seconds[1], 0.54, 1.5);
        Assert.Equal(("failed", 3), ((string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1", job))!,
            (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1", job))!));
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1 AND level = 'warn' AND message LIKE '%retrying%'", job));
    }

    [Fact]
    public async Task FlakyActivitySucceedsOnALaterAttempt()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "st", "type": "Input.Stock", "params": {"query": "fail=1"}, "retry": {"first_interval_seconds": 0.1}}], "edges": []}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        Assert.Equal(2, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1", job))!);
    }

    [Fact]
    public async Task CancelStopsTheRunningActivityAndDispatchesNothingMore()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "block"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}]}
        """);
        await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = 0 AND status = 'running')", job);

        Assert.Equal("cancelled", await TaskStore.CancelAsync(host.Db, EngineHost.OrgId, job, CancellationToken.None));
        Assert.Equal("cancelled", await TaskStore.CancelAsync(host.Db, EngineHost.OrgId, job, CancellationToken.None)); // idempotent

        await host.WaitUntilAsync("SELECT status = 'cancelled' FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = 0", job);
        Assert.Equal("cancelled", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1 AND node_id = 't'", job))!);
        await host.WaitUntilAsync("SELECT NOT EXISTS (SELECT 1 FROM durable_tasks WHERE job_id = $1)", job);
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 't'", job));
        Assert.Equal("cancelled", (string)(await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", job))!);
    }

    [Fact]
    public async Task RetryOfAFailedJobReusesWhatSucceeded()
    {
        const string graph = """
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=2"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "failperm-first-job"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "t"}]}
        """;
        var first = await host.StartJobAsync(graph);
        Assert.Equal("failed", await host.WaitForJobAsync(first));

        var retry = await host.StartJobAsync(graph, parentJobId: first);
        Assert.Equal("completed", await host.WaitForJobAsync(retry));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 's'", retry));
        Assert.True((bool)(await host.ScalarAsync("SELECT reused FROM node_runs WHERE job_id = $1 AND node_id = 's'", retry))!);
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", retry));
        Assert.Equal((first, 1), ((string)(await host.ScalarAsync("SELECT parent_job_id FROM jobs WHERE id = $1", retry))!,
            (int)(await host.ScalarAsync("SELECT retry_count FROM jobs WHERE id = $1", retry))!));
    }

    [Fact]
    public async Task UnimplementedNodeTypeFailsTheRunClearly()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}, {"id": "st", "type": "Input.Stock", "params": {"query": "x"}},
                   {"id": "ed", "type": "Input.KAI.EditVideo", "params": {"prompt": "make it noir"}}],
         "edges": [{"from": "s", "to": "st"}, {"from": "st", "to": "ed"}]}
        """);
        Assert.Equal("failed", await host.WaitForJobAsync(job));
        var error = await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", job);
        Assert.Equal(("NODE_NOT_AVAILABLE", "ed"), (error.GetProperty("code").GetString(), error.GetProperty("node_id").GetString()));
        Assert.Contains("Input.KAI.EditVideo", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task WaitingNodeResumesOnAnExternalEventWithoutUsingAnAttempt()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}, {"id": "v", "type": "Voice.TTS", "params": {"voice": "await-event"}}],
         "edges": [{"from": "s", "to": "v"}]}
        """);
        await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM node_runs WHERE job_id = $1 AND node_id = 'v' AND status = 'waiting')", job);
        Assert.True((bool)(await host.ScalarAsync(
            "SELECT run_at > now() + interval '50 seconds' FROM durable_tasks WHERE job_id = $1 AND node_id = 'v'", job))!);

        var payload = JsonDocument.Parse("""{"result_urls": ["https://example.test/clip.mp4"]}""").RootElement;
        Assert.True(await TaskStore.RaiseEventAsync(host.Db, job, "v", 0, payload, CancellationToken.None));
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(10)));
        var output = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job);
        Assert.Equal("https://example.test/clip.mp4", output.GetProperty("event").GetProperty("result_urls")[0].GetString());
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'v'", job))!);
        Assert.False(await TaskStore.RaiseEventAsync(host.Db, job, "v", 0, payload, CancellationToken.None));
    }

    [Fact]
    public async Task SameIdempotencyKeyStartsOneJob()
    {
        const string graph = """{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}], "edges": []}""";
        var first = await host.StartJobAsync(graph, idempotencyKey: "key-1");
        var again = await host.StartJobAsync(graph, idempotencyKey: "key-1");
        var other = await host.StartJobAsync(graph, idempotencyKey: "key-2");
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM jobs WHERE idempotency_key = 'key-1'"));
    }

    [Fact]
    public async Task ScheduleTriggerNodeCountsAsDoneInARun()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "cron", "type": "Schedule.Cron", "params": {"cron": "0 10 * * *"}}, {"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}],
         "edges": []}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        Assert.Equal("succeeded", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1 AND node_id = 'cron'", job))!);
    }

    [Fact]
    public async Task FinishedJobsPastTheRetentionArePrunedWithTheirHistory()
    {
        const string graph = """{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}], "edges": []}""";
        var old = await host.StartJobAsync(graph);
        var recent = await host.StartJobAsync(graph);
        await host.WaitForJobAsync(old);
        await host.WaitForJobAsync(recent);
        await host.ExecAsync($"UPDATE jobs SET completed_at = now() - interval '40 days' WHERE id = '{old}'");

        await host.ExecAsync($$"""
            INSERT INTO webhooks (id, org_id, url, events, secret) VALUES ('hook_prune', '{{EngineHost.OrgId}}', 'https://example.com/h', '{*}', 'whsec_x');
            INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event, payload, status, created_at) VALUES
              ('whd_old', 'hook_prune', '{{EngineHost.OrgId}}', 'evt_1', 'job.completed', '{}', 'success', now() - interval '40 days'),
              ('whd_old_pending', 'hook_prune', '{{EngineHost.OrgId}}', 'evt_2', 'job.completed', '{}', 'pending', now() - interval '40 days'),
              ('whd_new', 'hook_prune', '{{EngineHost.OrgId}}', 'evt_3', 'job.completed', '{}', 'failed', now());
            """);

        Assert.True(await TaskStore.PruneAsync(host.Db, TimeSpan.FromDays(30), CancellationToken.None) >= 1);
        Assert.Equal(["whd_new", "whd_old_pending"], (await host.JsonAsync("SELECT json_agg(id ORDER BY id)::text FROM webhook_deliveries WHERE webhook_id = 'hook_prune'"))
            .EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE id = $1", old));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM node_runs WHERE job_id = $1", old));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1", old));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM jobs WHERE id = $1", recent));
    }

    [Fact]
    public void VariablesFillPlaceholdersInStringParams()
    {
        var graph = System.Text.Json.JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "News about {{ city }} in {{lang}}; {{unknown}} stays", "scenes": 3}},
                       {"id": "u", "type": "Input.Upload", "params": {"asset_ids": ["{{city}}", "asset_x"]}}], "edges": []}
            """, FentaWeb.Domain.Common.FentaJson.Options)!;
        var applied = JobPlan.ApplyVariables(graph, JsonDocument.Parse("""{"city": "Lisbon", "lang": "pt"}""").RootElement);
        Assert.Equal("News about Lisbon in pt; {{unknown}} stays", applied.Nodes[0].Params!["prompt"].GetString());
        Assert.Equal(3, applied.Nodes[0].Params!["scenes"].GetInt32());
        Assert.Equal(["Lisbon", "asset_x"], applied.Nodes[1].Params!["asset_ids"].EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void BackoffGrowsGeometricallyWithinJitterAndCap()
    {
        var policy = new RetryPolicy(5, TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(EngineWorker.Backoff(policy, 1).TotalSeconds, 0.9, 1.1);
            Assert.InRange(EngineWorker.Backoff(policy, 3).TotalSeconds, 3.6, 4.4);
            Assert.InRange(EngineWorker.Backoff(policy, 10).TotalSeconds, 4.5, 5.5);
        }
    }
}
