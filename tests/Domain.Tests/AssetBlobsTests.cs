using System.Net.Http.Headers;
using System.Net;
using Azure;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;
using FentaWeb.Testing;

namespace FentaWeb.Domain.Tests;

/// <summary>The asset store on Blob Storage (Azurite with OAuth over HTTPS): bytes in the container, delegation SAS links, the local cache.</summary>
public class AssetBlobsTests : IAsyncLifetime
{
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"fenta-blob-test-{Guid.NewGuid():N}");
    private Dictionary<string, string?> _settings = null!;

    public async Task InitializeAsync() => _settings = await TaskHubs.SettingsAsync(nameof(AssetBlobsTests));

    public Task DisposeAsync()
    {
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
        return Task.CompletedTask;
    }

    private AssetBlobs Store(string cache) =>
        new(AssetStorageOptions.FromSettings(key => key == "FENTA_BLOB_CACHE_DIR" ? Path.Combine(_cache, cache) : _settings.GetValueOrDefault(key)));

    private static async Task<string> FileAsync(byte[] bytes)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-blob-src-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    private static HttpRequestMessage PutBlob(Uri url, byte[] bytes)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        return request;
    }

    [Fact]
    public async Task FilesGoUpAndComeBackThroughAnotherMachinesCache()
    {
        var bytes = new byte[300_000];
        Random.Shared.NextBytes(bytes);
        var source = await FileAsync(bytes);
        await Store("writer").UploadFileAsync("org_a/asset_1 clip.mp4", source, "video/mp4", CancellationToken.None);
        File.Delete(source);

        Assert.Equal(bytes, await StoredAssets.ReadAsync(_settings, "org_a/asset_1 clip.mp4"));
        var reader = Store("reader");
        Assert.Equal(("video/mp4", bytes.Length), ((await reader.PropertiesAsync("org_a/asset_1 clip.mp4", CancellationToken.None))!.ContentType,
            (int)(await reader.PropertiesAsync("org_a/asset_1 clip.mp4", CancellationToken.None))!.ContentLength));
        using (var copy = await reader.LocalCopyAsync("org_a/asset_1 clip.mp4", CancellationToken.None))
        {
            Assert.StartsWith(Path.Combine(_cache, "reader"), copy.Path);
            Assert.Equal(bytes, await File.ReadAllBytesAsync(copy.Path));
        }

        await reader.DeleteAsync("org_a/asset_1 clip.mp4", CancellationToken.None);
        Assert.Null(await reader.PropertiesAsync("org_a/asset_1 clip.mp4", CancellationToken.None));
        await reader.DeleteAsync("org_a/never-there.mp4", CancellationToken.None); // deleting what is gone is fine
    }

    [Fact]
    public async Task ACreateLinkWritesItsOneBlobOnceAndNothingElse()
    {
        var store = Store("links");
        var link = await store.CreateLinkAsync("staging/org_a/asset_2.mp4", TimeSpan.FromMinutes(5), CancellationToken.None);
        Assert.Equal("https", link.Url.Scheme);
        Assert.InRange(link.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(4), DateTimeOffset.UtcNow.AddMinutes(6));
        var anonymous = new HttpClient();

        Assert.Equal(HttpStatusCode.Created, (await anonymous.SendAsync(PutBlob(link.Url, [1, 2, 3]))).StatusCode);
        Assert.Equal([1, 2, 3], await StoredAssets.ReadAsync(_settings, "staging/org_a/asset_2.mp4"));

        // Not again (create only), not another blob (the signature names this one), and not for reading.
        Assert.False((await anonymous.SendAsync(PutBlob(link.Url, [9, 9]))).IsSuccessStatusCode);
        var elsewhere = new UriBuilder(link.Url) { Path = link.Url.AbsolutePath.Replace("asset_2.mp4", "asset_3.mp4") }.Uri;
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(PutBlob(elsewhere, [9, 9]))).StatusCode);
        Assert.False(await StoredAssets.ExistsAsync(_settings, "staging/org_a/asset_3.mp4"));
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(link.Url)).StatusCode);
        Assert.Equal([1, 2, 3], await StoredAssets.ReadAsync(_settings, "staging/org_a/asset_2.mp4"));
    }

    [Fact]
    public async Task AReadLinkServesRangesAsADownloadUntilItExpires()
    {
        var store = Store("read");
        var bytes = new byte[10_000];
        Random.Shared.NextBytes(bytes);
        var source = await FileAsync(bytes);
        await store.UploadFileAsync("org_a/render.mp4", source, "video/mp4", CancellationToken.None);
        File.Delete(source);

        var link = await store.ReadLinkAsync("org_a/render.mp4", TimeSpan.FromSeconds(3), "video/mp4", "my video.mp4", CancellationToken.None);
        var anonymous = new HttpClient();
        var whole = await anonymous.GetAsync(link.Url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal(("attachment", "my video.mp4"), (whole.Content.Headers.ContentDisposition?.DispositionType, whole.Content.Headers.ContentDisposition?.FileName?.Trim('"')));

        var ranged = new HttpRequestMessage(HttpMethod.Get, link.Url);
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        var part = await anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[100..200], await part.Content.ReadAsByteArrayAsync());

        var writing = await anonymous.SendAsync(PutBlob(link.Url, [1]));
        Assert.Equal(HttpStatusCode.Forbidden, writing.StatusCode);

        await Task.Delay(link.ExpiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(link.Url)).StatusCode);
    }

    [Fact]
    public async Task ACopyTakesOnlyTheVersionItWasToldOf()
    {
        var store = Store("copy");
        var source = await FileAsync([1, 2, 3]);
        await store.UploadFileAsync("staging/org_a/asset_4.png", source, "application/octet-stream", CancellationToken.None);
        var checkedVersion = (await store.PropertiesAsync("staging/org_a/asset_4.png", CancellationToken.None))!.ETag;
        await File.WriteAllBytesAsync(source, [7, 7, 7, 7]);
        await store.UploadFileAsync("staging/org_a/asset_4.png", source, "application/octet-stream", CancellationToken.None);
        File.Delete(source);

        var refused = await Assert.ThrowsAsync<RequestFailedException>(() =>
            store.CopyAsync("staging/org_a/asset_4.png", "org_a/asset_4.png", checkedVersion, "image/png", CancellationToken.None));
        Assert.Equal(412, refused.Status);
        Assert.False(await StoredAssets.ExistsAsync(_settings, "org_a/asset_4.png"));

        var current = (await store.PropertiesAsync("staging/org_a/asset_4.png", CancellationToken.None))!.ETag;
        await store.CopyAsync("staging/org_a/asset_4.png", "org_a/asset_4.png", current, "image/png", CancellationToken.None);
        Assert.Equal([7, 7, 7, 7], await StoredAssets.ReadAsync(_settings, "org_a/asset_4.png"));
        Assert.Equal("image/png", (await store.PropertiesAsync("org_a/asset_4.png", CancellationToken.None))!.ContentType);
    }

    [Fact]
    public async Task StagedFilesOlderThanTheCutoffAreListedAndOnlyThose()
    {
        var store = Store("sweep");
        var source = await FileAsync([1]);
        await store.UploadFileAsync("staging/org_s/asset_old.mp4", source, null, CancellationToken.None);
        await store.UploadFileAsync("org_s/asset_kept.mp4", source, null, CancellationToken.None);
        File.Delete(source);
        Assert.DoesNotContain("staging/org_s/asset_old.mp4", await store.StagedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(-1), CancellationToken.None));
        var staged = await store.StagedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None);
        Assert.Contains("staging/org_s/asset_old.mp4", staged);
        Assert.All(staged, name => Assert.StartsWith(AssetBlobs.StagingPrefix, name));
    }

    [Fact]
    public async Task ASealedNameTakesNoMoreWritesThroughItsCreateOnlyLink()
    {
        var store = Store("seal");
        var link = await store.CreateLinkAsync("staging/org_t/asset_sealed.mp4", TimeSpan.FromMinutes(5), CancellationToken.None);
        Task<HttpResponseMessage> PutAsync(byte[] bytes) => new HttpClient().SendAsync(PutBlob(link.Url, bytes));
        Assert.Equal(HttpStatusCode.Created, (await PutAsync([1, 2, 3])).StatusCode);
        var replace = await PutAsync([4, 5, 6]); // Create: a new blob only
        Assert.Equal((HttpStatusCode.Forbidden, "AuthorizationPermissionMismatch"), (replace.StatusCode, replace.Headers.GetValues("x-ms-error-code").Single()));
        await store.DeleteAsync("staging/org_t/asset_sealed.mp4", CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, (await PutAsync([7])).StatusCode); // a free name again

        await store.SealAsync("staging/org_t/asset_sealed.mp4", link.ExpiresAt, CancellationToken.None);
        Assert.Empty(await StoredAssets.ReadAsync(_settings, "staging/org_t/asset_sealed.mp4"));
        Assert.Equal(HttpStatusCode.Forbidden, (await PutAsync([8, 9])).StatusCode);
        // Nor can it stage a block there (Azurite wants Write for Put Block; Azure lets Create stage blocks since
        // 2026-04-06, but they stay uncommitted and go with the seal).
        var block = new HttpRequestMessage(HttpMethod.Put, new Uri(link.Url + "&comp=block&blockid=" + Uri.EscapeDataString(Convert.ToBase64String("block-1"u8.ToArray()))))
        {
            Content = new ByteArrayContent([1, 2]),
        };
        var staging = await new HttpClient().SendAsync(block);
        Assert.Equal((HttpStatusCode.Forbidden, "AuthorizationPermissionMismatch"), (staging.StatusCode, staging.Headers.GetValues("x-ms-error-code").Single()));
        Assert.Empty(await StoredAssets.ReadAsync(_settings, "staging/org_t/asset_sealed.mp4"));
        // The seal is listed for the sweep only once its link has expired, whatever the cutoff says about its age.
        Assert.DoesNotContain("staging/org_t/asset_sealed.mp4", await store.StagedBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), CancellationToken.None));
        Assert.Contains("staging/org_t/asset_sealed.mp4", await store.StagedBeforeAsync(link.ExpiresAt.AddMinutes(1), CancellationToken.None));
    }

    [Fact]
    public void SettingsNameTheContainerAndTheCredential()
    {
        var missing = Assert.Throws<InvalidOperationException>(() => AssetStorageOptions.FromSettings(_ => null));
        Assert.Contains("FENTA_AZURE_BLOB_URL", missing.Message);
        var wrong = Assert.Throws<InvalidOperationException>(() => AssetStorageOptions.FromSettings(key => key switch
        {
            "FENTA_AZURE_BLOB_URL" => "https://acct.blob.core.windows.net/assets",
            "FENTA_AZURE_BLOB_CREDENTIAL" => "account-key",
            _ => null,
        }));
        Assert.Contains("FENTA_AZURE_BLOB_CREDENTIAL", wrong.Message);
        var azure = AssetStorageOptions.FromSettings(key => key == "FENTA_AZURE_BLOB_URL" ? "https://acct.blob.core.windows.net/assets/" : null);
        Assert.IsType<Azure.Identity.DefaultAzureCredential>(azure.Credential);
        Assert.Equal((1024L * 1024 * 1024, TimeSpan.FromMinutes(15), TimeSpan.FromHours(1)), (azure.CacheLimitBytes, azure.UploadLinkLifetime, azure.DownloadLinkLifetime));
        Assert.Throws<InvalidOperationException>(() => new AssetBlobs(azure with { ContainerUrl = new Uri("https://acct.blob.core.windows.net/") }));
    }
}

/// <summary>The bounded local cache ffmpeg reads from: least recently used copies go first, copies in use never.</summary>
public class BlobFileCacheTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"fenta-cache-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }

    private static Func<string, CancellationToken, Task> Bytes(int size, Action? counted = null) => (path, ct) =>
    {
        counted?.Invoke();
        return File.WriteAllBytesAsync(path, new byte[size], ct);
    };

    [Fact]
    public async Task ACopyIsDownloadedOnceAndServedFromDiskAfterwards()
    {
        var cache = new BlobFileCache(_folder, 10_000);
        var downloads = 0;
        using (var first = await cache.GetAsync("org/a.mp4", Bytes(100, () => downloads++), CancellationToken.None))
            Assert.Equal(100, new FileInfo(first.Path).Length);
        using (await cache.GetAsync("org/a.mp4", Bytes(100, () => downloads++), CancellationToken.None)) { }
        Assert.Equal(1, downloads);
    }

    [Fact]
    public async Task PastTheLimitTheLeastRecentlyUsedCopiesGo()
    {
        var cache = new BlobFileCache(_folder, 3_000);
        foreach (var name in new[] { "a", "b", "c" })
        {
            using var _ = await cache.GetAsync($"org/{name}.mp4", Bytes(1_000), CancellationToken.None);
            await Task.Delay(20); // distinct use times
        }
        using (await cache.GetAsync("org/a.mp4", Bytes(1_000), CancellationToken.None)) { } // a is used again: b is now the oldest
        await Task.Delay(20);
        using (await cache.GetAsync("org/d.mp4", Bytes(1_000), CancellationToken.None)) { }

        Assert.Equal(["a.mp4", "c.mp4", "d.mp4"], Directory.GetFiles(Path.Combine(_folder, "org")).Select(Path.GetFileName).Order());
        Assert.True(cache.SizeBytes() <= cache.LimitBytes);
    }

    [Fact]
    public async Task ACopyInUseIsNotEvictedEvenPastTheLimit()
    {
        var cache = new BlobFileCache(_folder, 1_500);
        using var held = await cache.GetAsync("org/held.mp4", Bytes(1_000), CancellationToken.None);
        await Task.Delay(20);
        using (await cache.GetAsync("org/next.mp4", Bytes(1_000), CancellationToken.None)) { }
        Assert.True(File.Exists(held.Path));
        // Once released, the older copy is the one to go.
        held.Dispose();
        await Task.Delay(20);
        using (await cache.GetAsync("org/last.mp4", Bytes(400), CancellationToken.None)) { }
        Assert.False(File.Exists(held.Path));
        Assert.True(File.Exists(Path.Combine(_folder, "org", "next.mp4")));
    }

    [Fact]
    public async Task KeysCannotEscapeTheFolder() =>
        await Assert.ThrowsAsync<ArgumentException>(() => new BlobFileCache(_folder, 1_000).GetAsync("../../etc/passwd", Bytes(1), CancellationToken.None));
}
