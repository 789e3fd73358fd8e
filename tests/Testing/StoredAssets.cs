using Azure.Storage.Blobs;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;

namespace FentaWeb.Testing;

/// <summary>
/// What a test's stack stored in its asset container, read straight through the Blob SDK (not through the app's cache):
/// the bytes are in Blob Storage, not only on the machine that wrote them.
/// </summary>
public static class StoredAssets
{
    public static BlobContainerClient Container(IReadOnlyDictionary<string, string?> settings) =>
        new(new Uri(settings["FENTA_AZURE_BLOB_URL"]!), new AzuriteCredential());

    public static async Task<byte[]> ReadAsync(IReadOnlyDictionary<string, string?> settings, string key) =>
        (await Container(settings).GetBlobClient(key).DownloadContentAsync()).Value.Content.ToArray();

    public static async Task<string> ReadTextAsync(IReadOnlyDictionary<string, string?> settings, string key) =>
        System.Text.Encoding.UTF8.GetString(await ReadAsync(settings, key));

    /// <summary>A temporary local copy of the blob, for tools such as ffprobe; deleted when disposed.</summary>
    public static async Task<TemporaryCopy> CopyAsync(IReadOnlyDictionary<string, string?> settings, string key)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-test-copy-{Guid.NewGuid():N}{Path.GetExtension(key)}");
        await Container(settings).GetBlobClient(key).DownloadToAsync(path);
        return new TemporaryCopy(path);
    }

    public static async Task<bool> ExistsAsync(IReadOnlyDictionary<string, string?> settings, string key) =>
        (await Container(settings).GetBlobClient(key).ExistsAsync()).Value;

    /// <summary>The names and sizes of the blobs under <paramref name="prefix"/>.</summary>
    public static async Task<List<(string Name, long Size)>> ListAsync(IReadOnlyDictionary<string, string?> settings, string prefix)
    {
        var found = new List<(string, long)>();
        await foreach (var item in Container(settings).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, prefix, CancellationToken.None))
            found.Add((item.Name, item.Properties.ContentLength ?? 0));
        return found;
    }

    /// <summary>Stores bytes under <paramref name="key"/> with the apps' own rights (not through a link).</summary>
    public static async Task WriteAsync(IReadOnlyDictionary<string, string?> settings, string key, byte[] bytes)
    {
        var container = Container(settings);
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient(key).UploadAsync(new BinaryData(bytes), overwrite: true);
    }
}

public sealed class TemporaryCopy(string path) : IDisposable
{
    public string Path { get; } = path;

    public void Dispose() => File.Delete(Path);
}
