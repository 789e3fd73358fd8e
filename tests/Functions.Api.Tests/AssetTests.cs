using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Media;

namespace FentaWeb.Api.Tests;

public class AssetTests(AssetTests.Host host) : IClassFixture<AssetTests.Host>
{
    public sealed class Host : ApiHost;

    private static async Task<byte[]> TestClipAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-clip-{Guid.NewGuid():N}.mp4");
        var result = await ProcessRunner.RunAsync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-t", "1",
            "-pix_fmt", "yuv420p", "-c:v", "libx264", path], CancellationToken.None);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return bytes;
    }

    private static MultipartFormDataContent Form(byte[] bytes, string filename, string contentType)
    {
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return new MultipartFormDataContent { { file, "file", filename } };
    }

    [Fact]
    public async Task UploadedVideoIsProbedAndDownloadableBySignedLinkWithRanges()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var bytes = await TestClipAsync();
        var asset = await (await client.PostAsync("/v1/assets", Form(bytes, "clip.mp4", "video/mp4"))).ReadJsonAsync(201);
        Assert.Equal(("video", "upload", 320, 240, "h264"), (asset.GetProperty("type").GetString(), asset.GetProperty("source").GetString(),
            asset.GetProperty("width").GetInt32(), asset.GetProperty("height").GetInt32(), asset.GetProperty("codec").GetString()));
        Assert.InRange(asset.GetProperty("duration_seconds").GetDecimal(), 0.95m, 1.05m);
        Assert.Equal(25m, asset.GetProperty("fps").GetDecimal());
        Assert.Equal(bytes.Length, asset.GetProperty("size_bytes").GetInt64());

        var id = asset.GetProperty("id").GetString();
        var shown = await (await client.GetAsync($"/v1/assets/{id}?expires_in=120")).ReadJsonAsync(200);
        var url = shown.GetProperty("download_url").GetString()!;
        var anonymous = new HttpClient();
        var whole = await anonymous.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);

        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        var part = await anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[100..200], await part.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 100-199/{bytes.Length}", part.Content.Headers.ContentRange?.ToString());

        await (await anonymous.GetAsync(url.Replace("sig=", "sig=0"))).ReadProblemAsync(403, "FORBIDDEN");
        await (await client.DeleteAsync($"/v1/assets/{id}")).ReadJsonAsync(204);
        await (await anonymous.GetAsync(url)).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.GetAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task UploadsMayBeLargerThanJsonBodies()
    {
        var session = await host.RegisterAsync();
        var big = new byte[600 * 1024]; // JSON bodies stop at 256 KiB in these tests; uploads have their own limit
        Random.Shared.NextBytes(big);
        var asset = await (await session.Client().PostAsync("/v1/assets", Form(big, "blob.bin", "application/octet-stream"))).ReadJsonAsync(201);
        Assert.Equal(big.Length, asset.GetProperty("size_bytes").GetInt64());
    }

    [Fact]
    public async Task ExpiredLinksAreRefused()
    {
        var session = await host.RegisterAsync();
        var asset = await (await session.Client().PostAsync("/v1/assets", Form("hello"u8.ToArray(), "note.txt", "text/plain"))).ReadJsonAsync(201);
        Assert.Equal("other", asset.GetProperty("type").GetString());
        var key = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", asset.GetProperty("id").GetString()!))!;
        var urls = new SignedUrls(System.Text.Encoding.UTF8.GetBytes(ApiHost.SigningKey));
        var fresh = await new HttpClient().GetAsync(new Uri(host.BaseAddress, urls.Sign(key, DateTimeOffset.UtcNow.AddMinutes(1))));
        Assert.Equal("hello", await fresh.Content.ReadAsStringAsync());
        var expired = await new HttpClient().GetAsync(new Uri(host.BaseAddress, urls.Sign(key, DateTimeOffset.UtcNow.AddSeconds(-1))));
        await expired.ReadProblemAsync(403, "FORBIDDEN");
    }

    [Fact]
    public async Task UnreadableMediaIsA400AndNothingIsStored()
    {
        var session = await host.RegisterAsync();
        var response = await session.Client().PostAsync("/v1/assets", Form("not really a video"u8.ToArray(), "fake.mp4", "video/mp4"));
        Assert.Equal(["file"], (await response.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM assets WHERE org_id = $1", session.OrgId));
        Assert.Empty(Directory.Exists(Path.Combine(host.StorageRoot, session.OrgId)) ? Directory.GetFiles(Path.Combine(host.StorageRoot, session.OrgId)) : []);
        var missing = await session.Client().PostAsync("/v1/assets", new MultipartFormDataContent());
        Assert.Equal(["file"], (await missing.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task AssetsAreScopedToTheOrgAndNeedTheUploadScope()
    {
        var owner = await host.RegisterAsync();
        var asset = await (await owner.Client().PostAsync("/v1/assets", Form("x"u8.ToArray(), "a.txt", "text/plain"))).ReadJsonAsync(201);
        var id = asset.GetProperty("id").GetString();
        var stranger = await host.RegisterAsync();
        await (await stranger.Client().GetAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.Client().DeleteAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, (await (await stranger.Client().GetAsync("/v1/assets")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());

        var (readOnly, _) = await owner.CreateKeyAsync("workflows:read");
        var denied = await host.Client(readOnly).PostAsync("/v1/assets", Form("x"u8.ToArray(), "b.txt", "text/plain"));
        Assert.Equal("assets:upload", (await denied.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_scope").GetString());
        var listed = await (await host.Client(readOnly).GetAsync("/v1/assets?type=other")).ReadJsonAsync(200);
        Assert.Equal(1, listed.GetProperty("data").GetArrayLength());
        await (await owner.Client().GetAsync("/v1/assets?type=hologram")).ReadProblemAsync(400, "VALIDATION_FAILED");
    }
    [Fact]
    public async Task DirectUploadIsInitThenPutThenCompleteAndOnlyThenDownloadable()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var bytes = await TestClipAsync();
        var ticket = await (await client.PostAsJsonAsync("/v1/assets/init", new { filename = "launch.mp4", size_bytes = bytes.Length })).ReadJsonAsync(201);
        var asset = ticket.GetProperty("asset");
        var id = asset.GetProperty("id").GetString()!;
        Assert.Equal(("processing", "video", "video/mp4", "PUT"), (asset.GetProperty("status").GetString(), asset.GetProperty("type").GetString(),
            asset.GetProperty("content_type").GetString(), ticket.GetProperty("upload_method").GetString()));
        var pending = await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200);
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("download_url").ValueKind);
        await (await client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadProblemAsync(409, "UPLOAD_MISSING");

        var anonymous = new HttpClient();
        var uploadUrl = ticket.GetProperty("upload_url").GetString()!;
        var received = await (await anonymous.PutAsync(uploadUrl, new ByteArrayContent(bytes))).ReadJsonAsync(200);
        Assert.Equal((id, bytes.Length), (received.GetProperty("asset_id").GetString(), received.GetProperty("size_bytes").GetInt32()));

        var ready = await (await client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadJsonAsync(200);
        Assert.Equal(("ready", 320, 240, "h264", (long)bytes.Length), (ready.GetProperty("status").GetString(), ready.GetProperty("width").GetInt32(),
            ready.GetProperty("height").GetInt32(), ready.GetProperty("codec").GetString(), ready.GetProperty("size_bytes").GetInt64()));
        Assert.InRange(ready.GetProperty("duration_seconds").GetDecimal(), 0.95m, 1.05m);
        var again = await (await client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadJsonAsync(200);
        Assert.Equal("ready", again.GetProperty("status").GetString());
        // A completed upload's file cannot be swapped through the old link.
        await (await anonymous.PutAsync(uploadUrl, new ByteArrayContent("other"u8.ToArray()))).ReadProblemAsync(409, "ASSET_NOT_UPLOADING");

        var shown = await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200);
        Assert.Equal(bytes, await anonymous.GetByteArrayAsync(shown.GetProperty("download_url").GetString()));
    }

    [Fact]
    public async Task DirectUploadRefusesBadInputForgedLinksAndUnreadableFilesWithoutLosingTheAsset()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var problem = await (await client.PostAsJsonAsync("/v1/assets/init", new { content_type = "not a type", size_bytes = -1 })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["content_type", "filename", "size_bytes"], problem.Fields().Order());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM assets WHERE org_id = $1", session.OrgId));

        var ticket = await (await client.PostAsJsonAsync("/v1/assets/init", new { filename = "clip.mp4" })).ReadJsonAsync(201);
        var id = ticket.GetProperty("asset").GetProperty("id").GetString()!;
        var uploadUrl = ticket.GetProperty("upload_url").GetString()!;
        var key = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", id))!;
        var urls = new SignedUrls(System.Text.Encoding.UTF8.GetBytes(ApiHost.SigningKey));
        var anonymous = new HttpClient();
        var downloadSignature = urls.Sign(key, DateTimeOffset.UtcNow.AddMinutes(5)).Replace("/v1/files/", "/v1/uploads/");
        await (await anonymous.PutAsync(new Uri(host.BaseAddress, downloadSignature), new ByteArrayContent([1]))).ReadProblemAsync(403, "FORBIDDEN");
        await (await anonymous.PutAsync(uploadUrl.Replace("sig=", "sig=0"), new ByteArrayContent([1]))).ReadProblemAsync(403, "FORBIDDEN");
        var expired = new Uri(host.BaseAddress, urls.SignUpload(key, DateTimeOffset.UtcNow.AddSeconds(-1)));
        await (await anonymous.PutAsync(expired, new ByteArrayContent([1]))).ReadProblemAsync(403, "FORBIDDEN");

        await (await anonymous.PutAsync(uploadUrl, new ByteArrayContent("not really a video"u8.ToArray()))).ReadJsonAsync(200);
        var unreadable = await (await client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["file"], unreadable.Fields());
        Assert.Equal("processing", (string)(await host.ScalarAsync("SELECT status FROM assets WHERE id = $1", id))!);

        var stranger = await host.RegisterAsync();
        await (await stranger.Client().PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(["asset_id"], (await (await client.PostAsJsonAsync("/v1/assets/complete", new { })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());

        // The same link takes the right file, and the upload completes.
        await (await anonymous.PutAsync(uploadUrl, new ByteArrayContent(await TestClipAsync()))).ReadJsonAsync(200);
        var ready = await (await client.PostAsJsonAsync("/v1/assets/complete", new { asset_id = id })).ReadJsonAsync(200);
        Assert.Equal("ready", ready.GetProperty("status").GetString());
    }
}

/// <summary>The same asset API on Azure Blob Storage (Azurite): what a deployment with FENTA_AZURE_BLOB_* does.</summary>
public class AzureAssetTests(AzureAssetTests.Host host) : IClassFixture<AzureAssetTests.Host>
{
    public sealed class Host : ApiHost
    {
        public FentaWeb.Testing.Azurite Azurite { get; private set; } = null!;
        public string Container { get; } = $"assets{Guid.NewGuid():N}"[..20];

        protected override async Task BeforeStartAsync() => Azurite = await FentaWeb.Testing.Azurite.SharedAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_AZURE_BLOB_URL"] = $"http://127.0.0.1:{Azurite.Port}/{FentaWeb.Testing.Azurite.Account}/{Container}",
            ["FENTA_AZURE_BLOB_ACCOUNT"] = FentaWeb.Testing.Azurite.Account,
            ["FENTA_AZURE_BLOB_KEY"] = FentaWeb.Testing.Azurite.Key,
            ["FENTA_BLOB_CACHE_DIR"] = Path.Combine(StorageRoot, "blob-cache"),
        };
    }

    [Fact]
    public async Task UploadsLiveInTheContainerAndDownloadWithRanges()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = new byte[50_000];
        Random.Shared.NextBytes(bytes);
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var asset = await (await client.PostAsync("/v1/assets", new MultipartFormDataContent { { file, "file", "data.bin" } })).ReadJsonAsync(201);
        var id = asset.GetProperty("id").GetString()!;
        var key = (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1 AND storage_provider = 'azure'", id))!;

        // Read straight from the container with a fresh cache: the bytes are in Azure, not only on this machine.
        var elsewhere = new AzureBlobStore(new HttpClient(), host.Azurite.Options(host.Container, Path.Combine(Path.GetTempPath(), $"fenta-elsewhere-{Guid.NewGuid():N}")));
        Assert.Equal(bytes, await File.ReadAllBytesAsync(await elsewhere.LocalPathAsync(key, CancellationToken.None)));

        var url = (await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200)).GetProperty("download_url").GetString()!;
        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(10, 19);
        var part = await new HttpClient().SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[10..20], await part.Content.ReadAsByteArrayAsync());

        await (await client.DeleteAsync($"/v1/assets/{id}")).ReadJsonAsync(204);
    }
}
