using FentaWeb.Integrations.Blob;
using Npgsql;
using NpgsqlTypes;

namespace FentaWeb.Runs.Assets;

/// <summary>
/// The retention side of direct uploads (<see cref="AssetUploads"/>): uploads begun and never completed are given up,
/// and the staging blobs that no pending upload needs are deleted once no upload link can write there again.
/// </summary>
public sealed class UploadCleanup(NpgsqlDataSource db, AssetBlobs blobs)
{
    /// <summary>How long an upload link lasts (FENTA_UPLOAD_LINK_SECONDS): no upload is given up before its link expires.</summary>
    public TimeSpan UploadLinkLifetime => blobs.Options.UploadLinkLifetime;

    /// <summary>
    /// Direct uploads begun before <paramref name="cutoff"/> and never completed are given up: their rows are deleted
    /// (their declared size no longer counts against storage); <see cref="SweepStagingAsync"/> then takes their files.
    /// </summary>
    public async Task<int> AbandonUploadsBeforeAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE assets SET status = 'failed', deleted_at = now(), updated_at = now()
            WHERE source = 'upload' AND status = 'processing' AND deleted_at IS NULL AND created_at < $1
            """);
        cmd.Parameters.Add(new() { Value = cutoff, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// Margin on an upload link's lifetime: its expiry is stamped by this machine's clock and checked, like a blob's
    /// last write, by the storage service's.
    /// </summary>
    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Deletes the staging blobs that belong to no live pending upload — a completed or deleted upload's seal, a file put
    /// before its upload was given up, anything else under the prefix — once no link can write there again: a link
    /// expires within its lifetime of being issued, and so of anything written through it or sealed after it (a seal
    /// also carries its link's expiry, in case the app that sealed it gives links a longer life than this one).
    /// </summary>
    public async Task<int> SweepStagingAsync(DateTimeOffset now, CancellationToken ct)
    {
        var names = await blobs.StagedBeforeAsync(now - blobs.Options.UploadLinkLifetime - ClockSkew, ct);
        if (names.Count == 0) return 0;
        // Staging names are staging/<org>/<asset id><ext>: look the assets up by id, then match the whole key.
        await using var cmd = db.CreateCommand("""
            SELECT storage_key FROM assets WHERE id = ANY($1) AND source = 'upload' AND status = 'processing' AND deleted_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = names.Select(n => Path.GetFileNameWithoutExtension(n)).Distinct().ToArray() });
        var pending = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
            while (await reader.ReadAsync(ct)) pending.Add(AssetBlobs.StagingPrefix + reader.GetString(0));
        var swept = 0;
        foreach (var name in names.Where(n => !pending.Contains(n)))
        {
            await blobs.DeleteAsync(name, ct);
            swept++;
        }
        return swept;
    }
}
