using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;

namespace FentaWeb.Api.Jobs;

/// <summary>
/// The Server-Sent Events of <c>GET /v1/jobs/{id}/events</c>: polls the job a few times a second and sends what changed,
/// node transitions, then job progress, until it ends. Each poll reads with a context of its own scope, not the
/// function's: the stream is enumerated after the function has returned its result.
/// </summary>
internal static class JobEventStream
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    public static async IAsyncEnumerable<SseItem<JsonElement>> Of(IServiceScopeFactory scopes, Caller caller, string jobId,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var lastJob = "";
        var sequence = 0;
        while (!ct.IsCancellationRequested)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<FentaDb>();
            var job = await JobQueries.FindAsync(db, caller, jobId, ct);
            foreach (var node in await JobQueries.NodesAsync(db, jobId, ct))
            {
                var state = $"{node.Status}/{node.Attempt}/{node.Items?.Succeeded}/{node.Items?.Failed}";
                if (seen.GetValueOrDefault(node.NodeId) == state) continue;
                seen[node.NodeId] = state;
                yield return Item("node", new { job_id = jobId, node.NodeId, node.Type, node.Status, node.Attempt, node.Items, node.Error }, ++sequence);
            }
            var jobState = $"{job.Status}/{job.Progress}";
            if (jobState != lastJob)
            {
                lastJob = jobState;
                yield return Item("job", new { job.Id, job.Status, job.Progress, job.Error }, ++sequence);
            }
            if (job.IsFinished) yield break;
            await Task.Delay(PollInterval, ct);
        }
    }

    private static SseItem<JsonElement> Item(string type, object data, int sequence) =>
        new(JsonSerializer.SerializeToElement(data, FentaJson.Options), type) { EventId = sequence.ToString(System.Globalization.CultureInfo.InvariantCulture) };
}
