using System.Net;
using System.Net.Http.Headers;
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
}
