using System.Text.Json;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Runs as Durable Task orchestrations on Azurite, with test doubles for the node activities: what the job API promises.</summary>
public class RunTests(RunTests.Host host) : IClassFixture<RunTests.Host>
{
    public sealed class Host : RunHost;

    [Fact]
    public async Task DiamondRunsBothBranchesInParallelAndJoinsOnce()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=2"}},
                   {"id": "v", "type": "Voice.TTS", "params": {"voice": "sleep=1000"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=1000"}},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "v"}, {"from": "s", "to": "st"}, {"from": "st", "to": "t"}, {"from": "v", "to": "t"}]}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));

        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 't'", job));
        // The voice overlapped a stock item in time: the branches ran in parallel (run one after the other, nothing would
        // overlap; every pair need not, as a loaded worker may take one item a little later).
        Assert.True((bool)(await host.ScalarAsync("""
            SELECT bool_or(v.started_at < st.finished_at AND st.started_at < v.finished_at)
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
    public async Task ADuplicateDeliveryOfARunningItemWaitsForTheRunningExecutionInsteadOfRunningTheNodeAgain()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}},
                   {"id": "st", "type": "Input.Stock", "params": {"query": "sleep=3000"}},
                   {"id": "v", "type": "Voice.TTS", "params": {"voice": "sleep=8000"}}],
         "edges": [{"from": "s", "to": "st"}, {"from": "s", "to": "v"}]}
        """);
        await host.WaitUntilAsync("SELECT EXISTS (SELECT 1 FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = 0 AND claimed_by IS NOT NULL)", job);

        // What a task hub does when a partition changes owner mid-batch: the activity is delivered again while it runs
        // (the voice keeps the job going meanwhile, so the duplicate finds it still processing).
        var duplicate = await host.Executor.ExecuteAsync(new NodeCall(job, "st", 0), CancellationToken.None);

        Assert.Equal(OutcomeKind.Succeeded, duplicate.Kind);
        Assert.Equal("succeeded", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = 0", job))!);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'st'", job));
    }

    [Fact]
    public async Task WideFanOutRunsEveryItemOnceAndFansInInOrder()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=200"}},
                   {"id": "img", "type": "Input.KAI.GenerateImage"},
                   {"id": "t", "type": "Edit.Timeline"}],
         "edges": [{"from": "s", "to": "img"}, {"from": "img", "to": "t"}]}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromMinutes(2)));

        Assert.Equal(200, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 'img'", job));
        Assert.Equal(200, await host.CountAsync("SELECT count(DISTINCT item_index) FROM test_executions WHERE job_id = $1 AND node_id = 'img'", job));
        Assert.Equal(200, await host.CountAsync(
            "SELECT count(*) FROM node_runs WHERE job_id = $1 AND node_id = 'img' AND item_index >= 0 AND status = 'succeeded' AND attempt = 1", job));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1 AND node_id = 't'", job));
        var media = (await host.JsonAsync("SELECT result::text FROM jobs WHERE id = $1", job)).GetProperty("t").GetProperty("media");
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"image:img:{i}"), media.EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task FailingActivityRetriesWithBackoffThenFailsTheJobWithItsError()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "st", "type": "Input.Stock", "params": {"query": "fail=10"},
                    "retry": {"max_attempts": 3, "first_interval_seconds": 1, "backoff_coefficient": 2}}],
         "edges": []}
        """);
        Assert.Equal("failed", await host.WaitForJobAsync(job));

        var error = await host.JsonAsync("SELECT error::text FROM jobs WHERE id = $1", job);
        Assert.Equal(("TEST_FLAKY", "st"), (error.GetProperty("code").GetString(), error.GetProperty("node_id").GetString()));
        Assert.Contains("after 3 attempts", error.GetProperty("message").GetString());
        Assert.Equal(3, await host.CountAsync("SELECT count(*) FROM test_executions WHERE job_id = $1", job));
        // Gaps between attempts follow 1 s × 2^(n-1) with ±10 % jitter, measured from one attempt's end to the next's start.
        var gaps = await host.JsonAsync("""
            SELECT json_agg(gap ORDER BY attempt)::text FROM (
              SELECT attempt, extract(epoch FROM started_at - lag(finished_at) OVER (ORDER BY attempt)) AS gap
              FROM test_executions WHERE job_id = $1) g WHERE gap IS NOT NULL
            """, job);
        var seconds = gaps.EnumerateArray().Select(g => g.GetDouble()).ToList();
        Assert.Equal(2, seconds.Count);
        // The run did wait between attempts (without the timers the gaps are a few hundredths). Azurite may fire a timer
        // up to a second early, and under the loaded suite a timer's message is picked up late (2.66 s for the 1 s wait
        // once), so each gap is bounded loosely, the wait is checked on their sum and the chosen delays on the log below.
        Assert.InRange(seconds[0], 0, 10);
        Assert.InRange(seconds[1], 0.5, 10);
        Assert.True(seconds.Sum() >= 1.0, $"the attempts hardly waited: {seconds[0]:0.00} s, then {seconds[1]:0.00} s");
        // The delays the run chose, as it logged them: they grow by the coefficient (wall-clock gaps under a loaded suite
        // wander by a few tenths either way, too much to compare them with each other).
        var delays = (await host.JsonAsync("SELECT json_agg(message ORDER BY id)::text FROM job_logs WHERE job_id = $1 AND message LIKE '%retrying in%'", job))
            .EnumerateArray().Select(e => e.GetString()!).Select(m => double.Parse(m[(m.LastIndexOf("retrying in ", StringComparison.Ordinal) + 12)..].TrimEnd(' ', 's'), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(2, delays.Count);
        Assert.InRange(delays[0], 0.9, 1.1);
        Assert.InRange(delays[1], 1.8, 2.2);
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

        Assert.Equal("cancelled", await host.CancelAsync(job));
        Assert.Equal("cancelled", await host.CancelAsync(job)); // idempotent

        await host.WaitUntilAsync("SELECT status = 'cancelled' FROM node_runs WHERE job_id = $1 AND node_id = 'st' AND item_index = 0", job);
        Assert.Equal("cancelled", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1 AND node_id = 't'", job))!);
        // The run itself ended, not only the job's row.
        Assert.Equal(Microsoft.DurableTask.Client.OrchestrationRuntimeStatus.Completed,
            (await host.Runs.WaitForInstanceCompletionAsync(job, getInputsAndOutputs: true)).RuntimeStatus);
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
    public async Task RetryLaterWaitsOnADurableTimerWithoutUsingAnAttempt()
    {
        var job = await host.StartJobAsync("""
        {"nodes": [{"id": "st", "type": "Input.Stock", "params": {"query": "wait=2"}, "retry": {"max_attempts": 1}}], "edges": []}
        """);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        // Asked to wait twice, then ran: three executions, still the first (and only allowed) attempt.
        Assert.Equal(3, await host.CountAsync("SELECT count(*) FROM test_side_effects WHERE job_id = $1 AND node_id = 'st:wait'", job));
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1 AND node_id = 'st'", job))!);
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
    public void VariablesFillPlaceholdersInStringParams()
    {
        var graph = System.Text.Json.JsonSerializer.Deserialize<WorkflowGraph>("""
            {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "News about {{ city }} in {{lang}}; {{unknown}} stays", "scenes": 3}},
                       {"id": "u", "type": "Input.Upload", "params": {"asset_ids": ["{{city}}", "asset_x"]}}], "edges": []}
            """, FentaWeb.Domain.Common.FentaJson.Options)!;
        var applied = CompiledGraph.ApplyVariables(graph, JsonDocument.Parse("""{"city": "Lisbon", "lang": "pt"}""").RootElement);
        Assert.Equal("News about Lisbon in pt; {{unknown}} stays", applied.Nodes[0].Params!["prompt"].GetString());
        Assert.Equal(3, applied.Nodes[0].Params!["scenes"].GetInt32());
        Assert.Equal(["Lisbon", "asset_x"], applied.Nodes[1].Params!["asset_ids"].EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public void BackoffGrowsGeometricallyWithinJitterAndCapAndIsTheSameOnReplay()
    {
        var policy = new RetryPolicy(5, TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));
        var waits = Enumerable.Range(0, 200).Select(i => (Seed: $"job_{i}:node:0", First: policy.Backoff(1, $"job_{i}:node:0"))).ToList();
        foreach (var (seed, first) in waits)
        {
            Assert.InRange(first.TotalSeconds, 0.9, 1.1);
            Assert.InRange(policy.Backoff(3, seed).TotalSeconds, 3.6, 4.4);
            Assert.InRange(policy.Backoff(10, seed).TotalSeconds, 4.5, 5.5);
            Assert.Equal(first, policy.Backoff(1, seed)); // an orchestrator replaying its history waits the same
        }
        // Items of one node spread out instead of retrying in lockstep.
        Assert.True(waits.Select(w => w.First).Distinct().Count() > 150);
    }
}
