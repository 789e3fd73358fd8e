using System.Text.Json;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Scheduling;
using FentaWeb.Domain.Workflows;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Schedules;

public static class WorkflowSchedules
{
    /// <summary>
    /// A workflow's Schedule.Cron node is a schedule: saving the workflow creates, retimes or removes the one it implies
    /// (enabled state and variables set through /v1/schedules are kept).
    /// </summary>
    public static async Task SyncAsync(FentaDb db, Workflow workflow, string? userId, DateTimeOffset now, CancellationToken ct)
    {
        var node = workflow.Graph.Nodes.FirstOrDefault(n => n.Type == "Schedule.Cron");
        var existing = await db.Schedules.SingleOrDefaultAsync(s => s.WorkflowId == workflow.Id && s.Source == "node", ct);
        if (node is null)
        {
            if (existing is not null) db.Schedules.Remove(existing);
            return;
        }
        var cron = node.Params!["cron"].GetString()!.Trim();
        var timezone = node.Params.TryGetValue("timezone", out var tz) && tz.GetString() is { Length: > 0 } zone ? zone : "UTC";
        if (existing is null)
            db.Schedules.Add(Schedule.Create(workflow.OrgId, workflow.Id, $"{workflow.Name} ({node.Id})", cron, timezone, JsonDocument.Parse("{}").RootElement,
                enabled: true, userId, now, source: "node"));
        else if (existing.Cron != cron || existing.Timezone != timezone) existing.Retime(cron, timezone, now);
    }
}
