using FentaWeb.Domain.Jobs;
using FentaWeb.Runs;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>The product's view of a run is written at least once: repeated and late writes change nothing that is final.</summary>
public class RunStoreTests(RunHostWithoutWorker host) : IClassFixture<RunHostWithoutWorker>
{
    private static NodeCall Call(string job) => new(job, "s", 0);

    [Fact]
    public async Task ASuccessCountsOnceAndALateExecutionCannotUndoAFinishedRow()
    {
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        Assert.Equal("pending", (await RunStore.StartNodeAsync(host.Db, Call(job), CancellationToken.None))!.Status);
        var output = System.Text.Json.JsonDocument.Parse("\"first\"").RootElement;
        // A repeated execution meters and succeeds again: both count once.
        for (var run = 0; run < 2; run++)
            await Domain.Billing.Metering.RecordTokensAsync(host.Db, job, "s", 0, 12_000, 8_000, "sim", CancellationToken.None);
        await RunStore.SucceedAsync(host.Db, job, "s", 0, output, wholeNode: true, CancellationToken.None);
        await RunStore.SucceedAsync(host.Db, job, "s", 0, System.Text.Json.JsonDocument.Parse("\"again\"").RootElement, true, CancellationToken.None);
        await RunStore.FailNodeAsync(host.Db, Call(job), "LATE", "a stale execution", CancellationToken.None);

        Assert.Equal("succeeded", (await RunStore.StartNodeAsync(host.Db, Call(job), CancellationToken.None))!.Status);
        Assert.Equal("first", (await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", job)).GetString());
        // 20,000 tokens at the free plan's list price ($0.10 per 100K) on the job and on its node.
        Assert.Equal((1, 20_000, 0.02m, 0.02m), ((int)(await host.ScalarAsync("SELECT nodes_done FROM jobs WHERE id = $1", job))!,
            (int)(await host.ScalarAsync("SELECT cost_tokens FROM jobs WHERE id = $1", job))!,
            (decimal)(await host.ScalarAsync("SELECT cost_total_usd FROM jobs WHERE id = $1", job))!,
            (decimal)(await host.ScalarAsync("SELECT cost_usd FROM node_runs WHERE job_id = $1", job))!));
    }

    [Fact]
    public async Task ACancelledJobStaysCancelledWhateverItsRunReportsLater()
    {
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        await RunStore.MarkProcessingAsync(host.Db, job, CancellationToken.None);
        Assert.Equal((JobStatus.Cancelled, true), await RunStore.CancelAsync(host.Db, RunHost.OrgId, job, CancellationToken.None));
        // A second cancel finds it cancelled, and did not cancel it (the API counts the first one only).
        Assert.Equal((JobStatus.Cancelled, false), await RunStore.CancelAsync(host.Db, RunHost.OrgId, job, CancellationToken.None));
        Assert.False(await RunStore.FinishAsync(host.Db, new RunEnd(job, JobStatus.Completed), ["s"], CancellationToken.None));
        Assert.Equal("cancelled", (string)(await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", job))!);
        Assert.Equal("cancelled", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1", job))!);
        Assert.Null(await RunStore.CancelAsync(host.Db, "org_someone_else", job, CancellationToken.None));
    }

    [Fact]
    public async Task RetryingLogsAnAttemptOnceAndOnlyForTheAttemptThatRan()
    {
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "x"}}], "edges": []}""");
        await RunStore.StartNodeAsync(host.Db, Call(job), CancellationToken.None);
        await RunStore.RetryingAsync(host.Db, Call(job), "FLAKY", "try again", TimeSpan.FromSeconds(2), CancellationToken.None);
        await RunStore.RetryingAsync(host.Db, Call(job), "FLAKY", "try again", TimeSpan.FromSeconds(2), CancellationToken.None);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1 AND message LIKE '%retrying in 2 s'", job));
        Assert.Equal("pending", (string)(await host.ScalarAsync("SELECT status FROM node_runs WHERE job_id = $1", job))!);
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
        await RunStore.ReportNodeProgressAsync(host.Db, job, 0.5, CancellationToken.None);
        Assert.Equal(37, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
        await RunStore.ReportNodeProgressAsync(host.Db, job, 0.2, CancellationToken.None);
        Assert.Equal(37, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
        await host.ExecAsync($"UPDATE jobs SET nodes_done = 3 WHERE id = '{job}'");
        await RunStore.ReportNodeProgressAsync(host.Db, job, 1.0, CancellationToken.None);
        Assert.Equal(99, (int)(await host.ScalarAsync("SELECT progress FROM jobs WHERE id = $1", job))!);
    }
}
