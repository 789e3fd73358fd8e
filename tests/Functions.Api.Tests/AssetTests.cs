using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net;
using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;
using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>Assets in Blob Storage (Azurite, as locally): direct uploads through a delegation SAS, checked at complete, and signed downloads.</summary>
public class AssetTests(AssetTests.Host host) : IClassFixture<AssetTests.Host>
{
    public sealed class Host : ApiHost
    {
        /// <summary>Download links that expire within the test, unless a test asks for longer ones with expires_in.</summary>
        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?> { ["FENTA_DOWNLOAD_LINK_SECONDS"] = "3" };
    }

    private async Task<string> KeyAsync(string assetId) => (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", assetId))!;

    [Fact]
    public async Task AnUploadThroughItsDelegationSasLandsInBlobAndBecomesAReadyAsset()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("launch.mp4", bytes.Length);
        var asset = ticket.GetProperty("asset");
        var id = asset.GetProperty("id").GetString()!;
        var key = await KeyAsync(id);
        Assert.Equal(("processing", "video", "video/mp4", (long)bytes.Length, "PUT"), (asset.GetProperty("status").GetString(), asset.GetProperty("type").GetString(),
            asset.GetProperty("content_type").GetString(), asset.GetProperty("size_bytes").GetInt64(), ticket.GetProperty("upload_method").GetString()));
        // The file goes to Blob Storage, never through the API: a user delegation SAS for one staging blob, create only.
        var uploadUrl = new Uri(ticket.GetProperty("upload_url").GetString()!);
        var container = new Uri(host.Storage["FENTA_AZURE_BLOB_URL"]!);
        Assert.Equal(("https", container.Port), (uploadUrl.Scheme, uploadUrl.Port));
        Assert.Equal($"{container.AbsolutePath}/staging/{key}", uploadUrl.AbsolutePath);
        var sas = System.Web.HttpUtility.ParseQueryString(uploadUrl.Query);
        Assert.Equal(("c", "b"), (sas["sp"], sas["sr"]));
        Assert.NotNull(sas["skoid"]); // signed with a user delegation key
        Assert.InRange(ticket.GetProperty("upload_expires_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(14), DateTimeOffset.UtcNow.AddMinutes(16));

        var pending = await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200);
        Assert.Equal(JsonValueKind.Null, pending.GetProperty("download_url").ValueKind);
        await (await client.CompleteUploadAsync(id)).ReadProblemAsync(409, "UPLOAD_MISSING");

        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);
        var ready = await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200);
        Assert.Equal(("ready", 320, 240, "h264", (long)bytes.Length), (ready.GetProperty("status").GetString(), ready.GetProperty("width").GetInt32(),
            ready.GetProperty("height").GetInt32(), ready.GetProperty("codec").GetString(), ready.GetProperty("size_bytes").GetInt64()));
        Assert.InRange(ready.GetProperty("duration_seconds").GetDecimal(), 0.95m, 1.05m);
        Assert.Equal(25m, ready.GetProperty("fps").GetDecimal());
        Assert.Equal("ready", (await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200)).GetProperty("status").GetString()); // safe to repeat

        // The bytes are the asset's own blob; the staged upload's bytes are gone (an empty blob holds its name, see below).
        Assert.Equal(bytes, await StoredAssets.ReadAsync(host.Storage, key));
        Assert.Equal([(AssetBlobs.StagingPrefix + key, 0L)], await StoredAssets.ListAsync(host.Storage, AssetBlobs.StagingPrefix + key));
        Assert.Equal("azure", (string)(await host.ScalarAsync("SELECT storage_provider FROM assets WHERE id = $1", id))!);
    }

    [Fact]
    public async Task AnUploadLinkCannotWriteAnotherBlobNorReplaceTheAssetAfterComplete()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
        var id = Uploads.Id(ticket);
        var key = await KeyAsync(id);
        var uploadUrl = new Uri(ticket.GetProperty("upload_url").GetString()!);

        // The signature covers one blob: the same query on the asset's own key, or on a neighbour, is refused.
        var ownKey = new UriBuilder(uploadUrl) { Path = uploadUrl.AbsolutePath.Replace("/staging/", "/", StringComparison.Ordinal) }.Uri;
        var neighbour = new UriBuilder(uploadUrl) { Path = uploadUrl.AbsolutePath.Replace(id, id + "x", StringComparison.Ordinal) }.Uri;
        Assert.Equal(HttpStatusCode.Forbidden, (await Uploads.PutAsync(ticket, bytes, ownKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Uploads.PutAsync(ticket, bytes, neighbour)).StatusCode);
        Assert.False(await StoredAssets.ExistsAsync(host.Storage, key));

        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);
        // Create only: a second file cannot replace the first before it is checked.
        Assert.False((await Uploads.PutAsync(ticket, new byte[bytes.Length])).IsSuccessStatusCode);
        await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200);

        // After complete, the old link writes nowhere: the asset keeps the bytes that were checked.
        var other = await Uploads.ClipAsync("testsrc2=size=320x240:rate=25");
        Assert.False((await Uploads.PutAsync(ticket, other, ownKey)).IsSuccessStatusCode);
        Assert.False((await Uploads.PutAsync(ticket, other)).IsSuccessStatusCode);
        var again = await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200);
        Assert.Equal(("ready", (long)bytes.Length), (again.GetProperty("status").GetString(), again.GetProperty("size_bytes").GetInt64()));
        Assert.Equal(bytes, await StoredAssets.ReadAsync(host.Storage, key));
        var url = (await (await client.GetAsync($"/v1/assets/{id}?expires_in=120")).ReadJsonAsync(200)).GetProperty("download_url").GetString();
        Assert.Equal(bytes, await new HttpClient().GetByteArrayAsync(url));
    }

    [Fact]
    public async Task AWrongSizeOrANonMediaFileIsRefusedAtCompleteAndTheLinkTakesTheRightOne()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
        var id = Uploads.Id(ticket);
        var key = await KeyAsync(id);

        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes[..^10])).StatusCode);
        var shorter = await (await client.CompleteUploadAsync(id)).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["size_bytes"], shorter.Fields());
        Assert.Contains($"{bytes.Length - 10} bytes", shorter.GetProperty("errors")[0].GetProperty("message").GetString());

        var text = new byte[bytes.Length];
        Array.Fill(text, (byte)'a');
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, text)).StatusCode);
        Assert.Equal(["file"], (await (await client.CompleteUploadAsync(id)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());

        var still = await Uploads.ClipAsync("color=teal:s=64x48", extension: ".png");
        var image = await client.InitUploadAsync("still.mp4", still.Length, "video/mp4");
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(image, still)).StatusCode);
        Assert.Equal(["content_type"], (await (await client.CompleteUploadAsync(Uploads.Id(image))).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());

        Assert.Equal("processing", (string)(await host.ScalarAsync("SELECT status FROM assets WHERE id = $1", id))!);
        Assert.False(await StoredAssets.ExistsAsync(host.Storage, key));
        // Refused files are discarded, so the same link takes the right file, and the upload completes.
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);
        Assert.Equal("ready", (await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task TenParallelCompletesOfOneUploadAnswer200Or409AndStoreItOnce()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
        var id = Uploads.Id(ticket);
        var key = await KeyAsync(id);
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);

        var answers = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            var response = await client.CompleteUploadAsync(id);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }));
        Assert.All(answers, a => Assert.True(a.Item1 is 200 or 409, $"{a.Item1}: {a.Item2}"));
        var completed = answers.Where(a => a.Item1 == 200).Select(a => a.Item2).ToList();
        Assert.NotEmpty(completed);
        Assert.All(answers.Where(a => a.Item1 == 409), a => Assert.Contains("UPLOAD_IN_PROGRESS", a.Item2));
        // Every 200 is the same completed asset, and so is a later call's.
        var again = await (await client.CompleteUploadAsync(id)).Content.ReadAsStringAsync();
        Assert.All(completed, body => Assert.Equal(again, body));
        Assert.Equal("ready", JsonDocument.Parse(again).RootElement.GetProperty("status").GetString());

        // One blob of the org's own, with the checked bytes, and its size counted once.
        Assert.Equal([(key, (long)bytes.Length)], await StoredAssets.ListAsync(host.Storage, session.OrgId + "/"));
        Assert.Equal(bytes, await StoredAssets.ReadAsync(host.Storage, key));
        Assert.Equal(bytes.Length, (await (await client.GetAsync("/v1/usage")).ReadJsonAsync(200)).GetProperty("storage_bytes").GetInt64());
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM assets WHERE org_id = $1", session.OrgId));
    }

    [Fact]
    public async Task ACompletedUploadsLinkStopsWorkingAndStoresNothingMore()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
        var id = Uploads.Id(ticket);
        var staged = AssetBlobs.StagingPrefix + await KeyAsync(id);
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);
        await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200);

        // Within the link's lifetime, a PUT through it is refused by Blob Storage, big or small, and leaves no bytes behind.
        foreach (var again in new[] { bytes, new byte[3 * 1024 * 1024] })
        {
            var put = await Uploads.PutAsync(ticket, again);
            Assert.True((int)put.StatusCode is >= 400 and < 500, $"the spent link answered {(int)put.StatusCode}");
        }
        Assert.Equal([(staged, 0L)], await StoredAssets.ListAsync(host.Storage, staged));
        Assert.Equal("ready", (await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200)).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ADeletedUploadsLinkStopsWorkingWhetherOrNotAFileWasPut()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        foreach (var putFirst in new[] { true, false })
        {
            var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
            var id = Uploads.Id(ticket);
            var staged = AssetBlobs.StagingPrefix + await KeyAsync(id);
            if (putFirst) Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, bytes)).StatusCode);
            await (await client.DeleteAsync($"/v1/assets/{id}")).ReadJsonAsync(204);

            var put = await Uploads.PutAsync(ticket, bytes);
            Assert.True((int)put.StatusCode is >= 400 and < 500, $"the deleted upload's link answered {(int)put.StatusCode} (file put first: {putFirst})");
            Assert.Equal([(staged, 0L)], await StoredAssets.ListAsync(host.Storage, staged));
            await (await client.CompleteUploadAsync(id)).ReadProblemAsync(404, "NOT_FOUND");
        }
    }

    [Fact]
    public async Task MoreBytesThanDeclaredAreRefusedAtCompleteAndDiscarded()
    {
        var client = (await host.RegisterAsync()).Client();
        var ticket = await client.InitUploadAsync("clip.mp4", 10);
        var id = Uploads.Id(ticket);
        var staged = AssetBlobs.StagingPrefix + await KeyAsync(id);
        // Blob Storage cannot hold a link to a size, so the check is complete's.
        Assert.Equal(HttpStatusCode.Created, (await Uploads.PutAsync(ticket, new byte[30 * 1024 * 1024])).StatusCode);
        var problem = await (await client.CompleteUploadAsync(id)).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["size_bytes"], problem.Fields());
        Assert.Contains($"{30 * 1024 * 1024} bytes", problem.GetProperty("errors")[0].GetProperty("message").GetString());
        Assert.Empty(await StoredAssets.ListAsync(host.Storage, staged));
        Assert.Equal(10L, (long)(await host.ScalarAsync("SELECT size_bytes FROM assets WHERE id = $1 AND status = 'processing'", id))!);
    }

    [Fact]
    public async Task ADownloadUrlServesRangesAndStopsWorkingWhenItExpires()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var id = (await client.UploadAsync(bytes, "clip.mp4")).GetProperty("id").GetString()!;

        var shown = await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200);
        var url = shown.GetProperty("download_url").GetString()!;
        var expires = shown.GetProperty("download_expires_at").GetDateTimeOffset();
        Assert.InRange(expires, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddSeconds(4)); // FENTA_DOWNLOAD_LINK_SECONDS=3 in this host
        var anonymous = new HttpClient();
        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        var part = await anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(bytes[100..200], await part.Content.ReadAsByteArrayAsync());
        Assert.Equal($"bytes 100-199/{bytes.Length}", part.Content.Headers.ContentRange?.ToString());
        var whole = await anonymous.GetAsync(url);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("video/mp4", whole.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(url.Replace("sig=", "sig=0"))).StatusCode);

        await Task.Delay(expires - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1.5));
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync(url)).StatusCode);
        await (await client.GetAsync($"/v1/assets/{id}?expires_in=59")).ReadProblemAsync(400, "VALIDATION_FAILED");
        var longer = await (await client.GetAsync($"/v1/assets/{id}?expires_in=3600")).ReadJsonAsync(200);
        Assert.InRange(longer.GetProperty("download_expires_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddMinutes(59), DateTimeOffset.UtcNow.AddMinutes(61));

        // Deleting the asset deletes its file: links already handed out stop working.
        var fresh = longer.GetProperty("download_url").GetString();
        await (await client.DeleteAsync($"/v1/assets/{id}")).ReadJsonAsync(204);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(fresh)).StatusCode);
        await (await client.GetAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
    }

    [Fact]
    public async Task InitRefusesWhatCannotBecomeAMediaAssetNamingEachField()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var problem = await (await client.PostAsJsonAsync("/v1/assets/init", new { content_type = "not a type", size_bytes = -1 })).ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["content_type", "filename", "size_bytes"], problem.Fields().Order());
        Assert.Equal(["size_bytes"], (await (await client.PostAsJsonAsync("/v1/assets/init", new { filename = "clip.mp4" })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(["size_bytes"], (await (await client.PostAsJsonAsync("/v1/assets/init", new { filename = "clip.mp4", size_bytes = 513L * 1024 * 1024 }))
            .ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(["content_type"], (await (await client.PostAsJsonAsync("/v1/assets/init", new { filename = "notes.txt", size_bytes = 5 }))
            .ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM assets WHERE org_id = $1", session.OrgId));
        var guessed = await client.InitUploadAsync("voice.wav", 1000);
        Assert.Equal(("audio", "audio/wav"), (guessed.GetProperty("asset").GetProperty("type").GetString(), guessed.GetProperty("asset").GetProperty("content_type").GetString()));

        var stranger = await host.RegisterAsync();
        await (await stranger.Client().CompleteUploadAsync(Uploads.Id(guessed))).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(["asset_id"], (await (await client.PostAsJsonAsync("/v1/assets/complete", new { })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task AssetsAreScopedToTheOrgAndNeedTheUploadScope()
    {
        var owner = await host.RegisterAsync();
        var asset = await owner.Client().UploadAsync(await Uploads.ClipAsync("color=teal:s=64x48", extension: ".png"), "still.png");
        Assert.Equal(("image", 64, 48), (asset.GetProperty("type").GetString(), asset.GetProperty("width").GetInt32(), asset.GetProperty("height").GetInt32()));
        var id = asset.GetProperty("id").GetString();
        var stranger = await host.RegisterAsync();
        await (await stranger.Client().GetAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.Client().DeleteAsync($"/v1/assets/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, (await (await stranger.Client().GetAsync("/v1/assets")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());

        var (readOnly, _) = await owner.CreateKeyAsync("workflows:read");
        var denied = await host.Client(readOnly).PostAsJsonAsync("/v1/assets/init", new { filename = "b.png", size_bytes = 10 });
        Assert.Equal("assets:upload", (await denied.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_scope").GetString());
        var listed = await (await host.Client(readOnly).GetAsync("/v1/assets?type=image")).ReadJsonAsync(200);
        Assert.Equal(1, listed.GetProperty("data").GetArrayLength());
        await (await owner.Client().GetAsync("/v1/assets?type=hologram")).ReadProblemAsync(400, "VALIDATION_FAILED");
    }

    [Fact]
    public async Task AnUploadedSvgIsServedAsAnOpaqueAttachmentNotAsAPageThatRunsItsScript()
    {
        var client = (await host.RegisterAsync()).Client();
        var svg = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><script>alert(document.domain)</script><rect width="64" height="64" fill="red"/></svg>"""u8.ToArray();
        var asset = await client.UploadAsync(svg, "logo.svg");
        Assert.Equal(("image", "image/svg+xml"), (asset.GetProperty("type").GetString(), asset.GetProperty("content_type").GetString()));

        var shown = await client.GetAsync($"/v1/assets/{asset.GetProperty("id").GetString()}");
        Assert.Equal("nosniff", shown.Headers.GetValues("X-Content-Type-Options").Single());
        var url = (await shown.ReadJsonAsync(200)).GetProperty("download_url").GetString()!;
        var download = await new HttpClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(svg, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("logo.svg", download.Content.Headers.ContentDisposition?.FileNameStar ?? download.Content.Headers.ContentDisposition?.FileName?.Trim('"'));
    }

    [Fact]
    public async Task LinksAreBuiltFromConfiguredAddressesNeverFromTheRequestsHost()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var id = (await client.UploadAsync(bytes, "clip.mp4")).GetProperty("id").GetString()!;

        async Task<string> AsEvilAsync(HttpMethod method, string path, object? body = null)
        {
            var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            request.Headers.Host = "evil.example";
            request.Headers.Add("X-Forwarded-Host", "evil.example");
            request.Headers.Add("X-Forwarded-Proto", "http");
            request.Headers.Add("Forwarded", "host=evil.example;proto=http");
            var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, text);
            Assert.DoesNotContain("evil.example", text, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(response.Headers, h => h.Value.Any(v => v.Contains("evil.example", StringComparison.OrdinalIgnoreCase)));
            return text;
        }

        var container = new Uri(host.Storage["FENTA_AZURE_BLOB_URL"]!);
        var shown = JsonDocument.Parse(await AsEvilAsync(HttpMethod.Get, $"/v1/assets/{id}")).RootElement;
        var download = new Uri(shown.GetProperty("download_url").GetString()!);
        Assert.Equal((container.Host, container.Port), (download.Host, download.Port));
        var ticket = JsonDocument.Parse(await AsEvilAsync(HttpMethod.Post, "/v1/assets/init", new { filename = "more.mp4", size_bytes = 10 })).RootElement;
        var upload = new Uri(ticket.GetProperty("upload_url").GetString()!);
        Assert.Equal((container.Host, container.Port), (upload.Host, upload.Port));
        await AsEvilAsync(HttpMethod.Get, "/v1/assets");
    }
}
