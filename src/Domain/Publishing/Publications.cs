using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Publishing;

/// <summary>The platforms a video can be published to, by the names routes, rows and settings use.</summary>
public static class Platforms
{
    public const string YouTube = "youtube";
    public const string TikTok = "tiktok";
    public const string Instagram = "instagram";
    public static readonly IReadOnlyList<string> All = [YouTube, TikTok, Instagram];
}

/// <summary>A connected account on a publishing platform (seed 002's integrations). Its tokens are never read here: only the publishing code unprotects them.</summary>
public sealed class Integration : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? CreatedBy { get; init; }
    public required string Platform { get; init; }
    public required string Status { get; set; }
    public string? StatusReason { get; set; }
    public required string AccountId { get; init; }
    public required string AccountName { get; set; }
    public string? AccountHandle { get; set; }
    public string? AvatarUrl { get; set; }
    public string[] Scopes { get; set; } = [];
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>A request to publish a job's video to one or more accounts.</summary>
public sealed class Publication : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    /// <summary>Null once retention forgot the job; the publication and its analytics stay.</summary>
    public string? JobId { get; init; }
    public string? NodeId { get; init; }
    public required string AssetId { get; init; }
    public string? CreatedBy { get; init; }
    public required string Status { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public List<PublicationTarget> Targets { get; init; } = [];
}

/// <summary>One account a publication posts to, and how far it got.</summary>
public sealed class PublicationTarget : IHasId
{
    public required string Id { get; init; }
    public required string PublicationId { get; init; }
    public required string OrgId { get; init; }
    public string? JobId { get; init; }
    public required string IntegrationId { get; init; }
    public required string Platform { get; init; }
    public JsonElement Request { get; init; }
    public required string Status { get; set; }
    public string? Phase { get; set; }
    public string? PlatformVideoId { get; set; }
    public string? Url { get; set; }
    public JsonElement? Error { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? NextAttemptAt { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public Integration? Integration { get; init; }
}
