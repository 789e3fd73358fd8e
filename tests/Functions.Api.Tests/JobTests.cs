using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Jobs;

namespace FentaWeb.Api.Tests;

public class JobTests(JobTests.Host host) : IClassFixture<JobTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override bool RunsWorker => true;
    }

    private static object Graph(string stockQuery = "sleep=50", int scenes = 3) => new
    {
        nodes = new object[]
        {
            new { id = "s", type = "Script.Generate", @params = new { prompt = $"scenes={scenes} about {{{{topic}}}}" } },
            new { id = "st", type = "Input.Stock", @params = new { query = stockQuery } },
            new { id = "v", type = "Voice.TTS", @params = new { voice = "sleep=50" } },
            new { id = "t", type = "Edit.Timeline" },
        },
        edges = new object[] { new { from = "s", to = "st" }, new { from = "s", to = "v" }, new { from = "st", to = "t" }, new { from = "v", to = "t" } },
    };

    [Fact]
    public async Task RunningAWorkflowAnswers202WithManagementUrlsAndCompletes()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflow = await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Run me", graph = Graph(), variables = new { topic = "cats" } })).ReadJsonAsync(201);
        var workflowId = workflow.GetProperty("id").GetString();

        var response = await client.PostAsJsonAsync($"/v1/workflows/{workflowId}/run", new { variables = new { topic = "dogs" } });
        var started = await response.ReadJsonAsync(202);
        var jobId = started.GetProperty("id").GetString()!;
        Assert.StartsWith("job_", jobId);
        Assert.Equal($"/v1/jobs/{jobId}", response.Headers.Location?.ToString());
        Assert.Equal($"/v1/jobs/{jobId}/cancel", started.GetProperty("urls").GetProperty("cancel").GetString());
        Assert.Equal($"/v1/jobs/{jobId}/events", started.GetProperty("urls").GetProperty("events").GetString());

        var job = await client.JobEndedAsync(jobId);
        Assert.Equal(("completed", 100), (job.GetProperty("status").GetString(), job.GetProperty("progress").GetInt32()));
        Assert.Equal((workflowId, 1), (job.GetProperty("workflow_id").GetString(), job.GetProperty("workflow_version").GetInt32()));
        var nodes = job.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("node_id").GetString()!);
        Assert.Equal(["s", "st", "t", "v"], nodes.Keys.Order());
        Assert.All(nodes.Values, n => Assert.Equal("succeeded", n.GetProperty("status").GetString()));
        Assert.Equal((3, 3), (nodes["st"].GetProperty("items").GetProperty("total").GetInt32(), nodes["st"].GetProperty("items").GetProperty("succeeded").GetInt32()));
        Assert.Equal(["stock:st:0", "stock:st:1", "stock:st:2"],
            job.GetProperty("result").GetProperty("outputs").GetProperty("t").GetProperty("media").EnumerateArray().Select(e => e.GetString()));
        // The documented result fields are there (this graph renders nothing, so no links), and the cost fields by their documented names.
        foreach (var field in new[] { "video_url", "thumbnail_url", "srt_url", "duration" })
            Assert.Equal(JsonValueKind.Null, job.GetProperty("result").GetProperty(field).ValueKind);
        Assert.Equal(job.GetProperty("cost").GetProperty("total_usd").GetDecimal(), job.GetProperty("cost_total_usd").GetDecimal());
        Assert.Equal(job.GetProperty("cost").GetProperty("tokens").GetInt32(), job.GetProperty("cost_tokens").GetInt32());
        var listed = (await (await client.GetAsync($"/v1/jobs?workflow_id={workflowId}")).ReadJsonAsync(200)).GetProperty("data")[0];
        Assert.Equal(job.GetProperty("result").GetProperty("outputs").GetRawText(), listed.GetProperty("result").GetProperty("outputs").GetRawText());
        Assert.True(job.GetProperty("duration_seconds").GetDouble() > 0);

        // The run's variables reached the graph snapshot, over the workflow's own.
        var prompt = (string)(await host.ScalarAsync("SELECT config->'graph'->'nodes'->0->'params'->>'prompt' FROM jobs WHERE id = $1", jobId))!;
        Assert.Equal("scenes=3 about dogs", prompt);
        var logs = await (await client.GetAsync($"/v1/jobs/{jobId}/logs")).ReadJsonAsync(200);
        Assert.Contains(logs.GetProperty("data").EnumerateArray(), l => l.GetProperty("message").GetString() == "Job completed");
        var updated = await (await client.GetAsync($"/v1/workflows/{workflowId}")).ReadJsonAsync(200);
        Assert.Equal(1, updated.GetProperty("run_count").GetInt32());
    }

    [Fact]
    public async Task SameIdempotencyKeyGivesTheSameJob()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflowId = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Once", graph = Graph() })).ReadJsonAsync(201)).GetProperty("id").GetString();

        async Task<HttpResponseMessage> Run(string key)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/workflows/{workflowId}/run") { Content = JsonContent.Create(new { }) };
            request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }
        var responses = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => Run("order-42")));
        var ids = new HashSet<string>();
        foreach (var r in responses) ids.Add((await r.ReadJsonAsync(202)).GetProperty("id").GetString()!);
        Assert.Single(ids);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId));
        Assert.Contains(responses, r => r.Headers.Contains("Idempotent-Replayed"));
        // The workflow counts the run once, not once per replay of its key.
        async Task<int> RunCount() => (await (await client.GetAsync($"/v1/workflows/{workflowId}")).ReadJsonAsync(200)).GetProperty("run_count").GetInt32();
        Assert.Equal(1, await RunCount());
        await (await Run("order-42")).ReadJsonAsync(202);
        Assert.Equal(1, await RunCount());

        var other = await (await Run("order-43")).ReadJsonAsync(202);
        Assert.DoesNotContain(other.GetProperty("id").GetString()!, ids);
        Assert.Equal(2, await RunCount());
    }

    [Fact]
    public async Task AnIdempotencyKeyReusedWithOtherVariablesOrBudgetIsAConflictNotAReplay()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var workflowId = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Keyed", graph = Graph(), variables = new { topic = "cats" } })).ReadJsonAsync(201))
            .GetProperty("id").GetString();

        async Task<HttpResponseMessage> Send(string path, string key, object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await client.SendAsync(request);
        }

        var run = $"/v1/workflows/{workflowId}/run";
        var first = (await (await Send(run, "run-1", new { variables = new { topic = "dogs", n = 1 }, budget = new { max_cost_usd = 500 } })).ReadJsonAsync(202)).GetProperty("id").GetString();
        // The same request again, keys in another order and the same amount written differently, replays the job.
        var again = await Send(run, "run-1", new { budget = new { max_cost_usd = 500.0 }, variables = new { n = 1, topic = "dogs" } });
        Assert.Equal(first, (await again.ReadJsonAsync(202)).GetProperty("id").GetString());
        Assert.True(again.Headers.Contains("Idempotent-Replayed"));
        await (await Send(run, "run-1", new { variables = new { topic = "birds", n = 1 }, budget = new { max_cost_usd = 500 } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send(run, "run-1", new { variables = new { topic = "dogs", n = 1 } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send(run, "run-1", new { variables = new { topic = "dogs", n = 1 }, budget = new { max_cost_usd = 400 } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");

        var direct = (await (await Send("/v1/jobs", "job-1", new { graph = Graph(), variables = new { topic = "owls" } })).ReadJsonAsync(202)).GetProperty("id").GetString();
        Assert.Equal(direct, (await (await Send("/v1/jobs", "job-1", new { graph = Graph(), variables = new { topic = "owls" } })).ReadJsonAsync(202)).GetProperty("id").GetString());
        await (await Send("/v1/jobs", "job-1", new { graph = Graph(), variables = new { topic = "bats" } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send("/v1/jobs", "job-1", new { graph = Graph(scenes: 2), variables = new { topic = "owls" } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send("/v1/jobs", "job-1", new { graph = Graph(), variables = new { topic = "owls" }, budget = new { max_tokens = 100000 } }))
            .ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send("/v1/jobs", "run-1", new { graph = Graph(), variables = new { topic = "dogs", n = 1 } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        await (await Send(run, "job-1", new { variables = new { topic = "owls" } })).ReadProblemAsync(409, "IDEMPOTENCY_KEY_REUSED");
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM jobs WHERE org_id = $1", session.OrgId)); // nothing else started
    }

    [Fact]
    public async Task DirectJobCancelAndRetry()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph("block") })).ReadJsonAsync(202);
        var jobId = started.GetProperty("id").GetString()!;
        // Cancel once the voice has finished (the retry reuses it) while the stock items still block.
        const string progress = """
            SELECT count(*) FILTER (WHERE node_id = 'st' AND item_index >= 0 AND status = 'running') + count(*) FILTER (WHERE node_id = 'v' AND status = 'succeeded')
            FROM node_runs WHERE job_id = $1
            """;
        for (var i = 0; i < 200 && await host.CountAsync(progress, jobId) < 4; i++)
            await Task.Delay(50);

        var cancelled = await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
        var final = await client.JobEndedAsync(jobId);
        Assert.Equal("cancelled", final.GetProperty("status").GetString());

        var retried = await (await client.PostAsync($"/v1/jobs/{jobId}/retry", null)).ReadJsonAsync(202);
        var retryId = retried.GetProperty("id").GetString()!;
        Assert.Equal(jobId, retried.GetProperty("parent_job_id").GetString());
        var retryNodes = (await (await client.GetAsync($"/v1/jobs/{retryId}")).ReadJsonAsync(200)).GetProperty("nodes").EnumerateArray()
            .ToDictionary(n => n.GetProperty("node_id").GetString()!);
        Assert.True(retryNodes["s"].GetProperty("reused").GetBoolean());
        Assert.True(retryNodes["v"].GetProperty("reused").GetBoolean());
        await (await client.PostAsync($"/v1/jobs/{retryId}/cancel", null)).ReadJsonAsync(202);

        var completed = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph() })).ReadJsonAsync(202);
        var completedId = completed.GetProperty("id").GetString()!;
        await client.JobEndedAsync(completedId);
        await (await client.PostAsync($"/v1/jobs/{completedId}/cancel", null)).ReadProblemAsync(409, "JOB_FINISHED");
        await (await client.PostAsync($"/v1/jobs/{completedId}/retry", null)).ReadProblemAsync(409, "JOB_NOT_RETRYABLE");
    }

    [Fact]
    public async Task JobsAreListedFilteredAndScopedToTheOrg()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var a = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph() })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        var b = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph("failperm") })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        await client.JobEndedAsync(a);
        var failed = await client.JobEndedAsync(b);
        Assert.Equal("TEST_PERMANENT", failed.GetProperty("error").GetProperty("code").GetString());

        var all = await (await client.GetAsync("/v1/jobs")).ReadJsonAsync(200);
        Assert.Equal([b, a], all.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        var onlyFailed = await (await client.GetAsync("/v1/jobs?status=failed")).ReadJsonAsync(200);
        Assert.Equal([b], onlyFailed.GetProperty("data").EnumerateArray().Select(j => j.GetProperty("id").GetString()));
        var future = await (await client.GetAsync("/v1/jobs?created_after=2999-01-01T00:00:00Z")).ReadJsonAsync(200);
        Assert.Equal(0, future.GetProperty("data").GetArrayLength());
        Assert.Equal(["created_before", "status"],
            (await (await client.GetAsync("/v1/jobs?status=done&created_before=yesterday")).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields().Order());

        var stranger = await host.RegisterAsync();
        await (await stranger.Client().GetAsync($"/v1/jobs/{a}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.Client().PostAsync($"/v1/jobs/{a}/cancel", null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.Client().GetAsync($"/v1/jobs/{a}/events")).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task RunningNeedsTheJobsExecuteScopeAndAValidGraph()
    {
        var session = await host.RegisterAsync();
        var (readOnly, _) = await session.CreateKeyAsync("workflows:read");
        var denied = await host.Client(readOnly).PostAsJsonAsync("/v1/jobs", new { graph = Graph() });
        Assert.Equal("jobs:execute", (await denied.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_scope").GetString());

        var invalid = await session.Client().PostAsJsonAsync("/v1/jobs", new { graph = new { nodes = new[] { new { id = "x", type = "Nope" } }, edges = Array.Empty<object>() } });
        Assert.Equal(["graph.nodes[0].type"], (await invalid.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        await (await session.Client().PostAsJsonAsync("/v1/workflows/wf_missing/run", new { })).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task EventsStreamNodeAndJobTransitionsUntilTheJobEnds()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var jobId = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph("sleep=1000", scenes: 2) })).ReadJsonAsync(202)).GetProperty("id").GetString();

        // Each stock item runs 1 s, several of the stream's 250 ms polls, so its "running" state is always seen.
        using var response = await client.GetAsync($"/v1/jobs/{jobId}/events", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync(); // returns when the server ends the stream with the job
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => block.Split('\n').ToDictionary(l => l[..l.IndexOf(':')], l => l[(l.IndexOf(':') + 1)..].Trim()))
            .ToList();
        var last = JsonDocument.Parse(events[^1]["data"]).RootElement;
        Assert.Equal(("job", "completed"), (events[^1]["event"], last.GetProperty("status").GetString()));
        Assert.Contains(events, e => e["event"] == "node" && e["data"].Contains("\"node_id\":\"t\"") && e["data"].Contains("\"status\":\"succeeded\""));
        Assert.Contains(events, e => e["event"] == "node" && e["data"].Contains("\"node_id\":\"st\"") && e["data"].Contains("\"status\":\"running\""));
        var ids = events.Select(e => int.Parse(e["id"])).ToList();
        Assert.Equal(ids.Order(), ids);
    }
}
