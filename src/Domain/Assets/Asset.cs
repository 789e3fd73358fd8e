using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Assets;

public static class AssetTypes
{
    public static readonly IReadOnlyList<string> All = ["image", "video", "audio", "subtitles", "other"];

    /// <summary>The asset type a content type stands for.</summary>
    public static string FromContentType(string? contentType) => contentType switch
    {
        null => "other",
        var c when c.StartsWith("image/", StringComparison.Ordinal) => "image",
        var c when c.StartsWith("video/", StringComparison.Ordinal) => "video",
        var c when c.StartsWith("audio/", StringComparison.Ordinal) => "audio",
        "application/x-subrip" or "text/x-ssa" or "text/vtt" => "subtitles",
        _ => "other",
    };
}

public sealed class Asset : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? JobId { get; init; }
    public string? NodeId { get; init; }
    public required string Type { get; init; }
    public required string Source { get; init; }
    public string StorageProvider { get; init; } = "local";
    public required string StorageKey { get; init; }
    public string? Filename { get; init; }
    public string? ContentType { get; init; }
    public long SizeBytes { get; init; }
    public decimal? DurationSeconds { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public decimal? Fps { get; set; }
    public string? Codec { get; set; }
    public JsonElement Metadata { get; set; }
    public string Status { get; set; } = "ready";
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; private set; }

    public void Delete(DateTimeOffset now) => DeletedAt ??= now;
}
