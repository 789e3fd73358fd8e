using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;

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
    public const string BlobProvider = "azure";

    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public string? JobId { get; init; }
    public string? NodeId { get; init; }
    public required string Type { get; init; }
    public required string Source { get; init; }
    /// <summary>Where the bytes are: the Blob container (<see cref="BlobProvider"/>); rows from before it say "local" (a folder store since removed).</summary>
    public string StorageProvider { get; init; } = BlobProvider;
    public required string StorageKey { get; init; }
    public string? Filename { get; init; }
    public string? ContentType { get; init; }
    public long SizeBytes { get; set; }
    public decimal? DurationSeconds { get; set; }
    public int? Width { get; set; }
    public int? Height { get; set; }
    public decimal? Fps { get; set; }
    public string? Codec { get; set; }
    public JsonElement Metadata { get; set; }
    public string Status { get; set; } = "ready";
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? DeletedAt { get; private set; }

    public void Delete(DateTimeOffset now) => DeletedAt ??= now;

    /// <summary>An upload begun with <c>POST /v1/assets/init</c> whose bytes are not yet in and probed.</summary>
    public bool IsPendingUpload => Source == "upload" && Status == "processing";

    /// <summary>The pending upload's bytes are in: it takes their size and media facts and is ready for jobs.</summary>
    public void CompleteUpload(long size, MediaInfo? info, DateTimeOffset now)
    {
        if (!IsPendingUpload) throw new ConflictException("ASSET_NOT_UPLOADING", $"Asset {Id} is not an upload waiting to be completed.");
        Describe(size, info);
        Status = "ready";
        UpdatedAt = now;
    }

    /// <summary>Size and ffprobe's facts (rounded as the columns keep them).</summary>
    public void Describe(long size, MediaInfo? info)
    {
        SizeBytes = size;
        DurationSeconds = info?.DurationSeconds is { } duration ? (decimal)Math.Round(duration, 3) : null;
        Width = info?.Width;
        Height = info?.Height;
        Fps = info?.Fps is { } rate ? (decimal)Math.Round(rate, 2) : null;
        Codec = info?.VideoCodec ?? info?.AudioCodec;
    }
}
