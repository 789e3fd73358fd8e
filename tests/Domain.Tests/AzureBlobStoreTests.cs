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

/// <summary>The Entra ID path (a deployment's managed identity) against Azurite's OAuth mode over HTTPS.</summary>
public class AzureBlobStoreBearerTests : IAsyncLifetime
{
    private Azurite _azurite = null!;
    private readonly string _cache = Path.Combine(Path.GetTempPath(), $"fenta-blob-bearer-{Guid.NewGuid():N}");

    public async Task InitializeAsync() => _azurite = await Azurite.StartWithOAuthAsync();

    public async Task DisposeAsync()
    {
        await _azurite.DisposeAsync();
        if (Directory.Exists(_cache)) Directory.Delete(_cache, recursive: true);
    }

    /// <summary>A token shaped like Entra ID's for Azure Storage (Azurite checks these claims, not a signature).</summary>
    private sealed class EmulatorCredential(string audience) : Azure.Core.TokenCredential
    {
        public int Requests;

        public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext context, CancellationToken ct)
        {
            Interlocked.Increment(ref Requests);
            Assert.Equal(["https://storage.azure.com/.default"], context.Scopes);
            static string Part(object value) => Convert.ToBase64String(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            const string tenant = "ab1f708d-50f6-404c-a006-d71b2ac7a606";
            var token = $"{Part(new { alg = "RS256", typ = "JWT" })}.{Part(new { aud = audience, iss = $"https://sts.windows.net/{tenant}/", iat = now - 60, nbf = now - 60, exp = now + 3600, oid = Guid.NewGuid(), tid = tenant })}.signature";
            return new Azure.Core.AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext context, CancellationToken ct) => new(GetToken(context, ct));
    }

    private AzureBlobStore Store(EmulatorCredential credential, string cache) => new(
        new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }),
        new AzureBlobOptions(new Uri($"https://127.0.0.1:{_azurite.Port}/{Azurite.Account}/bearer/"), null, null, credential, Path.Combine(_cache, cache), TimeSpan.FromSeconds(30)));

    [Fact]
    public async Task ACredentialsBearerTokenAuthorizesEveryCall()
    {
        var credential = new EmulatorCredential("https://storage.azure.com");
        var store = Store(credential, "a");
        await store.PutAsync("org_b/clip.bin", new MemoryStream([4, 5, 6]), CancellationToken.None);
        var fresh = Store(credential, "b");
        Assert.Equal(3, await fresh.SizeAsync("org_b/clip.bin", CancellationToken.None));
        Assert.Equal([4, 5, 6], await File.ReadAllBytesAsync(await fresh.LocalPathAsync("org_b/clip.bin", CancellationToken.None)));
        Assert.True(credential.Requests >= 4);
    }

    [Fact]
    public async Task ATokenForAnotherAudienceIsRefused()
    {
        var error = await Assert.ThrowsAsync<IOException>(() =>
            Store(new EmulatorCredential("https://vault.azure.net"), "c").PutAsync("org_b/x.bin", new MemoryStream([1]), CancellationToken.None));
        Assert.Matches("40[13]", error.Message);
    }
}
