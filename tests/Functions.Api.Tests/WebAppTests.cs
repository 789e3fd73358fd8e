using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FentaWeb.Api.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The web app's build served by the API on its own origin: files with their types and cache headers, index.html for app
/// routes, never for the API's paths, and nothing from outside the build's folder.
/// </summary>
public class WebAppTests(WebAppTests.Host host) : IClassFixture<WebAppTests.Host>
{
    public sealed class Host : ApiHost
    {
        public const string Index = "<!doctype html><title>FentaWeb</title><script type=\"module\" src=\"/assets/app-abc123.js\"></script>";
        public const string Script = "console.log('app')";
        /// <summary>Beside the build and hidden inside it: no request may read it.</summary>
        public const string Secret = "secret outside the web app";

        public string WebDirectory => Path.Combine(LocalFolder, "web");

        protected override Task BeforeStartAsync()
        {
            Directory.CreateDirectory(Path.Combine(WebDirectory, "assets"));
            File.WriteAllText(Path.Combine(WebDirectory, "index.html"), Index);
            File.WriteAllText(Path.Combine(WebDirectory, "assets", "app-abc123.js"), Script);
            // The build's compressed copies of its script (src/Web/precompress.ts); none of robots.txt.
            File.WriteAllBytes(Path.Combine(WebDirectory, "assets", "app-abc123.js.br"), Compress(Script, s => new BrotliStream(s, CompressionLevel.Optimal)));
            File.WriteAllBytes(Path.Combine(WebDirectory, "assets", "app-abc123.js.gz"), Compress(Script, s => new GZipStream(s, CompressionLevel.Optimal)));
            File.WriteAllText(Path.Combine(WebDirectory, "robots.txt"), "User-agent: *");
            File.WriteAllText(Path.Combine(WebDirectory, ".env"), Secret);
            File.WriteAllText(Path.Combine(LocalFolder, "secret.txt"), Secret);
            return Task.CompletedTask;
        }

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?> { ["FENTA_WEB_DIR"] = WebDirectory };

        private static byte[] Compress(string text, Func<Stream, Stream> compressor)
        {
            using var buffer = new MemoryStream();
            using (var stream = compressor(buffer)) stream.Write(Encoding.UTF8.GetBytes(text));
            return buffer.ToArray();
        }
    }

    [Theory]
    [InlineData("br, gzip", "br")]
    [InlineData("gzip, deflate, br;q=0", "gzip")]
    [InlineData("identity", null)]
    [InlineData(null, null)]
    public async Task ScriptsGoCompressedAsTheBrowserAcceptsAndDecompressToTheFile(string? acceptEncoding, string? expected)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/assets/app-abc123.js");
        if (acceptEncoding is not null) request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        var response = await host.Client().SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["Accept-Encoding"], response.Headers.Vary);
        Stream body = await response.Content.ReadAsStreamAsync();
        body = expected switch { "br" => new BrotliStream(body, CompressionMode.Decompress), "gzip" => new GZipStream(body, CompressionMode.Decompress), _ => body };
        Assert.Equal(Host.Script, await new StreamReader(body).ReadToEndAsync());
        // Each encoding is its own representation, with its own tag.
        var plain = await host.Client().GetAsync("/assets/app-abc123.js");
        Assert.Equal(expected is null, plain.Headers.ETag!.Equals(response.Headers.ETag));
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/jobs/job_123")]
    // The routes of mailed links (Mails).
    [InlineData("/verify-email?token=ev_abc")]
    [InlineData("/reset-password?token=pr_abc")]
    [InlineData("/accept-invitation?token=inv_abc")]
    [InlineData("/settings/api-keys/")]
    public async Task AppRoutesGetIndexHtmlRevalidatedEachTime(string path)
    {
        var client = host.Client();
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Host.Index, await response.Content.ReadAsStringAsync());
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());

        var again = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { IfNoneMatch = { response.Headers.ETag! } } };
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
    }

    [Fact]
    public async Task FilesOfTheBuildAreServedWithTheirTypeAndHashedAssetsAreImmutable()
    {
        var client = host.Client();
        var script = await client.GetAsync("/assets/app-abc123.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal(Host.Script, await script.Content.ReadAsStringAsync());
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Equal("public, max-age=31536000, immutable", script.Headers.CacheControl?.ToString());
        Assert.Equal("nosniff", script.Headers.GetValues("X-Content-Type-Options").Single());

        var robots = await client.GetAsync("/robots.txt");
        Assert.Equal(("text/plain", "no-cache"), (robots.Content.Headers.ContentType?.MediaType, robots.Headers.CacheControl?.ToString()));

        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/assets/app-abc123.js"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(Host.Script.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());

        // A chunk no build has (an old tab after a deploy) is missing, not index.html served as script.
        var stale = await (await client.GetAsync("/assets/app-old999.js")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Contains("/assets/app-old999.js", stale.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheApisPathsNeverFallBackToTheApp()
    {
        var client = host.Client();
        foreach (var path in new[] { "/v1", "/v1/no-such-route", "/V1/no-such-route", "/openapi/v2.json", "/healthz/extra" })
            await (await client.GetAsync(path)).ReadProblemAsync(404, "NOT_FOUND");
        var wrongVerb = await client.GetAsync("/v1/auth/login");
        await wrongVerb.ReadProblemAsync(405, "METHOD_NOT_ALLOWED");
        Assert.Equal(["POST"], wrongVerb.Content.Headers.Allow);
        var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/templates"));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, head.StatusCode);
        Assert.Equal(["GET", "POST"], head.Content.Headers.Allow.Order());
        // Only GET and HEAD open pages.
        await (await client.PostAsync("/jobs/job_123", null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await client.PostAsync("/", new StringContent("{}", Encoding.UTF8, "application/json"))).ReadProblemAsync(404, "NOT_FOUND");
        // The API itself is unchanged beside the app.
        await (await client.GetAsync("/healthz")).ReadJsonAsync(200);
        Assert.StartsWith("3.", (await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync(200)).GetProperty("openapi").GetString());
    }

    [Fact]
    public async Task ARequestWithoutOrWithAnotherContentTypeStillReachesTheFunctionThatReadsTheBody()
    {
        // Routed by path and verb only, as the Functions host routes: the catch-all takes none of these.
        var client = host.Client();
        Assert.Equal(["body"], (await (await client.PostAsync("/v1/auth/login", null)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var text = await (await client.PostAsync("/v1/auth/login", new StringContent("email=a"))).ReadProblemAsync(415, "UNSUPPORTED_MEDIA_TYPE");
        Assert.Contains("text/plain", text.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/%2E%2E%2Fsecret.txt")]
    [InlineData("/..%2fsecret.txt")]
    [InlineData("/..%5csecret.txt")]
    [InlineData("/assets/../../secret.txt")]
    [InlineData("/assets/..%2f..%2fsecret.txt")]
    [InlineData("/assets/%2e%2e/%2e%2e/secret.txt")]
    [InlineData("//secret.txt")]
    [InlineData("/.env")]
    [InlineData("/assets/%2e%2e/.env")]
    public async Task NoPathReachesAFileOutsideTheBuildOrAHiddenOne(string target)
    {
        // Sent as written: HttpClient would resolve the dot segments itself.
        var (status, body) = await RawGetAsync(target);
        Assert.DoesNotContain(Host.Secret, body);
        Assert.True(status is 200 or 400 or 404, $"{status} for {target}: {body}");
        if (status == 200) Assert.EndsWith(Host.Index, body);
    }

    /// <summary>Kestrel removes dot segments before any function sees the path; the web app refuses them itself all the same.</summary>
    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/assets/../../secret.txt")]
    [InlineData("/x/../../secret.txt")]
    public void DotSegmentsThatReachTheWebAppUnresolvedStayInsideTheBuild(string path)
    {
        var http = new DefaultHttpContext { Request = { Method = "GET", Path = path } };
        try
        {
            var file = Assert.IsType<PhysicalFileHttpResult>(WebAppFiles.Serve(http.Request, host.WebDirectory));
            Assert.Equal(Path.Combine(host.WebDirectory, "index.html"), file.FileName);
        }
        catch (BadHttpRequestException e)
        {
            Assert.Equal(404, e.StatusCode);
        }
    }

    [Fact]
    public async Task WithoutABuildThePagesSaySoAndTheApiStillServes()
    {
        var index = Path.Combine(host.WebDirectory, "index.html");
        File.Move(index, index + ".away");
        try
        {
            var problem = await (await host.Client().GetAsync("/")).ReadProblemAsync(404, "NOT_FOUND");
            Assert.Contains("not built", problem.GetProperty("detail").GetString());
            await (await host.Client().GetAsync("/jobs/job_123")).ReadProblemAsync(404, "NOT_FOUND");
            await (await host.Client().GetAsync("/healthz")).ReadJsonAsync(200);
        }
        finally
        {
            File.Move(index + ".away", index);
        }
    }

    private async Task<(int Status, string Text)> RawGetAsync(string target)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: {host.BaseAddress.Authority}\r\nConnection: close\r\n\r\n"));
        var text = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
        return (int.Parse(text.Split(' ', 3)[1]), text);
    }
}
