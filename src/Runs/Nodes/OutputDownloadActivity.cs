using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;
using Npgsql;

namespace FentaWeb.Runs.Nodes;

public sealed record OutputDownloadArgs(int ExpiresInSeconds, string? Filename);

/// <summary>
/// Output.Download: a time-limited, read-only link straight to the render's blob (a user delegation SAS), served as a
/// download under the node's file name; Blob Storage serves HTTP Range requests on it.
/// </summary>
public sealed class OutputDownloadActivity(NpgsqlDataSource db, AssetBlobs blobs) : NodeActivity<OutputDownloadArgs>
{
    public override string NodeType => "Output.Download";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, OutputDownloadArgs args, CancellationToken ct)
    {
        var video = context.Inputs["video"];
        var assetId = video.GetProperty("video_asset_id").GetString()!;
        await using var cmd = db.CreateCommand("SELECT storage_key, content_type FROM assets WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL");
        cmd.Parameters.Add(new() { Value = assetId });
        cmd.Parameters.Add(new() { Value = context.OrgId });
        string key;
        string? contentType;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            if (!await reader.ReadAsync(ct)) return new ActivityResult.Failed("ASSET_NOT_FOUND", $"The render {assetId} is gone.", Permanent: true);
            (key, contentType) = (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
        }
        var filename = args.Filename ?? "video.mp4";
        var link = await blobs.ReadLinkAsync(key, TimeSpan.FromSeconds(args.ExpiresInSeconds), contentType, filename, ct);
        return ActivityResult.Done(new { asset_id = assetId, url = link.Url.ToString(), expires_at = link.ExpiresAt, filename });
    }
}
