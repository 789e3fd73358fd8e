namespace FentaWeb.Domain.Media;

/// <summary>One element of a Media port: an image or clip asset, with what the timeline needs to place it.</summary>
public sealed record MediaItem(
    string AssetId,
    string Type,
    double? DurationSeconds,
    int? Width,
    int? Height,
    IReadOnlyList<string> Tags,
    string? Attribution = null);
