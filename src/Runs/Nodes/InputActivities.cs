using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Integrations.Pexels;
using FentaWeb.Runs.Assets;
using Npgsql;

namespace FentaWeb.Runs.Nodes;

public sealed record InputStockArgs(string Provider, string? Query, string Orientation, int Count, double MinDuration, IReadOnlyList<string>? StockIds);

/// <summary>
/// Input.Stock: Pexels when FENTA_PEXELS_API_KEY is set (and the node does not ask for "local"), else the local
/// library. Fed a script, one clip per scene chosen by the scene's search terms; otherwise <c>count</c> clips for
/// the query; or exactly the clips picked with stock search (<c>stock_ids</c>; scene i takes the i-th). A clip becomes an
/// org asset once (kept with its attribution) and is reused after that.
/// </summary>
public sealed class InputStockActivity(LocalStockLibrary library, AssetStore assets, NpgsqlDataSource db, PexelsClient? pexels = null)
    : NodeActivity<InputStockArgs>
{
    public override string NodeType => "Input.Stock";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, InputStockArgs args, CancellationToken ct)
    {
        var scene = context.Item?.Deserialize<Scene>(FentaJson.Options);
        if (args.StockIds is { Count: > 0 } ids)
            return ActivityResult.Done(await PickedAsync(context, scene is null ? ids : [ids[context.ItemIndex % ids.Count]], args, ct));
        var terms = (scene?.SearchTerms ?? []).Concat(args.Query is { Length: > 0 } q ? [q] : []).ToList();
        var wanted = scene is null ? args.Count : 1;
        var media = pexels is not null && args.Provider != "local"
            ? await FromPexelsAsync(context, pexels, terms, args, wanted, scene is null ? 0 : context.ItemIndex, ct)
            : await FromLibraryAsync(context, terms, args, wanted, scene is null ? 0 : context.ItemIndex, ct);
        return media.Count == 0
            ? new ActivityResult.Failed("STOCK_NO_MATCH", $"No stock clip of at least {args.MinDuration} s matches '{string.Join(", ", terms)}'.", Permanent: true)
            : ActivityResult.Done(media);
    }

    private async Task<List<MediaItem>> PickedAsync(ActivityContext context, IReadOnlyList<string> stockIds, InputStockArgs args, CancellationToken ct)
    {
        var media = new List<MediaItem>();
        foreach (var stockId in stockIds)
        {
            if (stockId.StartsWith("local:", StringComparison.Ordinal))
            {
                var clip = (await library.EnsureAsync(ct)).FirstOrDefault(c => $"local:{c.File}" == stockId)
                           ?? throw new ProviderException("STOCK_NOT_FOUND", $"The local stock library has no clip '{stockId}'.", permanent: true);
                media.Add(await LocalAssetAsync(context, clip, ct));
            }
            else
            {
                if (pexels is null) throw new ProviderException("PEXELS_NOT_CONFIGURED", $"'{stockId}' is a Pexels clip, and FENTA_PEXELS_API_KEY is not set.", permanent: true);
                var video = await pexels.GetVideoAsync(long.Parse(stockId["pexels:".Length..], System.Globalization.CultureInfo.InvariantCulture), ct);
                media.Add(await PexelsAssetAsync(context, pexels, video, args.Orientation, [], "picked", ct)
                          ?? throw new ProviderException("STOCK_NOT_FOUND", $"Pexels video {video.Id} has no MP4 file.", permanent: true));
            }
        }
        return media;
    }

    private async Task<MediaItem> LocalAssetAsync(ActivityContext context, StockClip clip, CancellationToken ct)
    {
        var stockId = $"local:{clip.File}";
        return await CachedAsync(context.OrgId, stockId, clip.Tags, ct) ?? Item(await assets.AddFileAsync(
            new NewAsset(context.OrgId, "stock", "video/mp4", clip.File, context.JobId, context.NodeId,
                Metadata: new { stock_id = stockId, provider = "local", tags = clip.Tags, attribution = "FentaWeb local stock" }),
            Path.Combine(library.Folder, clip.File), ct), clip.Tags);
    }

    private async Task<List<MediaItem>> FromLibraryAsync(ActivityContext context, List<string> terms, InputStockArgs args, int wanted, int skip, CancellationToken ct)
    {
        var clips = await library.EnsureAsync(ct);
        // Scenes of one script take different clips: scene i takes the i-th best.
        var picks = LocalStockLibrary.Search(clips, terms, args.Orientation, wanted + skip, args.MinDuration).Skip(skip).Take(wanted).ToList();
        if (picks.Count == 0 && skip > 0) picks = LocalStockLibrary.Search(clips, terms, args.Orientation, 1, args.MinDuration).ToList();
        var media = new List<MediaItem>();
        foreach (var clip in picks) media.Add(await LocalAssetAsync(context, clip, ct));
        return media;
    }

    /// <summary>Search, then a broader search (the first word) when nothing fits; download the best file of each pick.</summary>
    private async Task<List<MediaItem>> FromPexelsAsync(ActivityContext context, PexelsClient client, List<string> terms, InputStockArgs args,
        int wanted, int skip, CancellationToken ct)
    {
        var query = terms.Count == 0 ? "abstract background" : string.Join(" ", terms.Take(2));
        var videos = (await client.SearchAsync(query, args.Orientation, 15, ct)).Videos.Where(v => v.Duration >= args.MinDuration).ToList();
        if (videos.Count == 0 && query.Contains(' '))
        {
            query = query.Split(' ')[0];
            videos = (await client.SearchAsync(query, args.Orientation, 15, ct)).Videos.Where(v => v.Duration >= args.MinDuration).ToList();
        }
        if (videos.Count == 0) return [];
        var media = new List<MediaItem>();
        foreach (var video in Enumerable.Range(skip, wanted).Select(i => videos[i % videos.Count]))
            if (await PexelsAssetAsync(context, client, video, args.Orientation, query.Split(' '), query, ct) is { } item) media.Add(item);
        return media;
    }

    /// <summary>The video's best file for the orientation as an org asset (downloaded once per org), or null when it has no MP4.</summary>
    private async Task<MediaItem?> PexelsAssetAsync(ActivityContext context, PexelsClient client, PexelsVideo video, string orientation, IReadOnlyList<string> tags,
        string query, CancellationToken ct)
    {
        var (width, height) = orientation switch { "landscape" => (1920, 1080), "square" => (1080, 1080), _ => (1080, 1920) };
        var file = PexelsClient.BestFile(video, width, height);
        if (file is null) return null;
        var stockId = $"pexels:{video.Id}:{file.Id}";
        if (await CachedAsync(context.OrgId, stockId, tags, ct) is { } cached) return cached;
        var path = Path.Combine(Path.GetTempPath(), $"fenta-pexels-{Guid.NewGuid():N}.mp4");
        try
        {
            await client.DownloadAsync(file.Link, path, ct);
            var attribution = $"Video by {video.User?.Name ?? "unknown"} on Pexels";
            return Item(await assets.AddFileAsync(new NewAsset(context.OrgId, "stock", "video/mp4", $"pexels-{video.Id}.mp4", context.JobId, context.NodeId,
                Metadata: new { stock_id = stockId, provider = "pexels", source_url = video.Url, attribution, author_url = video.User?.Url, query }), path, ct),
                tags, attribution);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private async Task<MediaItem?> CachedAsync(string orgId, string stockId, IReadOnlyList<string> tags, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, duration_seconds, width, height, metadata->>'attribution' FROM assets
            WHERE org_id = $1 AND source = 'stock' AND metadata->>'stock_id' = $2 AND deleted_at IS NULL LIMIT 1
            """);
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = stockId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new MediaItem(reader.GetString(0), "video", reader.IsDBNull(1) ? null : (double)reader.GetDecimal(1),
                reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3), tags, reader.IsDBNull(4) ? null : reader.GetString(4))
            : null;
    }

    private static MediaItem Item(Asset asset, IReadOnlyList<string> tags, string? attribution = "FentaWeb local stock") =>
        new(asset.Id, "video", (double?)asset.DurationSeconds, asset.Width, asset.Height, tags, attribution);
}

public sealed record InputUploadArgs(IReadOnlyList<string> AssetIds);

/// <summary>Input.Upload: the org's own image and video assets, in the order given.</summary>
public sealed class InputUploadActivity(NpgsqlDataSource db) : NodeActivity<InputUploadArgs>
{
    public override string NodeType => "Input.Upload";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, InputUploadArgs args, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            SELECT id, type, duration_seconds, width, height FROM assets
            WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND status = 'ready' AND type IN ('image', 'video')
            """);
        cmd.Parameters.Add(new() { Value = context.OrgId });
        cmd.Parameters.Add(new() { Value = args.AssetIds.ToArray() });
        var found = new Dictionary<string, MediaItem>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct))
                found[reader.GetString(0)] = new MediaItem(reader.GetString(0), reader.GetString(1),
                    reader.IsDBNull(2) ? null : (double)reader.GetDecimal(2), reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : reader.GetInt32(4), []);
        var missing = args.AssetIds.Where(id => !found.ContainsKey(id)).ToList();
        if (missing.Count > 0)
            return new ActivityResult.Failed("ASSET_NOT_FOUND", $"No ready image or video asset {string.Join(", ", missing)} in this organization (a direct upload is ready once POST /v1/assets/complete succeeds).", Permanent: true);
        return ActivityResult.Done(args.AssetIds.Select(id => found[id]).ToList());
    }
}
