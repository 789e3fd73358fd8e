using System.Text.Json;
using FentaWeb.Domain.Audit;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;

namespace FentaWeb.Api.Hosting;

/// <summary>Adds an audit row to the same unit of work as the change it describes, so both commit or neither does.</summary>
public sealed class AuditTrail(FentaDb db, TimeProvider clock)
{
    public void Record(Caller caller, string action, string resourceType, string resourceId, object? changes = null)
    {
        db.AuditLogs.Add(new AuditLog
        {
            Id = Ids.New("audit"),
            OrgId = caller.OrgId,
            UserId = caller.UserId,
            ApiKeyId = caller.ApiKeyId,
            Action = action,
            ResourceType = resourceType,
            ResourceId = resourceId,
            IpAddress = caller.ClientAddress,
            UserAgent = caller.UserAgent,
            Changes = changes is null ? null : JsonSerializer.SerializeToElement(changes, FentaJson.Options),
            CreatedAt = clock.GetUtcNow(),
        });
    }
}
