using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;

namespace FentaWeb.Runs;

/// <summary>
/// Work a request hands over to finish after its answer: <see cref="JobStarter"/> schedules new jobs' runs here in the
/// API, so job creation waits for PostgreSQL only. A host that stops waits for what is still running (up to its shutdown
/// timeout), so a stopped API leaves no run it could have scheduled to <c>PausedJobs</c>' later pass.
/// </summary>
public sealed class RunStarts : IHostedService
{
    private readonly ConcurrentDictionary<Task, byte> _pending = new();

    /// <summary>Runs <paramref name="work"/> on the thread pool; it handles its own failures.</summary>
    public void Add(Func<Task> work)
    {
        var task = Task.Run(work);
        _pending.TryAdd(task, 0);
        task.ContinueWith(done => _pending.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(_pending.Keys).WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            // The host's shutdown timeout passed: what is left is owed to PausedJobs.
        }
    }
}
