using FentaWeb.Domain.Common;
using System.Net;
using System.Text.Json;

namespace FentaWeb.Domain.Audit;

public sealed class AuditLog : IHasId
{
    public required string Id { get; init; }
    public string? OrgId { get; init; }
    public string? UserId { get; init; }
    public string? ApiKeyId { get; init; }
    /// <summary><c>create</c>, <c>update</c> or <c>delete</c>.</summary>
    public required string Action { get; init; }
    public required string ResourceType { get; init; }
    public string? ResourceId { get; init; }
    public IPAddress? IpAddress { get; init; }
    public string? UserAgent { get; init; }
    public JsonElement? Changes { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
}
