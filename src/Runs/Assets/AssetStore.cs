using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Blob;
using Npgsql;

namespace FentaWeb.Runs.Assets;

/// <summary>
/// Turns a file at hand into a ready asset of an org: stores the bytes in the Blob container, reads media facts with
/// ffprobe and inserts the row. Used by node activities (everything a job produces) and the API's samples, so every file
/// is an asset; and it hands activities local copies of assets (through the bounded cache of <see cref="AssetBlobs"/>).
/// Direct uploads go through <see cref="AssetUploads"/>.
/// </summary>
public sealed class AssetStore(NpgsqlDataSource db, AssetBlobs blobs)
{
    public AssetBlobs Blobs => blobs;

    public async Task<Asset> AddAsync(NewAsset asset, Stream content, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-asset-{Guid.NewGuid():N}{AssetRows.Extension(asset)}");
        try
        {
            await using (var file = File.Create(path)) await content.CopyToAsync(file, ct);
            return await AddFileAsync(asset, path, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A local file becomes a ready asset: probed here (before anything is stored), then uploaded.</summary>
    public async Task<Asset> AddFileAsync(NewAsset asset, string path, CancellationToken ct)
    {
        var row = AssetRows.New(asset, "ready");
        var info = await ProbeAsync(row, path, ct);
        await blobs.UploadFileAsync(row.StorageKey, path, row.ContentType, ct);
        row.Describe(new FileInfo(path).Length, info);
        await AssetRows.InsertAsync(db, row, ct);
        return row;
    }

    /// <summary>ffprobe's facts of an image, video or audio file before it is stored (null for other types).</summary>
    private static async Task<MediaInfo?> ProbeAsync(Asset asset, string path, CancellationToken ct)
    {
        if (asset.Type is not ("image" or "video" or "audio")) return null;
        try
        {
            return await FfProbe.ProbeAsync(path, ct);
        }
        catch (MediaException) when (asset.Source == "upload")
        {
            throw new ValidationFailedException("file", $"is not a readable {asset.Type} file");
        }
    }

    /// <summary>
    /// Local copies of an org's ready assets, by id, for tools that read files (ids of other orgs, deleted assets and
    /// unfinished uploads are left out). The copies stay on disk until the result is disposed.
    /// </summary>
    public async Task<LocalFiles> LocalFilesAsync(string orgId, IEnumerable<string> assetIds, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT id, storage_key FROM assets WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL AND status = 'ready'");
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = assetIds.Distinct().ToArray() });
        var keys = new List<(string Id, string Key)>();
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) keys.Add((reader.GetString(0), reader.GetString(1)));
        var files = new Dictionary<string, CachedFile>();
        try
        {
            foreach (var (id, key) in keys) files[id] = await blobs.LocalCopyAsync(key, ct);
        }
        catch
        {
            foreach (var file in files.Values) file.Dispose();
            throw;
        }
        return new LocalFiles(files);
    }
}
