using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Schedules over HTTP, with two orchestration hosts whose "Schedules" timer function starts the runs (test
/// activities). Their clock is a fake the tests move forward: a timer fires when the clock passes its minute.
/// </summary>
public class ScheduleTests(ScheduleTests.Host host) : IClassFixture<ScheduleTests.Host>
{
    public sealed class Host : FakeClockHost
    {
        protected override int Workers => 2;

        /// <summary>Moves the clock past <paramref name="instant"/> (never back), across a minute boundary so the timer fires.</summary>
        public void MoveTo(DateTimeOffset instant) =>
            Clock.SetUtcNow((instant > Clock.GetUtcNow() ? instant : Clock.GetUtcNow()).AddMinutes(1));
    }

    private static readonly object Graph = new
    {
        nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1 about {{topic}}" } } },
        edges = Array.Empty<object>(),
    };

    private async Task<(Session Session, HttpClient Client, string WorkflowId)> WorkflowAsync()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflow = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Daily", graph = Graph, variables = new { topic = "cats" } })).ReadJsonAsync(201);
        return (session, client, workflow.GetProperty("id").GetString()!);
    }

    private async Task<JsonElement> WaitAsync(HttpClient client, string scheduleId, Func<JsonElement, bool> done)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(20))
        {
            var schedule = await (await client.GetAsync($"/v1/schedules/{scheduleId}")).ReadJsonAsync(200);
            if (done(schedule)) return schedule;
            await Task.Delay(50);
        }
        throw new TimeoutException($"schedule {scheduleId} never reached the expected state");
    }

    private static DateTimeOffset NextRun(JsonElement schedule) => schedule.GetProperty("next_run_at").GetDateTimeOffset();

    [Fact]
    public async Task ASchedulesBudgetGoesWithItsRunsAndASlotWhoseRunWouldPassItRecordsWhyInsteadOfRunning()
    {
        var (_, client, workflowId) = await WorkflowAsync();
        var created = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "*/5 * * * *", budget = new { max_cost_usd = 1 } }))
            .ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        host.MoveTo(NextRun(created));
        var ran = await WaitAsync(client, id, s => s.GetProperty("run_count").GetInt32() == 1);
        var job = await (await client.GetAsync($"/v1/jobs/{ran.GetProperty("last_job_id").GetString()}")).ReadJsonAsync(200);
        Assert.Equal(1m, job.GetProperty("budget").GetProperty("max_cost_usd").GetDecimal());

        // The workflow grows a three-minute render ($0.02 a second): its next slot would pass the budget, so it does not run.
        var rendered = new
        {
            nodes = new object[]
            {
                new { id = "s", type = "Script.Generate", @params = new { prompt = "tides", duration_seconds = 180 } },
                new { id = "st", type = "Input.Stock", @params = new { query = "sea" } },
                new { id = "v", type = "Voice.TTS" }, new { id = "t", type = "Edit.Timeline" }, new { id = "r", type = "Output.Render" },
            },
            edges = new object[] { new { from = "s", to = "v" }, new { from = "st", to = "t" }, new { from = "v", to = "t" }, new { from = "t", to = "r" } },
        };
        await (await client.PatchAsJsonAsync($"/v1/workflows/{workflowId}", new { graph = rendered })).ReadJsonAsync(200);
        host.MoveTo(NextRun(ran));
        var refused = await WaitAsync(client, id, s => s.GetProperty("last_error").ValueKind == JsonValueKind.String);
        Assert.Contains("budget", refused.GetProperty("last_error").GetString());
        Assert.Equal(1, refused.GetProperty("run_count").GetInt32());
        Assert.True(NextRun(refused) > NextRun(ran));
    }

    [Fact]
    public async Task ADueSlotStartsARunOfTheWorkflowWithTheSchedulesVariablesAndMovesToTheNextSlot()
    {
        var (_, client, workflowId) = await WorkflowAsync();
        var created = await (await client.PostAsJsonAsync("/v1/schedules",
            new { workflow_id = workflowId, cron = "*/5 * * * *", timezone = "Europe/Berlin", variables = new { topic = "owls" }, name = "every five" })).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        var upcoming = created.GetProperty("upcoming").EnumerateArray().Select(u => u.GetDateTimeOffset()).ToList();
        Assert.Equal(5, upcoming.Count);
        Assert.True(upcoming[0] > DateTimeOffset.UtcNow && upcoming[0] <= DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.All(upcoming.Zip(upcoming.Skip(1)), pair => Assert.Equal(TimeSpan.FromMinutes(5), pair.Second - pair.First));
        Assert.Equal(0, created.GetProperty("run_count").GetInt32());

        host.MoveTo(NextRun(created));
        var ran = await WaitAsync(client, id, s => s.GetProperty("run_count").GetInt32() == 1);
        var jobId = ran.GetProperty("last_job_id").GetString()!;
        var job = await (await client.GetAsync($"/v1/jobs/{jobId}")).ReadJsonAsync(200);
        Assert.Equal(workflowId, job.GetProperty("workflow_id").GetString());
        Assert.Equal("owls", (string?)await host.ScalarAsync("SELECT config->'variables'->>'topic' FROM jobs WHERE id = $1", jobId));
        var next = NextRun(ran);
        Assert.True(next > host.Clock.GetUtcNow() && next.Minute % 5 == 0 && next.Second == 0, $"next run {next:o}");
        Assert.Equal(JsonValueKind.Null, ran.GetProperty("last_error").ValueKind);
        Assert.Equal(1, (await (await client.GetAsync($"/v1/workflows/{workflowId}")).ReadJsonAsync(200)).GetProperty("run_count").GetInt32());
    }

    [Fact]
    public async Task EachSlotRunsOnceHoweverManyHostsTickAndMissedSlotsAreNotMadeUp()
    {
        var (_, client, workflowId) = await WorkflowAsync();
        var created = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 * * * *" })).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        var first = NextRun(created);

        host.MoveTo(first);
        var once = await WaitAsync(client, id, s => s.GetProperty("run_count").GetInt32() == 1);
        var second = NextRun(once);
        Assert.True(second > host.Clock.GetUtcNow() && second.Minute == 0, $"next run {second:o}");
        // Both hosts tick every minute before the next slot; the slot that ran is not run again.
        for (var minute = 0; minute < 5 && host.Clock.GetUtcNow().AddMinutes(1) < second; minute++)
        {
            host.Clock.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(200);
        }
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM jobs WHERE workflow_id = $1", workflowId));

        // The clock jumps three hours past the next slot: that slot runs once (late), the ones missed meanwhile do not.
        host.MoveTo(second.AddHours(3));
        var late = await WaitAsync(client, id, s => s.GetProperty("run_count").GetInt32() == 2);
        await Task.Delay(1000);
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM jobs WHERE workflow_id = $1", workflowId));
        Assert.Equal(second.AddHours(4), NextRun(late));
        Assert.NotEqual(once.GetProperty("last_job_id").GetString(), late.GetProperty("last_job_id").GetString());
    }

    [Fact]
    public async Task ASlotAlreadyStartedBeforeAHostDiedIsNotStartedAgain()
    {
        var (_, client, workflowId) = await WorkflowAsync();
        var created = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 * * * *" })).ReadJsonAsync(201);
        var id = created.GetProperty("id").GetString()!;
        var slot = NextRun(created);
        // The job of the slot as a host that then died would have left it: started under the slot's key, schedule not moved on.
        var run = new HttpRequestMessage(HttpMethod.Post, $"/v1/workflows/{workflowId}/run") { Content = JsonContent.Create(new { }) };
        run.Headers.Add("Idempotency-Key", $"schedule:{id}:{slot.ToUnixTimeSeconds()}");
        var earlier = (await (await client.SendAsync(run)).ReadJsonAsync(202)).GetProperty("id").GetString()!;

        host.MoveTo(slot);
        var ticked = await WaitAsync(client, id, s => s.GetProperty("last_job_id").ValueKind == JsonValueKind.String);
        Assert.Equal(earlier, ticked.GetProperty("last_job_id").GetString());
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM jobs WHERE workflow_id = $1", workflowId));
        Assert.True(NextRun(ticked) > host.Clock.GetUtcNow());
    }

    [Fact]
    public async Task DisabledSchedulesHaveNoNextRunAndAScheduleOfADeletedWorkflowTurnsItselfOff()
    {
        var (_, client, workflowId) = await WorkflowAsync();
        var id = (await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "30 9 * * 1-5" })).ReadJsonAsync(201))
            .GetProperty("id").GetString()!;
        var off = await (await client.PatchAsJsonAsync($"/v1/schedules/{id}", new { enabled = false })).ReadJsonAsync(200);
        Assert.Equal((false, JsonValueKind.Null, 0), (off.GetProperty("enabled").GetBoolean(), off.GetProperty("next_run_at").ValueKind, off.GetProperty("upcoming").GetArrayLength()));
        var on = await (await client.PatchAsJsonAsync($"/v1/schedules/{id}", new { enabled = true, timezone = "America/New_York" })).ReadJsonAsync(200);
        var next = on.GetProperty("next_run_at").GetDateTimeOffset();
        var local = TimeZoneInfo.ConvertTime(next, TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
        Assert.Equal((9, 30, false), (local.Hour, local.Minute, local.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday));

        await (await client.DeleteAsync($"/v1/workflows/{workflowId}")).ReadJsonAsync(204);
        host.MoveTo(next);
        var stopped = await WaitAsync(client, id, s => !s.GetProperty("enabled").GetBoolean());
        Assert.Contains("deleted", stopped.GetProperty("last_error").GetString());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM jobs WHERE workflow_id = $1", workflowId));
    }

    [Fact]
    public async Task BadSchedulesNameTheirFieldsAndOtherOrgsSeeNothing()
    {
        var (session, client, workflowId) = await WorkflowAsync();
        var bad = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = "wf_nope", cron = "61 * * * *", variables = "x" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["cron", "variables", "workflow_id"], bad.Fields().Order());
        var zone = await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 9 * * *", timezone = "Mars/Olympus" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["timezone"], zone.Fields());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM schedules WHERE org_id = $1", session.OrgId));

        var id = (await (await client.PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 9 * * *" })).ReadJsonAsync(201)).GetProperty("id").GetString()!;
        await (await client.PatchAsJsonAsync($"/v1/schedules/{id}", new { cron = "every day" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal("0 9 * * *", (await (await client.GetAsync($"/v1/schedules/{id}")).ReadJsonAsync(200)).GetProperty("cron").GetString());

        var (stranger, _, _) = await WorkflowAsync();
        await (await stranger.Client().GetAsync($"/v1/schedules/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.Client().DeleteAsync($"/v1/schedules/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        var foreign = await (await stranger.Client().PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 9 * * *" })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["workflow_id"], foreign.Fields());

        var (viewer, _) = await session.CreateKeyAsync("workflows:read");
        Assert.Equal(1, (await (await host.Client(viewer).GetAsync($"/v1/schedules?workflow_id={workflowId}")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
        await (await host.Client(viewer).PostAsJsonAsync("/v1/schedules", new { workflow_id = workflowId, cron = "0 9 * * *" })).ReadProblemAsync(403, "FORBIDDEN");
        await (await client.DeleteAsync($"/v1/schedules/{id}")).ReadJsonAsync(204);
        await (await client.GetAsync($"/v1/schedules/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }
    [Fact]
    public async Task AWorkflowsScheduleCronNodeIsItsScheduleKeptInStepWhenTheWorkflowIsSaved()
    {
        var client = (await host.RegisterAsync()).Client();
        object GraphAt(string? cron) => new
        {
            nodes = cron is null
                ? new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1" } } }
                : [new { id = "when", type = "Schedule.Cron", @params = new { cron, timezone = "Asia/Tokyo" } }, new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1" } }],
            edges = Array.Empty<object>(),
        };
        var workflowId = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Morning", graph = GraphAt("0 6 * * *") })).ReadJsonAsync(201))
            .GetProperty("id").GetString()!;
        async Task<JsonElement> OnlyScheduleAsync() =>
            Assert.Single((await (await client.GetAsync($"/v1/schedules?workflow_id={workflowId}")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());
        TimeOnly TokyoTime(JsonElement schedule) =>
            TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(schedule.GetProperty("next_run_at").GetDateTimeOffset(), TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo")).DateTime);

        var schedule = await OnlyScheduleAsync();
        var id = schedule.GetProperty("id").GetString()!;
        Assert.Equal(("node", "0 6 * * *", "Asia/Tokyo"), (schedule.GetProperty("source").GetString(), schedule.GetProperty("cron").GetString(), schedule.GetProperty("timezone").GetString()));
        Assert.Equal(new TimeOnly(6, 0), TokyoTime(schedule));

        await (await client.PatchAsJsonAsync($"/v1/workflows/{workflowId}", new { graph = GraphAt("15 6 * * *") })).ReadJsonAsync(200);
        var retimed = await OnlyScheduleAsync();
        Assert.Equal((id, new TimeOnly(6, 15)), (retimed.GetProperty("id").GetString(), TokyoTime(retimed)));
        Assert.Equal(["cron"], (await (await client.PatchAsJsonAsync($"/v1/schedules/{id}", new { cron = "0 7 * * *" })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        await (await client.DeleteAsync($"/v1/schedules/{id}")).ReadProblemAsync(409, "SCHEDULE_FROM_WORKFLOW");

        // It runs like any schedule: the trigger node counts as done and the rest of the graph runs.
        host.MoveTo(retimed.GetProperty("next_run_at").GetDateTimeOffset());
        var ran = await WaitAsync(client, id, s => s.GetProperty("run_count").GetInt32() == 1);
        var jobId = ran.GetProperty("last_job_id").GetString()!;
        var watch = Stopwatch.StartNew();
        while ((string?)await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", jobId) != "completed" && watch.Elapsed < TimeSpan.FromSeconds(20)) await Task.Delay(50);
        Assert.Equal("completed", (string?)await host.ScalarAsync("SELECT status FROM jobs WHERE id = $1", jobId));

        await (await client.PatchAsJsonAsync($"/v1/workflows/{workflowId}", new { graph = GraphAt(null) })).ReadJsonAsync(200);
        Assert.Equal(0, (await (await client.GetAsync($"/v1/schedules?workflow_id={workflowId}")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
    }
}
