using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Pexels;

namespace FentaWeb.Runs.Nodes;

/// <summary>One stock clip a search found, before anything is downloaded.</summary>
public sealed record StockHit(string StockId, string Provider, double DurationSeconds, int Width, int Height, IReadOnlyList<string> Tags,
    string? PreviewUrl, string? SourceUrl, string Attribution);

/// <summary>
/// Browsing the stock Input.Stock draws from: Pexels when a key is configured, else the local library; the same
/// orientation and minimum-duration rules as the node, so what a search shows is what a workflow would get.
/// </summary>
public sealed class StockSearch(LocalStockLibrary library, PexelsClient? pexels = null)
{
    public string Provider => pexels is null ? "local" : "pexels";

    public async Task<IReadOnlyList<StockHit>> SearchAsync(string query, string orientation, double minDuration, int count, CancellationToken ct)
    {
        if (pexels is null)
        {
            var clips = await library.EnsureAsync(ct);
            return [.. LocalStockLibrary.Search(clips, [query], orientation, count, minDuration)
                .Select(c => new StockHit($"local:{c.File}", "local", c.DurationSeconds, c.Width, c.Height, c.Tags, null, null, "FentaWeb local stock"))];
        }
        var page = await pexels.SearchAsync(query, orientation, count, ct);
        return [.. page.Videos.Where(v => v.Duration >= minDuration).Take(count)
            .Select(v => new StockHit($"pexels:{v.Id}", "pexels", v.Duration, v.Width, v.Height, query.Split(' ', StringSplitOptions.RemoveEmptyEntries),
                v.Image, v.Url, $"Video by {v.User?.Name ?? "unknown"} on Pexels"))];
    }
}
