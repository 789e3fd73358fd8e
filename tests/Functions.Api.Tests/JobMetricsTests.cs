using System.Net.Http.Json;
using FentaWeb.Testing;
using Microsoft.DurableTask.Client;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The job counters (issue 26): every job is counted as it starts and once as it ends (completed, failed or cancelled),
/// tagged with its workflow (<c>direct</c> for POST /v1/jobs) and the template it follows. Each test copies a template
/// of its own, so its jobs' measurements are told apart from the other test classes' by that tag.
/// </summary>
public class JobMetricsTests(JobTests.Host host) : IClassFixture<JobTests.Host>
{
    private static object Graph(string templateId, string stockQuery = "sleep=10") => new
    {
        nodes = new object[]
        {
            new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=2" } },
            new { id = "st", type = "Input.Stock", @params = new { query = stockQuery } },
            new { id = "t", type = "Edit.Timeline", @params = new { template_id = templateId } },
        },
        edges = new object[] { new { from = "s", to = "st" }, new { from = "st", to = "t" } },
    };

    private async Task<(HttpClient Client, string Template)> ClientWithATemplateAsync()
    {
        var client = (await host.RegisterAsync()).Client();
        var copy = await (await client.PostAsync("/v1/templates/tmpl_shorts_v1/copy", null)).ReadJsonAsync(201);
        return (client, copy.GetProperty("id").GetString()!);
    }

    private static async Task<string> StartAsync(Task<HttpResponseMessage> request) =>
        (await (await request).ReadJsonAsync(202)).GetProperty("id").GetString()!;

    private static List<(string? Workflow, string? Template)> Tags(Measurements measurements, string instrument, string template) =>
        [.. measurements.Of(instrument).Where(m => m.Tag("fenta.template") == template).Select(m => (m.Tag("fenta.workflow"), m.Tag("fenta.template")))];

    [Fact]
    public async Task AJobIsCountedAsItStartsAndAsItEndsByItsWorkflowAndTemplate()
    {
        using var measurements = new Measurements();
        var (client, template) = await ClientWithATemplateAsync();
        var workflowId = (await (await client.PostAsJsonAsync("/v1/workflows", new { name = "Counted", graph = Graph(template) })).ReadJsonAsync(201))
            .GetProperty("id").GetString()!;

        var completed = await StartAsync(client.PostAsJsonAsync($"/v1/workflows/{workflowId}/run", new { }));
        Assert.Equal("completed", (await client.JobEndedAsync(completed)).GetProperty("status").GetString());
        var failed = await StartAsync(client.PostAsJsonAsync("/v1/jobs", new { graph = Graph(template, "failperm") }));
        Assert.Equal("failed", (await client.JobEndedAsync(failed)).GetProperty("status").GetString());
        // The end is counted just after the job's status is written: wait for both runs' orchestrations to finish.
        foreach (var job in new[] { completed, failed }) await host.Runs.WaitForInstanceCompletionAsync(job);

        Assert.Equal([(workflowId, template), ("direct", template)], Tags(measurements, "fenta.jobs.started", template));
        Assert.Equal([(workflowId, template)], Tags(measurements, "fenta.jobs.completed", template));
        Assert.Equal([("direct", template)], Tags(measurements, "fenta.jobs.failed", template));
        Assert.Empty(Tags(measurements, "fenta.jobs.cancelled", template));
    }

    [Fact]
    public async Task ADirectRenderJobCancelledWhileRunningIsCountedOnceAsCancelledWithItsTemplate()
    {
        using var measurements = new Measurements();
        var (client, template) = await ClientWithATemplateAsync();
        var jobId = await StartAsync(client.PostAsJsonAsync("/v1/jobs", new
        {
            template_id = template,
            config = new
            {
                sources = new object[] { new { type = "stock", query = "city night" } },
                script = new { prompt = "block" }, // the script node runs until the job is cancelled
            },
        }));
        for (var i = 0; i < 200 && await host.CountAsync("SELECT count(*) FROM node_runs WHERE job_id = $1 AND node_id = 'script' AND status = 'running'", jobId) == 0; i++)
            await Task.Delay(50);

        await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
        await (await client.PostAsync($"/v1/jobs/{jobId}/cancel", null)).ReadJsonAsync(202);
        Assert.Equal("cancelled", (await client.JobEndedAsync(jobId)).GetProperty("status").GetString());
        // The run ends on the cancel event and finds the job cancelled already: that counts nothing more.
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Runs.WaitForInstanceCompletionAsync(jobId)).RuntimeStatus);

        Assert.Equal([("direct", template)], Tags(measurements, "fenta.jobs.started", template));
        Assert.Equal([("direct", template)], Tags(measurements, "fenta.jobs.cancelled", template));
        Assert.Empty(Tags(measurements, "fenta.jobs.completed", template).Concat(Tags(measurements, "fenta.jobs.failed", template)));
    }
}
