using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Persistence;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Jobs;

/// <summary>
/// The reads of a job the handlers and the event stream share. They take the context to read with: the stream reads
/// with one of its own per poll.
/// </summary>
internal static class JobQueries
{
    /// <summary>The caller's job; another org's job is simply not there, so it answers 404.</summary>
    public static async Task<Job> FindAsync(FentaDb db, Caller caller, string jobId, CancellationToken ct) =>
        await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == jobId && j.OrgId == caller.OrgId, ct) ?? throw new NotFoundException("job", jobId);

    /// <summary>One entry per node: its own row, plus counts of its items when it fanned out.</summary>
    public static async Task<List<NodeDto>> NodesAsync(FentaDb db, string jobId, CancellationToken ct)
    {
        var rows = await db.NodeRuns.AsNoTracking().Where(n => n.JobId == jobId && n.ItemIndex <= 0).ToListAsync(ct);
        var items = await db.NodeRuns.Where(n => n.JobId == jobId && n.ItemIndex >= 0)
            .GroupBy(n => n.NodeId)
            .Select(g => new
            {
                NodeId = g.Key,
                Total = g.Count(),
                Succeeded = g.Count(n => n.Status == "succeeded"),
                Failed = g.Count(n => n.Status == "failed"),
                Running = g.Count(n => n.Status == "running" || n.Status == "waiting"),
            })
            .ToDictionaryAsync(g => g.NodeId, ct);
        return rows.GroupBy(r => r.NodeId).Select(g => g.MinBy(r => r.ItemIndex)!)
            .Select(n => NodeDto.From(n, n.ItemIndex == -1 && items.TryGetValue(n.NodeId, out var c) ? new ItemCounts(c.Total, c.Succeeded, c.Failed, c.Running) : null))
            .OrderBy(n => n.StartedAt ?? DateTimeOffset.MaxValue).ThenBy(n => n.NodeId, StringComparer.Ordinal)
            .ToList();
    }
}
