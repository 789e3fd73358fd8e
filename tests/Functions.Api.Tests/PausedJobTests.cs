using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Jobs;

namespace FentaWeb.Api.Tests;

/// <summary>
/// A free-tier job over an allowance waits paused until the allowance resets, then the per-minute timer starts it. The
/// orchestration host's clock is a fake the test moves to the reset: nothing waits for a month. The same timer schedules
/// the run of a queued job that the API stored but did not schedule (it schedules after answering) once the run is overdue.
/// </summary>
public class PausedJobTests(PausedJobTests.Host host) : IClassFixture<PausedJobTests.Host>
{
    public sealed class Host : FakeClockHost;

    private static readonly object Graph = new
    {
        nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1" } } },
        edges = Array.Empty<object>(),
    };

    private static async Task<JsonElement> WaitAsync(HttpClient client, string jobId, Func<JsonElement, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var job = await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200);
            if (done(job)) return job;
            await Task.Delay(50);
        }
        throw new TimeoutException($"job {jobId} never reached the expected state");
    }

    [Fact]
    public async Task APausedJobStartsWhenTheAllowanceResetsAndACancelledOneNeverDoes()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        await host.ScalarAsync("INSERT INTO usage_records (id, org_id, resource_type, render_seconds, cost_usd) VALUES (fenta_id('usage'), $1, 'render_seconds', 300, 0)",
            session.OrgId);
        var waiting = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202);
        var cancelled = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202);
        var (waitingId, cancelledId) = (waiting.GetProperty("id").GetString()!, cancelled.GetProperty("id").GetString()!);
        var resumeAt = waiting.GetProperty("resume_at").GetDateTimeOffset();
        Assert.Equal(("paused", "paused"), (waiting.GetProperty("status").GetString(), cancelled.GetProperty("status").GetString()));

        // A paused job can be cancelled: it never runs.
        var stopped = await (await client.PostAsync($"/v1/jobs/{cancelledId}/cancel", null)).ReadJsonAsync(202);
        Assert.Equal("cancelled", stopped.GetProperty("status").GetString());

        // Ticks before the reset leave it paused.
        host.Clock.SetUtcNow(resumeAt.AddMinutes(-3));
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        await Task.Delay(1500);
        Assert.Equal("paused", (await (await client.GetAsync($"/v1/jobs/{waitingId}")).ReadJsonAsync(200)).GetProperty("status").GetString());

        // The first tick after the reset starts it, and it runs to the end.
        host.Clock.SetUtcNow(resumeAt.AddMinutes(1));
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        var done = await WaitAsync(client, waitingId, j => j.GetProperty("status").GetString() is "completed" or "failed");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, done.GetProperty("resume_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, done.GetProperty("paused_reason").ValueKind);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1 AND message LIKE 'Job resumed%'", waitingId));

        Assert.Equal("cancelled", (await (await client.GetAsync($"/v1/jobs/{cancelledId}")).ReadJsonAsync(200)).GetProperty("status").GetString());
        Assert.Null(await host.Runs.GetInstanceAsync(cancelledId));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM node_runs WHERE job_id = $1 AND status = 'succeeded'", cancelledId));
    }

    [Fact]
    public async Task AQueuedJobWhoseRunTheApiNeverScheduledIsScheduledOnceItIsOverdue()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        await host.ScalarAsync("INSERT INTO usage_records (id, org_id, resource_type, render_seconds, cost_usd) VALUES (fenta_id('usage'), $1, 'render_seconds', 300, 0)",
            session.OrgId);
        // A paused job has its rows and no run; made queued with its run owed a minute from now, it is what the API leaves
        // when it stops between committing a new job and scheduling its run.
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var owed = host.Clock.GetUtcNow().AddMinutes(1);
        await host.ScalarAsync("UPDATE jobs SET status = 'queued', paused_reason = NULL, resume_at = $2 WHERE id = $1", jobId, owed);
        Assert.Equal(JsonValueKind.Null, (await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200)).GetProperty("resume_at").ValueKind);

        // A tick before the run is owed leaves it alone: the API may still be scheduling it.
        host.Clock.Advance(TimeSpan.FromSeconds(50));
        await Task.Delay(1500);
        Assert.Null(await host.Runs.GetInstanceAsync(jobId));
        Assert.Equal("queued", (await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200)).GetProperty("status").GetString());

        // The first tick after it schedules the run, which goes to the end, and clears the mark.
        host.Clock.SetUtcNow(owed.AddSeconds(30));
        host.Clock.Advance(TimeSpan.FromMinutes(1));
        var done = await WaitAsync(client, jobId, j => j.GetProperty("status").GetString() is "completed" or "failed");
        Assert.Equal("completed", done.GetProperty("status").GetString());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE id = $1 AND resume_at IS NOT NULL", jobId));
    }
}
