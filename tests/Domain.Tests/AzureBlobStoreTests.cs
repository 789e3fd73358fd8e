using FentaWeb.Domain.Assets;
using FentaWeb.Testing;

namespace FentaWeb.Domain.Tests;

/// <summary>The Azure Blob client against Azurite: Shared Key requests the emulator accepts, and the local cache ffmpeg reads from.</summary>
public class AzureBlobStoreTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"fenta-blob-test-{Guid.NewGuid():N}");

    public async Task InitializeAsync() => _azurite = await Azurite.SharedAsync();

    public Task DisposeAsync()
    {
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
        return Task.CompletedTask;
    }

    private AzureBlobStore Store(string cache, string key = Azurite.Key) => new(new HttpClient(), _azurite.Options("assets", cache, key));

    [Fact]
    public async Task BlobsGoUpComeBackThroughAFreshCacheAndAreDeleted()
    {
        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);
        var writer = Store(Path.Combine(_cache, "writer"));
        Assert.Equal("azure", writer.Provider);
        Assert.Equal(bytes.Length, await writer.PutAsync("org_a/asset_1 clip.mp4", new MemoryStream(bytes), CancellationToken.None));

        // Another process (its own empty cache) sees the blob through the service, not through the writer's files.
        var reader = Store(Path.Combine(_cache, "reader"));
        Assert.Equal(bytes.Length, await reader.SizeAsync("org_a/asset_1 clip.mp4", CancellationToken.None));
        var path = await reader.LocalPathAsync("org_a/asset_1 clip.mp4", CancellationToken.None);
        Assert.StartsWith(Path.Combine(_cache, "reader"), path);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));
        await using (var stream = (await reader.OpenReadAsync("org_a/asset_1 clip.mp4", CancellationToken.None))!)
            Assert.Equal(bytes.Length, stream.Length);

        await writer.DeleteAsync("org_a/asset_1 clip.mp4", CancellationToken.None);
        var afterwards = Store(Path.Combine(_cache, "late"));
        Assert.Null(await afterwards.SizeAsync("org_a/asset_1 clip.mp4", CancellationToken.None));
        Assert.Null(await afterwards.OpenReadAsync("org_a/asset_1 clip.mp4", CancellationToken.None));
        await writer.DeleteAsync("org_a/never-there.mp4", CancellationToken.None); // deleting what is gone is fine
    }

    [Fact]
    public async Task AWrongAccountKeyIsRefusedByTheService()
    {
        var wrong = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(64));
        var error = await Assert.ThrowsAsync<IOException>(() => Store(Path.Combine(_cache, "wrong"), wrong).PutAsync("org_a/x.bin", new MemoryStream([1, 2, 3]), CancellationToken.None));
        Assert.Contains("403", error.Message);
    }

    [Fact]
    public async Task KeysCannotEscapeTheCache() =>
        await Assert.ThrowsAsync<ArgumentException>(() => Store(Path.Combine(_cache, "escape")).LocalPathAsync("../../etc/passwd", CancellationToken.None));
}
