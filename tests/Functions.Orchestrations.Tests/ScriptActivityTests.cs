using System.Text.Json;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>Script.Generate through the engine with the real activity: offline writer, and the LLM client via the simulator.</summary>
public class ScriptActivityTests(ScriptActivityTests.Host host) : IClassFixture<ScriptActivityTests.Host>
{
    public sealed class Host : EngineHost
    {
        protected override bool StartsWorker => false;
    }

    private const string Graph = """
        {"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "night markets of Taipei", "genre": "story", "duration_seconds": 20}}], "edges": []}
        """;

    [Fact]
    public async Task OfflineWriterProducesTheScriptWithoutKeys()
    {
        using var worker = WorkerHost.Build([], EngineHost.WorkerSettings(host.ConnectionString));
        await worker.StartAsync();
        var job = await host.StartJobAsync(Graph);
        Assert.Equal("completed", await host.WaitForJobAsync(job));
        var script = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", job);
        Assert.Equal("template", script.GetProperty("source").GetString());
        Assert.Contains("night markets of taipei", script.GetProperty("scenes")[0].GetProperty("narration").GetString()!.ToLowerInvariant());
        await worker.StopAsync();
    }

    [Fact]
    public async Task LlmWriterIsUsedWhenConfiguredAndRateLimitsOnlyDelayIt()
    {
        await using var llm = new OpenAiSimulator();
        await llm.StartAsync();
        llm.EnqueueError(429, """{"error": {"message": "rate limited"}}""", retryAfterSeconds: 1);
        var settings = EngineHost.WorkerSettings(host.ConnectionString);
        settings["FENTA_LLM_BASE_URL"] = llm.ApiBase.ToString();
        settings["FENTA_LLM_API_KEY"] = OpenAiSimulator.ValidKey;
        settings["FENTA_LLM_MODEL"] = "sim-model";
        using var worker = WorkerHost.Build([], settings);
        await worker.StartAsync();

        var job = await host.StartJobAsync(Graph);
        Assert.Equal("completed", await host.WaitForJobAsync(job, TimeSpan.FromSeconds(20)));
        var script = await host.JsonAsync("SELECT output::text FROM node_runs WHERE job_id = $1", job);
        Assert.Equal(("llm:sim-model", "Rivers of Light"), (script.GetProperty("source").GetString(), script.GetProperty("title").GetString()));
        Assert.Equal(2, llm.Requests.Count);
        Assert.Equal(1, (int)(await host.ScalarAsync("SELECT attempt FROM node_runs WHERE job_id = $1", job))!);
        await worker.StopAsync();
    }
}
