using System.Collections;

namespace FentaWeb.Integrations.Blob;

/// <summary>
/// Local copies of blobs for tools that read files (ffmpeg, ffprobe), kept in one folder of bounded size: once a new
/// copy takes the folder past its limit, the least recently used copies are deleted until it fits again.
/// A copy in use is never deleted. Its users hold it open with <see cref="FileShare.Read"/>, which .NET on Linux turns
/// into a shared advisory lock (flock), and eviction first takes a file's exclusive lock without waiting: whatever any
/// caller still holds — in this process or in another one sharing the folder — is skipped. Asset blobs never change
/// once written, so a copy never goes stale; a copy is only ever replaced whole (written aside, then renamed).
/// </summary>
public sealed class BlobFileCache(string folder, long limitBytes)
{
    /// <summary>A download that a crashed process left half done is removed after this.</summary>
    private static readonly TimeSpan AbandonedDownloadAge = TimeSpan.FromHours(6);
    private const string PartialSuffix = ".partial";

    public string Folder { get; } = Path.GetFullPath(folder);

    public long LimitBytes => limitBytes;

    /// <summary>
    /// The local copy of <paramref name="key"/>, fetched with <paramref name="download"/> (which writes the file at the
    /// path it is given) when there is none. The copy stays on disk at least until the returned handle is disposed.
    /// </summary>
    public async Task<CachedFile> GetAsync(string key, Func<string, CancellationToken, Task> download, CancellationToken ct)
    {
        var path = PathOf(key);
        if (TryPin(path) is { } cached) return cached;
        for (var attempt = 1; ; attempt++)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var partial = $"{path}.{Guid.NewGuid():N}{PartialSuffix}";
            try
            {
                await download(partial, ct);
                File.Move(partial, path, overwrite: true);
            }
            finally
            {
                File.Delete(partial);
            }
            // Pinned before evicting, so the eviction this download may trigger cannot take the new copy itself.
            if (TryPin(path) is { } fresh)
            {
                Evict();
                return fresh;
            }
            // Another process evicted it between the rename and the pin: a full cache under heavy churn. Try again, briefly.
            if (attempt == 3) throw new IOException($"The local copy of '{key}' in {Folder} kept disappearing; is FENTA_BLOB_CACHE_MB too small for the work?");
        }
    }

    /// <summary>Bytes of the complete copies in the folder.</summary>
    public long SizeBytes() => CopiesInFolder().Sum(f => f.Length);

    /// <summary>Deletes the least recently used copies nobody holds until the folder is within its limit.</summary>
    public void Evict()
    {
        var copies = CopiesInFolder();
        var total = copies.Sum(f => f.Length);
        foreach (var copy in copies.OrderBy(f => f.LastAccessTimeUtc))
        {
            if (total <= limitBytes) break;
            if (TryDeleteUnheld(copy.FullName)) total -= copy.Length;
        }
        var abandoned = DateTime.UtcNow - AbandonedDownloadAge;
        foreach (var partial in Files().Where(f => f.Name.EndsWith(PartialSuffix, StringComparison.Ordinal) && f.LastWriteTimeUtc < abandoned))
            TryDeleteUnheld(partial.FullName);
    }

    private List<FileInfo> CopiesInFolder() => [.. Files().Where(f => !f.Name.EndsWith(PartialSuffix, StringComparison.Ordinal))];

    private IEnumerable<FileInfo> Files()
    {
        var root = new DirectoryInfo(Folder);
        return root.Exists ? root.EnumerateFiles("*", SearchOption.AllDirectories) : [];
    }

    /// <summary>Opens the copy with a shared lock and marks it used now; null when there is none (or it is being evicted this instant).</summary>
    private static CachedFile? TryPin(string path)
    {
        FileStream pin;
        try
        {
            pin = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (IOException)
        {
            return null; // not there, or an evictor holds its exclusive lock and is deleting it
        }
        // The lock is taken just after the open: if an evictor deleted the file in between, the path no longer exists.
        if (!File.Exists(path))
        {
            pin.Dispose();
            return null;
        }
        File.SetLastAccessTimeUtc(path, DateTime.UtcNow);
        return new CachedFile(path, pin);
    }

    private static bool TryDeleteUnheld(string path)
    {
        try
        {
            using var exclusive = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false; // held by a reader, or already gone
        }
    }

    private string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Folder, key));
        if (!path.StartsWith(Folder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Blob key '{key}' points outside the cache.", nameof(key));
        return path;
    }
}

/// <summary>A local copy in use: the file stays until this is disposed.</summary>
public sealed class CachedFile(string path, FileStream pin) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose() => pin.Dispose();
}

/// <summary>Local copies of assets by asset id, kept on disk while this is undisposed (see <see cref="BlobFileCache"/>).</summary>
public sealed class LocalFiles(IReadOnlyDictionary<string, CachedFile> files) : IReadOnlyDictionary<string, string>, IDisposable
{
    public string this[string assetId] => files[assetId].Path;
    public IEnumerable<string> Keys => files.Keys;
    public IEnumerable<string> Values => files.Values.Select(f => f.Path);
    public int Count => files.Count;
    public bool ContainsKey(string assetId) => files.ContainsKey(assetId);

    public bool TryGetValue(string assetId, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out string path)
    {
        path = files.TryGetValue(assetId, out var file) ? file.Path : null;
        return path is not null;
    }

    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => files.Select(f => KeyValuePair.Create(f.Key, f.Value.Path)).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Dispose()
    {
        foreach (var file in files.Values) file.Dispose();
    }
}
