using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Workflows;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace FentaWeb.Orchestrations.Engine;

/// <summary>
/// One worker process of the durable engine. Per queue, a dispatcher claims ready tasks (up to the queue's
/// concurrency) and runs their activities; a single completer writes finished tasks back in batches; a heartbeat
/// extends leases and notices cancelled jobs; a rescuer returns tasks of dead workers to the queue. LISTEN/NOTIFY
/// wakes dispatchers at once; a short poll covers timers and missed notifications. No transaction is open while an
/// activity runs.
/// </summary>
public sealed partial class EngineWorker(
    NpgsqlDataSource db,
    EngineOptions options,
    IEnumerable<INodeActivity> activities,
    ILogger<EngineWorker> logger) : BackgroundService
{
    // The last registration of a node type wins, so a host (or a test worker) can replace an activity.
    private readonly Dictionary<string, INodeActivity> _activities = activities.GroupBy(a => a.NodeType).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    private readonly Dictionary<string, Wakeup> _wakeups = options.Concurrency.Keys.ToDictionary(q => q, _ => new Wakeup());
    private readonly ConcurrentDictionary<string, int> _running = new();
    private readonly ConcurrentDictionary<long, Running> _tasks = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<JobPlan>>> _plans = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, string), JsonElement> _outputs = new();
    private readonly Channel<Completion> _completions = Channel.CreateUnbounded<Completion>(new UnboundedChannelOptions { SingleReader = true });

    private sealed record Running(ClaimedTask Task, CancellationTokenSource Cancel, string Queue)
    {
        public volatile string? StopReason;
    }

    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stopping)
    {
        _stopping = stopping;
        LogStarted(logger, options.WorkerId, string.Join(", ", options.Concurrency.Select(c => $"{c.Key}={c.Value}")),
            string.Join(", ", _activities.Keys.Order()));
        var completer = CompleteAsync();
        var loops = new List<Task> { ListenAsync(stopping), HeartbeatAsync(stopping), RescueAsync(stopping) };
        loops.AddRange(options.Concurrency.Where(q => q.Value > 0).Select(q => DispatchAsync(q.Key, q.Value, stopping)));
        await Task.WhenAll(loops);

        // Stopping: running activities were cancelled and hand their tasks back; write that before leaving.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!_tasks.IsEmpty && DateTime.UtcNow < deadline) await Task.Delay(20, CancellationToken.None);
        _completions.Writer.TryComplete();
        await completer;
    }

    private async Task DispatchAsync(string queue, int concurrency, CancellationToken stopping)
    {
        var wakeup = _wakeups[queue];
        while (!stopping.IsCancellationRequested)
        {
            var free = concurrency - _running.GetValueOrDefault(queue);
            var claimedAll = false;
            if (free > 0)
            {
                try
                {
                    var want = Math.Min(free, options.ClaimBatch);
                    var claimed = await TaskStore.ClaimAsync(db, queue, options.WorkerId, want, options.Lease, stopping);
                    foreach (var task in claimed)
                    {
                        _running.AddOrUpdate(queue, 1, (_, n) => n + 1);
                        Start(task, queue, stopping);
                    }
                    claimedAll = claimed.Count == want;
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException && !stopping.IsCancellationRequested)
                {
                    LogDatabaseError(logger, "claim", e);
                }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested)
                {
                    return;
                }
            }
            // More may be ready right away when the claim came back full and slots are left.
            if (claimedAll && concurrency - _running.GetValueOrDefault(queue) > 0) continue;
            await wakeup.WaitAsync(options.Poll, stopping);
        }
    }

    /// <summary>Runs a task whose slot is already counted in <see cref="_running"/>.</summary>
    private void Start(ClaimedTask task, string queue, CancellationToken stopping)
    {
        var running = new Running(task, CancellationTokenSource.CreateLinkedTokenSource(stopping), queue);
        _tasks[task.TaskId] = running;
        _ = Task.Run(() => RunAsync(running, stopping), CancellationToken.None);
    }

    /// <summary>Takes up to <paramref name="wanted"/> free slots of a queue (a negative number gives slots back).</summary>
    private int Reserve(string queue, int wanted)
    {
        if (wanted <= 0)
        {
            if (wanted < 0)
            {
                _running.AddOrUpdate(queue, 0, (_, n) => n + wanted);
                if (_wakeups.TryGetValue(queue, out var wakeup)) wakeup.Set();
            }
            return 0;
        }
        if (_stopping.IsCancellationRequested || !options.Concurrency.TryGetValue(queue, out var limit)) return 0;
        var granted = 0;
        _running.AddOrUpdate(queue, _ => granted = Math.Min(wanted, limit), (_, n) => n + (granted = Math.Clamp(limit - n, 0, wanted)));
        return granted;
    }

    private async Task RunAsync(Running running, CancellationToken stopping)
    {
        Completion? completion;
        try
        {
            completion = await ExecuteAsync(running, stopping);
        }
        catch (Exception e)
        {
            // Only bugs of the engine itself land here; the task's lease expires and it is rescued.
            LogEngineError(logger, running.Task.JobId, running.Task.NodeId, e);
            completion = null;
        }
        if (completion is null)
        {
            Release(running);
            return;
        }
        if (!_completions.Writer.TryWrite(completion)) Release(running);
    }

    private async Task<Completion?> ExecuteAsync(Running running, CancellationToken stopping)
    {
        var task = running.Task;
        if (task.JobStatus is "cancelled" or "failed") return new Completion.Cancelled(task);
        if (task.NodeStatus is "succeeded" or "failed" or "cancelled") return new Completion.Discard(task);

        var plan = await PlanAsync(task.JobId, stopping);
        var node = plan.Nodes[task.NodeId];
        if (node.FansOut && task.ItemIndex == -1)
        {
            var fanOut = (await InputsAsync(task.JobId, node, stopping))[node.Definition.FanOutPort!];
            return new Completion.Expanded(task, JobPlan.FanOutItems(fanOut));
        }

        var policy = node.Retry;
        if (task.NodeAttempt > policy.MaxAttempts)
            return new Completion.Failure(task, "ATTEMPTS_EXHAUSTED",
                $"{task.NodeId} was started {task.NodeAttempt} times; workers stopped responding while running it (limit {policy.MaxAttempts}).");
        if (!_activities.TryGetValue(node.Definition.Type, out var activity))
            return new Completion.Failure(task, "NODE_NOT_AVAILABLE", $"No worker can run {node.Definition.Type} nodes yet.");

        var context = new ActivityContext(
            task.JobId, task.OrgId, task.NodeId, task.NodeType, Math.Max(task.ItemIndex, 0), task.NodeAttempt, node.Params,
            await InputsAsync(task.JobId, node, stopping), task.Input, task.ExternalRef, task.Event,
            (externalRef, ct) => TaskStore.RecordExternalRefAsync(db, task, options.WorkerId, externalRef, ct),
            (level, message, data, ct) => LogToJobAsync(task.JobId, task.NodeId, level, message, data, ct),
            (fraction, ct) => TaskStore.ReportNodeProgressAsync(db, task.JobId, fraction, ct));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(running.Cancel.Token);
        timeout.CancelAfter(policy.Timeout);
        ActivityResult result;
        try
        {
            result = await activity.ExecuteAsync(context, timeout.Token);
        }
        catch (LeaseLostException)
        {
            return null;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            if (running.StopReason == "job-ended") return new Completion.Cancelled(task);
            if (running.StopReason == "lease-lost") return null;
            // Shutting down: hand the task back at once, without using up an attempt.
            if (stopping.IsCancellationRequested) return new Completion.Reschedule(task, TimeSpan.Zero, false, null, "worker stopping");
            result = new ActivityResult.Failed("TIMEOUT", $"{task.NodeType} did not finish within {policy.Timeout.TotalSeconds:0} s.");
        }
        catch (ProviderException e)
        {
            result = e.ToResult();
        }
        catch (Exception e)
        {
            result = new ActivityResult.Failed("ACTIVITY_ERROR", e.Message);
        }

        return result switch
        {
            ActivityResult.Succeeded s => new Completion.Success(task, s.Output, s.CostUsd),
            ActivityResult.RetryLater r => new Completion.Reschedule(task, r.Delay, false, null, r.Reason),
            ActivityResult.Failed { Permanent: true } f => new Completion.Failure(task, f.Code, f.Message),
            ActivityResult.Failed f when task.NodeAttempt < policy.MaxAttempts =>
                new Completion.Reschedule(task, Backoff(policy, task.NodeAttempt), true, f.Code, f.Message),
            ActivityResult.Failed f => new Completion.Failure(task, f.Code, $"{f.Message} (after {task.NodeAttempt} attempts)"),
            _ => throw new InvalidOperationException($"Unknown activity result {result}"),
        };
    }

    /// <summary>first × coefficient^(attempt-1), capped, with ±10 % jitter so retries of many items spread out.</summary>
    public static TimeSpan Backoff(RetryPolicy policy, int attempt)
    {
        var seconds = Math.Min(policy.MaxInterval.TotalSeconds, policy.FirstInterval.TotalSeconds * Math.Pow(policy.BackoffCoefficient, attempt - 1));
        return TimeSpan.FromSeconds(seconds * (0.9 + Random.Shared.NextDouble() * 0.2));
    }

    /// <summary>Writes completions back, as many per transaction as have piled up (group commit).</summary>
    private async Task CompleteAsync()
    {
        var reader = _completions.Reader;
        var batch = new List<Completion>(options.CompletionBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < options.CompletionBatch && reader.TryRead(out var next)) batch.Add(next);
            IReadOnlyList<ClaimedTask> continuations = [];
            try
            {
                continuations = await Completer.ApplyAsync(db, options.WorkerId, options.Lease, batch, PlanAsync, Reserve, CancellationToken.None);
                // Outputs are immutable once committed: successors on this worker need not read them back.
                foreach (var success in batch.OfType<Completion.Success>())
                    if (!(await PlanAsync(success.Task.JobId, CancellationToken.None)).Nodes[success.Task.NodeId].FansOut)
                        _outputs[(success.Task.JobId, success.Task.NodeId)] = success.Output;
            }
            catch (Exception e)
            {
                // The leases run out and the rescuer hands these tasks to a worker again.
                LogDatabaseError(logger, "complete", e);
            }
            foreach (var completion in batch)
            {
                if (_tasks.TryGetValue(completion.Task.TaskId, out var running)) Release(running);
            }
            // Successors leased to this worker in the same transaction: run them now, no claim round trip.
            foreach (var task in continuations)
                Start(task, (await PlanAsync(task.JobId, CancellationToken.None)).Nodes[task.NodeId].Definition.Queue, _stopping);
            batch.Clear();
        }
    }

    private void Release(Running running)
    {
        if (!_tasks.TryRemove(running.Task.TaskId, out _)) return;
        running.Cancel.Dispose();
        _running.AddOrUpdate(running.Queue, 0, (_, n) => n - 1);
        _wakeups[running.Queue].Set();
    }

    private async Task HeartbeatAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.Heartbeat);
        while (await Tick(timer, stopping))
        {
            var running = _tasks.Values.ToList();
            if (running.Count == 0) continue;
            try
            {
                var held = await TaskStore.HeartbeatAsync(db, options.WorkerId, running.Select(r => r.Task.TaskId).ToArray(), options.Lease, stopping);
                var ended = await TaskStore.EndedJobsAsync(db, running.Select(r => r.Task.JobId).Distinct().ToArray(), stopping);
                foreach (var r in running)
                {
                    var reason = !held.Contains(r.Task.TaskId) && _tasks.ContainsKey(r.Task.TaskId) ? "lease-lost"
                        : ended.Contains(r.Task.JobId) ? "job-ended" : null;
                    if (reason is null || r.StopReason is not null) continue;
                    r.StopReason = reason;
                    try { await r.Cancel.CancelAsync(); } catch (ObjectDisposedException) { }
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogDatabaseError(logger, "heartbeat", e);
            }
        }
    }

    private async Task RescueAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(options.RescueEvery);
        var lastPrune = DateTime.MinValue;
        while (await Tick(timer, stopping))
        {
            try
            {
                var rescued = await TaskStore.RescueExpiredAsync(db, stopping);
                if (rescued > 0) LogRescued(logger, rescued);
                if (DateTime.UtcNow - lastPrune > TimeSpan.FromHours(1))
                {
                    lastPrune = DateTime.UtcNow;
                    var pruned = await TaskStore.PruneAsync(db, options.Retention, stopping);
                    if (pruned > 0) LogPruned(logger, pruned, options.Retention.TotalDays);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogDatabaseError(logger, "rescue", e);
            }
        }
    }

    /// <summary>LISTEN for "work is ready on queue X"; a hint only, so a lost connection just means polling for a while.</summary>
    private async Task ListenAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stopping);
                conn.Notification += (_, e) =>
                {
                    if (_wakeups.TryGetValue(e.Payload, out var wakeup)) wakeup.Set();
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {JobStarter.NotifyChannel}", conn)) await listen.ExecuteNonQueryAsync(stopping);
                while (!stopping.IsCancellationRequested) await conn.WaitAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.IO.IOException)
            {
                LogDatabaseError(logger, "listen", e);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private Task<JobPlan> PlanAsync(string jobId, CancellationToken ct)
    {
        if (_plans.Count > 2000) _plans.Clear();
        return _plans.GetOrAdd(jobId, id => new Lazy<Task<JobPlan>>(async () =>
            JobPlan.Compile((await TaskStore.ConfigAsync(db, id, CancellationToken.None)).Graph))).Value;
    }

    /// <summary>Input port → value, from the predecessors' outputs (immutable once written, so cached).</summary>
    private async Task<Dictionary<string, JsonElement>> InputsAsync(string jobId, PlanNode node, CancellationToken ct)
    {
        var missing = node.Predecessors.Where(p => !_outputs.ContainsKey((jobId, p))).ToArray();
        if (missing.Length > 0)
        {
            if (_outputs.Count > 20_000) _outputs.Clear();
            foreach (var (nodeId, output) in await TaskStore.OutputsAsync(db, jobId, missing, ct)) _outputs[(jobId, nodeId)] = output;
        }
        return node.InputEdges.GroupBy(e => e.ToPort).ToDictionary(
            port => port.Key,
            port => JobPlan.Combine(port.Select(e => _outputs.TryGetValue((jobId, e.From), out var v) ? v : default).ToList()));
    }

    private async Task LogToJobAsync(string jobId, string nodeId, string level, string message, object? data, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await TaskStore.LogAsync(conn, null, jobId, level, nodeId, message, data, ct);
    }

    private static async Task<bool> Tick(PeriodicTimer timer, CancellationToken stopping)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stopping);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>An auto-reset signal: Set wakes one waiter (or the next one), WaitAsync also returns after a timeout.</summary>
    private sealed class Wakeup
    {
        private readonly SemaphoreSlim _signal = new(0, 1);

        public void Set()
        {
            try { _signal.Release(); } catch (SemaphoreFullException) { }
        }

        public async Task WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            try { await _signal.WaitAsync(timeout, ct); } catch (OperationCanceledException) { }
        }
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Worker {WorkerId} started; queues {Queues}; activities: {Activities}")]
    private static partial void LogStarted(ILogger logger, string workerId, string queues, string activities);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Database error during {Step}; will retry")]
    private static partial void LogDatabaseError(ILogger logger, string step, Exception exception);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Engine error running {JobId}/{NodeId}; the task will be rescued")]
    private static partial void LogEngineError(ILogger logger, string jobId, string nodeId, Exception exception);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Returned {Count} tasks with expired leases to the queue")]
    private static partial void LogRescued(ILogger logger, int count);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Pruned {Count} finished jobs older than {Days} days")]
    private static partial void LogPruned(ILogger logger, int count, double days);
}
