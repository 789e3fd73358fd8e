using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Engine;
using Npgsql;

namespace FentaWeb.Orchestrations.Activities;

public sealed record OutputDownloadArgs(int ExpiresInSeconds, string? Filename);

/// <summary>Where the API is reachable and how its download links are signed (shared with the API).</summary>
public sealed record DownloadLinks(Uri PublicUrl, SignedUrls Urls);

/// <summary>Output.Download: a time-limited signed link to the render, valid on the API's /v1/files route.</summary>
public sealed class OutputDownloadActivity(NpgsqlDataSource db, DownloadLinks? links = null) : NodeActivity<OutputDownloadArgs>
{
    public override string NodeType => "Output.Download";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, OutputDownloadArgs args, CancellationToken ct)
    {
        if (links is null)
            return new ActivityResult.Failed("DOWNLOAD_NOT_CONFIGURED", "Set FENTA_URL_SIGNING_KEY (or FENTA_JWT_SIGNING_KEY) to the API's key to sign links.", Permanent: true);
        var video = context.Inputs["video"];
        var assetId = video.GetProperty("video_asset_id").GetString()!;
        await using var cmd = db.CreateCommand("SELECT storage_key FROM assets WHERE id = $1 AND org_id = $2 AND deleted_at IS NULL");
        cmd.Parameters.Add(new() { Value = assetId });
        cmd.Parameters.Add(new() { Value = context.OrgId });
        if (await cmd.ExecuteScalarAsync(ct) is not string key)
            return new ActivityResult.Failed("ASSET_NOT_FOUND", $"The render {assetId} is gone.", Permanent: true);
        var expires = DateTimeOffset.UtcNow.AddSeconds(args.ExpiresInSeconds);
        return ActivityResult.Done(new
        {
            asset_id = assetId,
            url = new Uri(links.PublicUrl, links.Urls.Sign(key, expires)).ToString(),
            expires_at = DateTimeOffset.FromUnixTimeSeconds(expires.ToUnixTimeSeconds()),
            filename = args.Filename ?? "video.mp4",
        });
    }
}
