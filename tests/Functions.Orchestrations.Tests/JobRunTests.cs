using System.Collections.Concurrent;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using FentaWeb.Integrations.Kie;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs;
using FentaWeb.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.DurableTask;
using RetryPolicy = FentaWeb.Domain.Workflows.RetryPolicy;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>
/// The orchestrator's logic alone, fast: JobRun on Durable Task's in-memory test host, with its activities replaced
/// by recording fakes (no database, no storage). Durability itself is tested on Azurite (RunTests, CrashTests).
/// </summary>
public class JobRunTests
{
    private static readonly RetryPolicy Quick = new(3, TimeSpan.FromMilliseconds(100), 2, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1));

    /// <summary>The fakes' shared record of what the orchestrator asked for, in order.</summary>
    private sealed class Calls
    {
        public ConcurrentQueue<string> Started { get; } = new();
        public ConcurrentQueue<string> Finished { get; } = new();
        public RunEnd? End { get; set; }
    }

    /// <summary>
    /// The test host on a free port. Left to itself it picks a random port in 30000–40000 without checking, which overlaps
    /// the ephemeral range the suite's own connections use (CI once failed on "address already in use").
    /// </summary>
    private static Task<DurableTaskTestHost> HostAsync(RunPlan plan, Calls calls, Func<NodeCall, Task<NodeOutcome>> runNode, int items = 0) =>
        LocalTools.StartOnFreePortsAsync(1, ports => DurableTaskTestHost.StartAsync(tasks => Register(tasks, plan, calls, runNode, items),
            new DurableTaskTestHostOptions { Port = ports[0] }));

    private static void Register(DurableTaskRegistry tasks, RunPlan plan, Calls calls, Func<NodeCall, Task<NodeOutcome>> runNode, int items)
    {
        tasks.AddOrchestrator<JobRun>();
        tasks.AddActivityFunc<string, RunPlan?>(nameof(LoadRun), (_, _) => plan);
        tasks.AddActivityFunc<NodeCall, NodeOutcome>(nameof(ExecuteNode), async (_, call) =>
        {
            calls.Started.Enqueue($"{call.NodeId}:{call.Item}:{call.Attempt}");
            var outcome = await runNode(call);
            calls.Finished.Enqueue($"{call.NodeId}:{call.Item}");
            return outcome;
        });
        tasks.AddActivityFunc<NodeCall, int>(nameof(ExpandNode), (_, _) => items);
        // KIE items: a task that only a callback completes (the poll is an hour), collected as a success.
        tasks.AddOrchestrator<KieItem>();
        tasks.AddActivityFunc<NodeCall, KieCreated>(nameof(KieCreate), (_, call) =>
        {
            calls.Started.Enqueue($"{call.NodeId}:{call.Item}:{call.Attempt}");
            return new KieCreated(new KieTask($"task-{call.Item}", DateTime.UtcNow, 86_400, 3_600), null);
        });
        tasks.AddActivityFunc<KieStep, KieChecked>(nameof(KieCheck), (_, _) => new KieChecked(KieState.Succeeded, ["https://kie.example/v.mp4"], 0, null));
        tasks.AddActivityFunc<KieStep, NodeOutcome>(nameof(KieCollect), (_, step) =>
        {
            calls.Finished.Enqueue($"{step.Call.NodeId}:{step.Call.Item}");
            return NodeOutcome.Success;
        });
        tasks.AddActivityFunc<NodeCall, bool>(nameof(FanIn), (_, call) =>
        {
            calls.Finished.Enqueue($"{call.NodeId}:fan-in");
            return true;
        });
        tasks.AddActivityFunc<RecordedOutcome, NodeOutcome>(nameof(RecordOutcome), (_, recorded) => recorded.Outcome);
        tasks.AddActivityFunc<RunEnd, bool>(nameof(FinishRun), (_, end) =>
        {
            calls.End = end;
            return true;
        });
    }

    private static RunStep Node(string id, params string[] after) => new(id, after, false, NodeRoute.Activity, Quick, false);

    [Fact]
    public async Task NodesStartWhenAllTheirPredecessorsAreDoneAndTheRunCompletes()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_1", [Node("a"), Node("b", "a"), Node("c", "a"), Node("d", "b", "c")]);
        await using var host = await HostAsync(plan, calls, async call =>
        {
            await Task.Delay(call.NodeId == "b" ? 300 : 10);
            return NodeOutcome.Success;
        });

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_1");
        var done = await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);

        Assert.Equal("\"completed\"", done.SerializedOutput);
        Assert.Equal(JobStatus.Completed, calls.End!.Status);
        var finished = calls.Finished.ToList();
        // b and c ran side by side after a; c (quick) finished before b (slow); d waited for both.
        Assert.Equal(["a:0", "c:0", "b:0", "d:0"], finished);
        Assert.Equal(4, calls.Started.Count);
    }

    [Fact]
    public async Task AFanOutRunsOneItemPerElementThenFansIn()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_2", [Node("s"), new RunStep("img", ["s"], true, NodeRoute.Activity, Quick, false), Node("t", "img")]);
        await using var host = await HostAsync(plan, calls, _ => Task.FromResult(NodeOutcome.Success), items: 5);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_2");
        await host.Client.WaitForInstanceCompletionAsync(id);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"img:{i}:1").Order(), calls.Started.Where(s => s.StartsWith("img")).Order());
        var finished = calls.Finished.ToList();
        Assert.True(finished.IndexOf("img:fan-in") > finished.FindLastIndex(f => f.StartsWith("img:") && f != "img:fan-in"));
        Assert.Equal("t:0", finished[^1]);
    }

    [Fact]
    public async Task FailedAttemptsAreRetriedUpToThePolicyThenTheRunFailsWithTheNodesError()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_3", [Node("a"), Node("b", "a")]);
        await using var host = await HostAsync(plan, calls, call => Task.FromResult(call.NodeId == "a"
            ? NodeOutcome.Failure(0, "FLAKY", $"attempt {call.Attempt}", permanent: call.Attempt == Quick.MaxAttempts)
            : NodeOutcome.Success));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_3");
        await host.Client.WaitForInstanceCompletionAsync(id);

        Assert.Equal(["a:0:1", "a:0:2", "a:0:3"], calls.Started.ToList());
        Assert.Equal((JobStatus.Failed, "a", "FLAKY"), (calls.End!.Status, calls.End.NodeId, calls.End.Failure!.Code));
    }

    [Fact]
    public async Task RetryLaterWaitsWithoutUsingAnAttemptAndPermanentFailuresAreNotRetried()
    {
        var calls = new Calls();
        var waits = 0;
        var plan = new RunPlan("job_4", [Node("a"), Node("b", "a")]);
        await using var host = await HostAsync(plan, calls, call => Task.FromResult(call.NodeId == "a"
            ? Interlocked.Increment(ref waits) <= 2 ? new NodeOutcome(OutcomeKind.RetryLater, RetryInSeconds: 0.2) : NodeOutcome.Success
            : NodeOutcome.Failure(0, "BAD_INPUT", "never works", permanent: true)));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_4");
        await host.Client.WaitForInstanceCompletionAsync(id);

        Assert.Equal(["a:0:1", "a:0:1", "a:0:1", "b:0:1"], calls.Started.ToList());
        Assert.Equal((JobStatus.Failed, "BAD_INPUT"), (calls.End!.Status, calls.End.Failure!.Code));
    }

    [Fact]
    public async Task ACancelEventEndsTheRunWithoutStartingWhatComesNext()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_5", [Node("a"), Node("b", "a")]);
        // "a" is still running when the cancel arrives (the in-memory host then needs its slot back to finish the run).
        await using var host = await HostAsync(plan, calls, async call =>
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            return NodeOutcome.Success;
        });

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_5");
        while (calls.Started.IsEmpty) await Task.Delay(20);
        await host.Client.RaiseEventAsync(id, RunNames.CancelEvent, "test");
        var done = await host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true);

        Assert.Equal("\"cancelled\"", done.SerializedOutput);
        Assert.Equal(JobStatus.Cancelled, calls.End!.Status);
        Assert.DoesNotContain(calls.Started, s => s.StartsWith("b:"));
    }

    [Fact]
    public async Task NodesAReusedRetryAlreadyHasAreNotRunAgain()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_6", [Node("a") with { Done = true }, Node("b", "a")]);
        await using var host = await HostAsync(plan, calls, _ => Task.FromResult(NodeOutcome.Success));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_6");
        await host.Client.WaitForInstanceCompletionAsync(id);

        Assert.Equal(["b:0:1"], calls.Started.ToList());
        Assert.Equal(JobStatus.Completed, calls.End!.Status);
    }

    [Fact]
    public async Task EachKieItemIsItsOwnOrchestrationWokenByItsCallbackAndTheConsumerWaitsForAll()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_7", [Node("gen") with { FansOut = true, Route = NodeRoute.Kie }, Node("t", "gen")]);
        await using var host = await HostAsync(plan, calls, _ => Task.FromResult(NodeOutcome.Success), items: 2);

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_7");
        while (calls.Started.Count < 2) await Task.Delay(20);
        await host.Client.RaiseEventAsync("job_7:gen:1", RunNames.KieCallbackEvent, "{}");
        while (calls.Finished.IsEmpty) await Task.Delay(20);
        Assert.Equal(["gen:1"], calls.Finished.ToList()); // item 0 still waits for its own callback
        Assert.Equal(OrchestrationRuntimeStatus.Running, (await host.Client.GetInstanceAsync("job_7:gen:0"))!.RuntimeStatus);

        await host.Client.RaiseEventAsync("job_7:gen:0", RunNames.KieCallbackEvent, "{}");
        await host.Client.WaitForInstanceCompletionAsync(id);

        Assert.Equal(["gen:1", "gen:0", "gen:fan-in", "t:0"], calls.Finished.ToList());
        Assert.Equal(JobStatus.Completed, calls.End!.Status);
        foreach (var item in new[] { "job_7:gen:0", "job_7:gen:1" })
            Assert.Equal(OrchestrationRuntimeStatus.Completed, (await host.Client.GetInstanceAsync(item))!.RuntimeStatus);
    }

    [Fact]
    public async Task ACancelledRunPassesTheCancelOnToItsWaitingGenerations()
    {
        var calls = new Calls();
        var plan = new RunPlan("job_8", [Node("gen") with { Route = NodeRoute.Kie }]);
        await using var host = await HostAsync(plan, calls, _ => Task.FromResult(NodeOutcome.Success));

        var id = await host.Client.ScheduleNewOrchestrationInstanceAsync(nameof(JobRun), "job_8");
        while (calls.Started.IsEmpty) await Task.Delay(20);
        await host.Client.RaiseEventAsync(id, RunNames.CancelEvent, "test");
        await host.Client.WaitForInstanceCompletionAsync(id);
        var generation = await host.Client.WaitForInstanceCompletionAsync("job_8:gen:0", getInputsAndOutputs: true);

        Assert.Equal(JobStatus.Cancelled, calls.End!.Status);
        Assert.Equal(OutcomeKind.Cancelled, generation.ReadOutputAs<NodeOutcome>()!.Kind);
        Assert.Empty(calls.Finished); // never collected
    }
}
