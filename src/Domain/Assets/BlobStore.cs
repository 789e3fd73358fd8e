using System.Security.Cryptography;
using System.Text;

namespace FentaWeb.Domain.Assets;

/// <summary>Where asset bytes live. Keys are relative paths such as <c>org_…/asset_….mp4</c>.</summary>
public interface IBlobStore
{
    string Provider { get; }

    /// <summary>Stores a file under <paramref name="key"/> (replacing it) and returns its size.</summary>
    Task<long> PutAsync(string key, Stream content, CancellationToken ct);

    Task<Stream?> OpenReadAsync(string key, CancellationToken ct);

    /// <summary>The stored size in bytes, or null when nothing is stored under <paramref name="key"/>.</summary>
    Task<long?> SizeAsync(string key, CancellationToken ct);

    /// <summary>A local path to read the blob from, for tools such as ffmpeg (a temp copy for remote stores).</summary>
    Task<string> LocalPathAsync(string key, CancellationToken ct);

    Task DeleteAsync(string key, CancellationToken ct);
}

public static class BlobStores
{
    /// <summary>Azure Blob Storage when FENTA_AZURE_BLOB_* name a container, else the local folder (the API and workers pick the same way).</summary>
    public static IBlobStore Create(string localRoot, AzureBlobOptions? azure, Func<HttpClient> http) =>
        azure is null ? new LocalBlobStore(localRoot) : new AzureBlobStore(http(), azure);
}

/// <summary>The embedded default: files under a root folder. Keys cannot escape the root.</summary>
public sealed class LocalBlobStore(string root) : IBlobStore
{
    public string Root { get; } = Path.GetFullPath(root);

    public string Provider => "local";

    public async Task<long> PutAsync(string key, Stream content, CancellationToken ct)
    {
        var path = PathOf(key);
        await WriteFileAsync(path, content, ct);
        return new FileInfo(path).Length;
    }

    public Task<Stream?> OpenReadAsync(string key, CancellationToken ct)
    {
        var path = PathOf(key);
        return Task.FromResult<Stream?>(File.Exists(path) ? File.OpenRead(path) : null);
    }

    public Task<long?> SizeAsync(string key, CancellationToken ct)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? file.Length : (long?)null);
    }

    public Task<string> LocalPathAsync(string key, CancellationToken ct) => Task.FromResult(PathOf(key));

    public Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(PathOf(key));
        return Task.CompletedTask;
    }

    /// <summary>Writes aside, then renames: a reader never sees half a file.</summary>
    internal static async Task WriteFileAsync(string path, Stream content, CancellationToken ct)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var partial = $"{path}.{Guid.NewGuid():N}.partial";
        await using (var file = File.Create(partial)) await content.CopyToAsync(file, ct);
        File.Move(partial, path, overwrite: true);
    }

    public string PathOf(string key)
    {
        var path = Path.GetFullPath(Path.Combine(Root, key));
        if (!path.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Blob key '{key}' points outside the store.", nameof(key));
        return path;
    }
}

/// <summary>
/// Time-limited links to a blob: downloads <c>/v1/files/{key}?expires=unix&amp;sig=hex</c> and uploads
/// <c>/v1/uploads/{key}?expires=unix&amp;sig=hex</c>, where sig is HMAC-SHA256 over <c>method \n key \n expires</c>.
/// Anyone with a link may use it until it expires; nobody can forge or extend one, or turn a download link into an upload link.
/// </summary>
public sealed class SignedUrls(byte[] key)
{
    public string Sign(string blobKey, DateTimeOffset expires) => Link("/v1/files/", "GET", blobKey, expires);

    public string SignUpload(string blobKey, DateTimeOffset expires) => Link("/v1/uploads/", "PUT", blobKey, expires);

    public bool Verify(string blobKey, long expires, string? signature, DateTimeOffset now) => Verify("GET", blobKey, expires, signature, now);

    public bool VerifyUpload(string blobKey, long expires, string? signature, DateTimeOffset now) => Verify("PUT", blobKey, expires, signature, now);

    private string Link(string prefix, string method, string blobKey, DateTimeOffset expires)
    {
        var unix = expires.ToUnixTimeSeconds();
        return $"{prefix}{Uri.EscapeDataString(blobKey).Replace("%2F", "/", StringComparison.Ordinal)}?expires={unix}&sig={Signature(method, blobKey, unix)}";
    }

    private bool Verify(string method, string blobKey, long expires, string? signature, DateTimeOffset now)
    {
        if (signature is null || expires < now.ToUnixTimeSeconds()) return false;
        var expected = Encoding.ASCII.GetBytes(Signature(method, blobKey, expires));
        return CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature));
    }

    private string Signature(string method, string blobKey, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{method}\n{blobKey}\n{expires}")));
}
