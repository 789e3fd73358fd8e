using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Fields the server sets that a client may still send back: a resource it fetched and edited, or a documented sample
/// body (seed 002's carry <c>id</c>, <c>is_public</c>, <c>thumbnail_url</c>). They are accepted and ignored, except that
/// an <c>id</c> sent to a resource's own path must be that resource's. Fields documented nowhere are still refused.
/// </summary>
public abstract record ReadOnlyFields
{
    public JsonElement? Id { get; init; }
    public JsonElement? OrgId { get; init; }
    public JsonElement? CreatedBy { get; init; }
    public JsonElement? CreatedAt { get; init; }
    public JsonElement? UpdatedAt { get; init; }

    /// <summary>An id in the body of a change to <paramref name="pathId"/> names that same resource.</summary>
    public void CheckId(string pathId, string resource)
    {
        if (Id is { ValueKind: not JsonValueKind.Null } id && (id.ValueKind != JsonValueKind.String || id.GetString() != pathId))
            throw new ValidationFailedException("id", $"is the {resource} in the path, {pathId}; it cannot be changed");
    }
}

/// <summary>A template's server-set fields (see <see cref="ReadOnlyFields"/>).</summary>
public abstract record TemplateReadOnlyFields : ReadOnlyFields
{
    public JsonElement? IsPublic { get; init; }
    public JsonElement? BuiltIn { get; init; }
    public JsonElement? ThumbnailUrl { get; init; }
    public JsonElement? UsageCount { get; init; }
}

/// <summary>A workflow's server-set fields (see <see cref="ReadOnlyFields"/>).</summary>
public abstract record WorkflowReadOnlyFields : ReadOnlyFields
{
    public JsonElement? Version { get; init; }
    public JsonElement? RunCount { get; init; }
    public JsonElement? LastRunAt { get; init; }
}
