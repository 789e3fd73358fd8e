using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using Npgsql;

namespace FentaWeb.Orchestrations.Activities;

public sealed record InputStockArgs(string Provider, string? Query, string Orientation, int Count, double MinDuration);

/// <summary>
/// Input.Stock from the local library (Pexels arrives with its client): fed a script, one clip per scene chosen by
/// the scene's search terms; otherwise <c>count</c> clips for the query. Each library clip becomes an org asset
/// once and is reused after that.
/// </summary>
public sealed class InputStockActivity(LocalStockLibrary library, AssetStore assets, NpgsqlDataSource db) : NodeActivity<InputStockArgs>
{
    public override string NodeType => "Input.Stock";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, InputStockArgs args, CancellationToken ct)
    {
        var clips = await library.EnsureAsync(ct);
        var scene = context.Item?.Deserialize<Scene>(FentaJson.Options);
        var terms = (scene?.SearchTerms ?? []).Concat(args.Query is { Length: > 0 } q ? [q] : []).ToList();
        // Vary picks across scenes: skip the clips the earlier scenes are likely to take.
        var picks = LocalStockLibrary.Search(clips, terms, args.Orientation, scene is null ? args.Count : context.ItemIndex + 1, args.MinDuration);
        if (scene is not null) picks = picks.Skip(Math.Min(context.ItemIndex, picks.Count - 1)).Take(1).ToList();
        if (picks.Count == 0)
            return new ActivityResult.Failed("STOCK_NO_MATCH", $"No stock clip of at least {args.MinDuration} s matches '{string.Join(", ", terms)}'.", Permanent: true);

        var media = new List<MediaItem>();
        foreach (var clip in picks) media.Add(await AssetForAsync(context, clip, ct));
        return ActivityResult.Done(media);
    }

    private async Task<MediaItem> AssetForAsync(ActivityContext context, StockClip clip, CancellationToken ct)
    {
        await using (var cmd = db.CreateCommand("""
            SELECT id, duration_seconds, width, height FROM assets
            WHERE org_id = $1 AND source = 'stock' AND metadata->>'stock_id' = $2 AND deleted_at IS NULL LIMIT 1
            """))
        {
            cmd.Parameters.Add(new() { Value = context.OrgId });
            cmd.Parameters.Add(new() { Value = $"local:{clip.File}" });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (await reader.ReadAsync(ct))
                return new MediaItem(reader.GetString(0), "video", (double)reader.GetDecimal(1), reader.GetInt32(2), reader.GetInt32(3), clip.Tags, "FentaWeb local stock");
        }
        var asset = await assets.AddFileAsync(new NewAsset(context.OrgId, "stock", "video/mp4", clip.File, context.JobId, context.NodeId,
            Metadata: new { stock_id = $"local:{clip.File}", provider = "local", tags = clip.Tags, attribution = "FentaWeb local stock" }),
            Path.Combine(library.Folder, clip.File), ct);
        return new MediaItem(asset.Id, "video", (double?)asset.DurationSeconds, asset.Width, asset.Height, clip.Tags, "FentaWeb local stock");
    }
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
            WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND type IN ('image', 'video')
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
            return new ActivityResult.Failed("ASSET_NOT_FOUND", $"No image or video asset {string.Join(", ", missing)} in this organization.", Permanent: true);
        return ActivityResult.Done(args.AssetIds.Select(id => found[id]).ToList());
    }
}
