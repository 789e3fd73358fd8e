using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using FentaWeb.Domain.Media;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Share links over HTTP against the real stack: one job per class rendered by the real activities and renderer, shared
/// through /v1/share-links, and its public page /s/{token} read as an unfurler and a browser would (no redirects followed,
/// cookies by hand, each test from addresses of its own as App Service's front end reports them).
/// </summary>
public partial class ShareLinkTests(ShareLinkTests.Host host) : IClassFixture<ShareLinkTests.Host>
{
    public sealed class Host : ApiHost
    {
        public const int ViewsPerMinute = 20;

        protected override bool RunsWorker => true;
        protected override bool RunsRenderer => true;
        // The real node activities (espeak-ng, ffmpeg, the offline stock library), not the test doubles.
        protected override void ConfigureWorker(IServiceCollection services) { }

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>
        {
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
        };

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_CLIENT_ADDRESS_FROM_FRONT_END"] = "true",
            ["FENTA_SHARE_VIEWS_PER_MINUTE"] = ViewsPerMinute.ToString(),
        };

        private readonly SemaphoreSlim _gate = new(1, 1);
        private (Session Owner, string JobId)? _rendered;

        /// <summary>The class's one rendered job (a 6 s draft short) and its owner, rendered on first use.</summary>
        public async Task<(Session Owner, string JobId)> RenderedAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_rendered is { } done) return done;
                var owner = await RegisterAsync();
                var started = await (await owner.Client().PostAsJsonAsync("/v1/jobs", new
                {
                    template_id = "tmpl_shorts_v1",
                    config = new
                    {
                        sources = new object[] { new { type = "stock", provider = "local", query = "city night", count = 3 } },
                        script = new { prompt = "night buses start running in the city", genre = "news", duration_seconds = 6 },
                        tts = new { provider = "espeak", speed = 1.1 },
                        subtitles = new { style = "clean_box" },
                        output = new { profile = "9x16_720p", quality = "draft" },
                    },
                })).ReadJsonAsync(202);
                var job = await owner.Client().JobEndedAsync(started.GetProperty("id").GetString()!, TimeSpan.FromMinutes(4));
                Assert.Equal("completed", job.GetProperty("status").GetString());
                _rendered = (owner, job.GetProperty("id").GetString()!);
                return _rendered.Value;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private static int _addresses;

    /// <summary>An anonymous browser at an address of its own (X-Client-IP, as App Service's front end sets it): redirects and cookies by hand.</summary>
    private HttpClient Visitor(string? address = null)
    {
        var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = host.BaseAddress };
        client.DefaultRequestHeaders.Add("X-Client-IP", address ?? $"198.51.100.{Interlocked.Increment(ref _addresses)}");
        client.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml;q=0.9,*/*;q=0.8");
        return client;
    }

    private static string PathOf(JsonElement link) => new Uri(link.GetProperty("url").GetString()!).AbsolutePath;

    private async Task<JsonElement> ShareAsync(HttpClient owner, object body) => await (await owner.PostAsJsonAsync("/v1/share-links", body)).ReadJsonAsync(201);

    [GeneratedRegex("""<meta (?:property|name)="([^"]+)" content="([^"]*)">""")]
    private static partial Regex MetaTag();

    /// <summary>The page's meta tags, property or name → content (HTML entities decoded).</summary>
    private static Dictionary<string, string> Tags(string html) =>
        MetaTag().Matches(html).ToDictionary(m => m.Groups[1].Value, m => WebUtility.HtmlDecode(m.Groups[2].Value));

    private async Task<long> ViewsAsync(HttpClient owner, string id) =>
        (await (await owner.GetAsync($"/v1/share-links/{id}")).ReadJsonAsync(200)).GetProperty("view_count").GetInt64();

    [Fact]
    public async Task ThePageUnfurlsItsVideoPlaysFromAFreshShortLinkAndViewsAreCountedPerPage()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var client = owner.Client();
        var link = await ShareAsync(client, new { job_id = jobId, title = "Night <buses> & \"you\"", allow_download = true });
        var token = link.GetProperty("token").GetString()!;
        Assert.Equal($"{ApiHost.PublicUrl}s/{token}", link.GetProperty("url").GetString());
        Assert.Equal(43, token.Length); // 32 random bytes, base64url
        Assert.Equal((jobId, "active", false, 0L), (link.GetProperty("job_id").GetString(), link.GetProperty("status").GetString(),
            link.GetProperty("has_password").GetBoolean(), link.GetProperty("view_count").GetInt64()));
        // Only the token's hash and its protected form are stored.
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM share_links WHERE token_hash = $1 OR token_protected LIKE '%' || $1 || '%'", token));

        var visitor = Visitor();
        var page = await visitor.GetAsync(PathOf(link));
        var html = await page.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var tags = Tags(html);
        var pageUrl = $"{ApiHost.PublicUrl}s/{token}";
        Assert.Equal("Night <buses> & \"you\"", tags["og:title"]);
        Assert.Contains("<h1>Night &lt;buses&gt; &amp; &quot;you&quot;</h1>", html);
        Assert.Equal(("video.other", $"{pageUrl}/video", $"{pageUrl}/video", "video/mp4"),
            (tags["og:type"], tags["og:video"], tags["og:video:secure_url"], tags["og:video:type"]));
        Assert.Equal(("720", "1280", $"{pageUrl}/poster"), (tags["og:video:width"], tags["og:video:height"], tags["og:image"]));
        Assert.Equal(("player", $"{pageUrl}/embed", "720", "1280", $"{pageUrl}/video"),
            (tags["twitter:card"], tags["twitter:player"], tags["twitter:player:width"], tags["twitter:player:height"], tags["twitter:player:stream"]));
        Assert.Contains("noindex", tags["robots"]);
        Assert.Contains($"<video controls playsinline preload=\"metadata\" src=\"/s/{token}/video\" poster=\"/s/{token}/poster\"", html);
        Assert.Contains($"href=\"/s/{token}/video?download=1\" download>Download</a>", html);
        Assert.Contains("1 view", html);
        // No storage link in the source, and nothing about the org beyond the title.
        Assert.DoesNotContain("sig=", html);
        Assert.DoesNotContain("blob", html, StringComparison.OrdinalIgnoreCase);
        foreach (var secret in new[] { owner.OrgId, owner.UserId, owner.Email, jobId, link.GetProperty("id").GetString()!, link.GetProperty("asset_id").GetString()! })
            Assert.DoesNotContain(secret, html);
        Assert.Equal("no-referrer", page.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("default-src 'none'", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.DoesNotContain("script-src", csp);

        // The video: a redirect, kept by no cache, to a read link signed at the request that lives minutes, to a playable MP4.
        var before = DateTimeOffset.UtcNow;
        var first = await visitor.GetAsync($"/s/{token}/video");
        Assert.Equal(HttpStatusCode.Found, first.StatusCode);
        Assert.Contains("no-store", first.Headers.CacheControl!.ToString());
        var location = first.Headers.Location!;
        var expires = DateTimeOffset.Parse(HttpUtility.ParseQueryString(location.Query)["se"]!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expires, before.AddMinutes(4), before.AddMinutes(7));
        using var storage = new HttpClient();
        using var video = await storage.GetAsync(location);
        Assert.Equal("video/mp4", video.Content.Headers.ContentType?.MediaType);
        var bytes = await video.Content.ReadAsByteArrayAsync();
        Assert.Equal("ftyp", System.Text.Encoding.ASCII.GetString(bytes, 4, 4));
        var file = Path.Combine(host.LocalFolder, $"{token}.mp4");
        Directory.CreateDirectory(host.LocalFolder);
        await File.WriteAllBytesAsync(file, bytes);
        var probe = await FfProbe.ProbeAsync(file, CancellationToken.None);
        Assert.Equal((720, 1280, "h264"), (probe.Width, probe.Height, probe.VideoCodec));

        // The poster is the render's thumbnail; the download link is an attachment named after the title.
        var poster = await visitor.GetAsync($"/s/{token}/poster");
        Assert.Equal(HttpStatusCode.Found, poster.StatusCode);
        using (var image = await storage.GetAsync(poster.Headers.Location))
            Assert.Equal("image/jpeg", image.Content.Headers.ContentType?.MediaType);
        var download = await visitor.GetAsync($"/s/{token}/video?download=1");
        Assert.True(download.StatusCode == HttpStatusCode.Found, $"{download.StatusCode}: {await download.Content.ReadAsStringAsync()}");
        using (var attachment = await storage.GetAsync(download.Headers.Location))
            Assert.Equal(("attachment", "Night _buses_ & _you_.mp4"), (attachment.Content.Headers.ContentDisposition?.DispositionType,
                attachment.Content.Headers.ContentDisposition?.FileNameStar));

        // Views: one per page, none per video or poster fetch, none for a HEAD; the embed is a view too.
        Assert.Equal(1, await ViewsAsync(client, link.GetProperty("id").GetString()!));
        Assert.Contains("2 views", await (await visitor.GetAsync(PathOf(link))).Content.ReadAsStringAsync());
        await visitor.SendAsync(new HttpRequestMessage(HttpMethod.Head, PathOf(link)));
        var embed = await visitor.GetAsync($"{PathOf(link)}/embed");
        Assert.Equal(HttpStatusCode.OK, embed.StatusCode);
        Assert.Contains("frame-ancestors *", embed.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal(3, await ViewsAsync(client, link.GetProperty("id").GetString()!));
    }

    [Fact]
    public async Task ExpiredAndRevokedLinksAre410AndUnknownTokens404()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var client = owner.Client();
        var visitor = Visitor();
        var expiring = await ShareAsync(client, new { job_id = jobId, expires_in_seconds = 60 });
        Assert.InRange(expiring.GetProperty("expires_at").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddSeconds(50), DateTimeOffset.UtcNow.AddSeconds(61));
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(PathOf(expiring))).StatusCode);
        await host.ScalarAsync("UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = $1", expiring.GetProperty("id").GetString()!);
        var gone = await visitor.GetAsync(PathOf(expiring));
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        Assert.Equal("text/html", gone.Content.Headers.ContentType?.MediaType);
        Assert.Contains("expired", await gone.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Gone, (await visitor.GetAsync($"{PathOf(expiring)}/video")).StatusCode);
        Assert.Equal("expired", (await (await client.GetAsync($"/v1/share-links/{expiring.GetProperty("id").GetString()}")).ReadJsonAsync(200)).GetProperty("status").GetString());
        // An API client asking for JSON gets the problem.
        var json = new HttpRequestMessage(HttpMethod.Get, PathOf(expiring)) { Headers = { { "Accept", "application/json" }, { "X-Client-IP", "198.51.100.250" } } };
        await (await host.Client().SendAsync(json)).ReadProblemAsync(410, "SHARE_LINK_GONE");

        var revoked = await ShareAsync(client, new { job_id = jobId, expires_at = DateTimeOffset.UtcNow.AddDays(2).ToString("o") });
        var id = revoked.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await visitor.GetAsync(PathOf(revoked))).StatusCode);
        var first = await (await client.DeleteAsync($"/v1/share-links/{id}")).ReadJsonAsync(200);
        Assert.Equal("revoked", first.GetProperty("status").GetString());
        var again = await (await client.DeleteAsync($"/v1/share-links/{id}")).ReadJsonAsync(200);
        Assert.Equal(first.GetProperty("revoked_at").GetDateTimeOffset(), again.GetProperty("revoked_at").GetDateTimeOffset());
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM audit_logs WHERE resource_id = $1 AND action = 'revoke'", id));
        Assert.Equal(HttpStatusCode.Gone, (await visitor.GetAsync(PathOf(revoked))).StatusCode);
        Assert.Equal(HttpStatusCode.Gone, (await visitor.GetAsync($"{PathOf(revoked)}/poster")).StatusCode);
        Assert.Equal(1, await ViewsAsync(client, id));

        // Unknown: a token of the right shape no link has, and one of the wrong shape.
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{new string('A', 43)}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync("/s/not-a-token")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await visitor.GetAsync($"/s/{new string('A', 43)}/video")).StatusCode);
    }

    [Fact]
    public async Task APasswordIsAskedOnThePageAndItsSignedCookieOpensThatLinkOnly()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var client = owner.Client();
        var link = await ShareAsync(client, new { job_id = jobId, title = "Locked", password = "open sesame" });
        var other = await ShareAsync(client, new { job_id = jobId, password = "open sesame" });
        Assert.True(link.GetProperty("has_password").GetBoolean());
        Assert.StartsWith("pbkdf2-sha256$", (await host.StringsAsync("SELECT password_hash FROM share_links WHERE id = $1", link.GetProperty("id").GetString()!)).Single());
        var path = PathOf(link);
        var visitor = Visitor();

        var form = await (await visitor.GetAsync(path)).Content.ReadAsStringAsync();
        Assert.Contains("<label for=\"password\">Password</label>", form);
        Assert.DoesNotContain("/video", form);
        Assert.DoesNotContain("og:video", form);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync($"{path}/video")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.GetAsync($"{path}/poster")).StatusCode);

        var wrong = await visitor.PostAsync(path, new FormUrlEncodedContent([new("password", "open sesame!")]));
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Contains("not right", await wrong.Content.ReadAsStringAsync());
        Assert.False(wrong.Headers.Contains("Set-Cookie"));

        var right = await visitor.PostAsync(path, new FormUrlEncodedContent([new("password", "open sesame")]));
        Assert.Equal(HttpStatusCode.SeeOther, right.StatusCode);
        Assert.Equal(path, right.Headers.Location!.ToString());
        var setCookie = right.Headers.GetValues("Set-Cookie").Single();
        foreach (var attribute in new[] { "httponly", "secure", "samesite=lax", $"path={path.ToLowerInvariant()}" })
            Assert.Contains(attribute, setCookie.ToLowerInvariant());
        var cookie = setCookie.Split(';')[0];

        HttpRequestMessage WithCookie(string url, string value) => new(HttpMethod.Get, url) { Headers = { { "Cookie", value } } };
        var page = await (await visitor.SendAsync(WithCookie(path, cookie))).Content.ReadAsStringAsync();
        Assert.Contains($"src=\"{path}/video\"", page);
        Assert.Contains("og:video", page);
        Assert.Equal(HttpStatusCode.Found, (await visitor.SendAsync(WithCookie($"{path}/video", cookie))).StatusCode);
        // The cookie is a MAC over this link: another link with the same password, or an altered value, is still locked.
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.SendAsync(WithCookie($"{PathOf(other)}/video", cookie))).StatusCode);
        var (expires, mac) = (cookie.Split('=')[1].Split('.')[0], cookie.Split('.')[1]);
        var later = $"{ShareCookie}={long.Parse(expires) + 86400}.{mac}";
        Assert.Equal(HttpStatusCode.Forbidden, (await visitor.SendAsync(WithCookie($"{path}/video", later))).StatusCode);
        Assert.Equal(1, await ViewsAsync(client, link.GetProperty("id").GetString()!));

        // Password attempts are limited per link, whatever the address.
        HttpResponseMessage? limited = null;
        for (var i = 0; i < 2 * Sharing.SharePageFunctions.PasswordAttemptsPerMinute + 2 && limited is null; i++)
        {
            var attempt = await Visitor().PostAsync(PathOf(other), new FormUrlEncodedContent([new("password", $"guess {i}")]));
            if (attempt.StatusCode == HttpStatusCode.TooManyRequests) limited = attempt;
        }
        Assert.NotNull(limited);
        Assert.True(limited.Headers.RetryAfter is not null);
    }

    private const string ShareCookie = "fenta_share";

    [Fact]
    public async Task ManyViewsFromOneAddressAre429WithRetryAfterWhileOthersStillWatch()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var link = await ShareAsync(owner.Client(), new { job_id = jobId });
        var busy = Visitor("203.0.113.77");
        HttpResponseMessage? limited = null;
        // Two budgets' worth at most: a window may turn over once on the way.
        for (var i = 0; i < 2 * Host.ViewsPerMinute + 2 && limited is null; i++)
        {
            var response = await busy.GetAsync(i % 2 == 0 ? PathOf(link) : $"{PathOf(link)}/video");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
            else Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Found, $"{response.StatusCode}");
        }
        Assert.NotNull(limited);
        Assert.InRange(int.Parse(limited.Headers.GetValues("Retry-After").Single()), 1, 60);
        Assert.Equal(HttpStatusCode.OK, (await Visitor().GetAsync(PathOf(link))).StatusCode);
    }

    [Fact]
    public async Task AnotherOrgsLinksAreNotThereAndItsJobsCannotBeShared()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var link = await ShareAsync(owner.Client(), new { job_id = jobId });
        var id = link.GetProperty("id").GetString()!;
        var stranger = (await host.RegisterAsync()).Client();
        await (await stranger.GetAsync($"/v1/share-links/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.DeleteAsync($"/v1/share-links/{id}")).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, (await (await stranger.GetAsync("/v1/share-links")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
        Assert.Equal("active", (await (await owner.Client().GetAsync($"/v1/share-links/{id}")).ReadJsonAsync(200)).GetProperty("status").GetString());

        var assetId = link.GetProperty("asset_id").GetString()!;
        Assert.Equal(["job_id"], (await (await stranger.PostAsJsonAsync("/v1/share-links", new { job_id = jobId })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        Assert.Equal(["asset_id"], (await (await stranger.PostAsJsonAsync("/v1/share-links", new { asset_id = assetId })).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task AssetsAreSharedTooTheListFiltersAndPagesAndBadBodiesNameTheirField()
    {
        var (owner, jobId) = await host.RenderedAsync();
        var client = owner.Client();
        var render = await host.StringsAsync("""
            SELECT unnest(ARRAY[output->>'video_asset_id', output->>'thumbnail_asset_id', output->>'srt_asset_id'])
            FROM node_runs WHERE job_id = $1 AND node_type = 'Output.Render'
            """, jobId);
        var (videoId, thumbnailId, srtId) = (render[0], render[1], render[2]);

        // The render's video asset: its poster is the render's thumbnail; the job is kept for the list's filter.
        var video = await ShareAsync(client, new { asset_id = videoId });
        Assert.Equal((jobId, videoId), (video.GetProperty("job_id").GetString(), video.GetProperty("asset_id").GetString()));
        var videoTags = Tags(await (await Visitor().GetAsync(PathOf(video))).Content.ReadAsStringAsync());
        Assert.Equal($"{video.GetProperty("url").GetString()}/poster", videoTags["og:image"]);
        // An image: shown as one, with its own picture as og:image and no player card.
        var image = await ShareAsync(client, new { asset_id = thumbnailId, title = "Still" });
        var imagePage = await (await Visitor().GetAsync(PathOf(image))).Content.ReadAsStringAsync();
        var imageTags = Tags(imagePage);
        Assert.Equal(("website", "summary_large_image", $"{image.GetProperty("url").GetString()}/poster"), (imageTags["og:type"], imageTags["twitter:card"], imageTags["og:image"]));
        Assert.Contains($"<img src=\"{PathOf(image)}/poster\" alt=\"Still\"", imagePage);
        Assert.False(imageTags.ContainsKey("og:video"));
        // An uploaded clip has no thumbnail: a frame of it is taken (its first, as it is shorter than the 1 s seek).
        var upload = await client.UploadAsync(await Uploads.ClipAsync(seconds: 0.5), "half a second.mp4");
        var clip = await ShareAsync(client, new { asset_id = upload.GetProperty("id").GetString() });
        Assert.Equal("half a second", clip.GetProperty("title").GetString());
        var clipTags = Tags(await (await Visitor().GetAsync(PathOf(clip))).Content.ReadAsStringAsync());
        Assert.Equal(($"{clip.GetProperty("url").GetString()}/poster", "320", "240"), (clipTags["og:image"], clipTags["og:video:width"], clipTags["og:video:height"]));
        Assert.Equal(["generated image/jpeg 320x240"], await host.StringsAsync("""
            SELECT a.source || ' ' || a.content_type || ' ' || a.width || 'x' || a.height
            FROM share_links l JOIN assets a ON a.id = l.poster_asset_id WHERE l.id = $1
            """, clip.GetProperty("id").GetString()!));
        var framed = await Visitor().GetAsync($"{PathOf(clip)}/poster");
        using (var storage = new HttpClient())
        using (var frame = await storage.GetAsync(framed.Headers.Location))
            Assert.Equal("image/jpeg", frame.Content.Headers.ContentType?.MediaType);

        // The list: newest first, filtered by asset or job, paged with a cursor; each entry shows its link.
        var byAsset = await (await client.GetAsync($"/v1/share-links?asset_id={thumbnailId}")).ReadJsonAsync(200);
        Assert.Equal([image.GetProperty("id").GetString()], byAsset.GetProperty("data").EnumerateArray().Select(l => l.GetProperty("id").GetString()));
        Assert.Equal(image.GetProperty("url").GetString(), byAsset.GetProperty("data")[0].GetProperty("url").GetString());
        var byJob = await (await client.GetAsync($"/v1/share-links?job_id={jobId}&limit=1")).ReadJsonAsync(200);
        Assert.True(byJob.GetProperty("has_more").GetBoolean());
        var next = await (await client.GetAsync($"/v1/share-links?job_id={jobId}&limit=1&cursor={byJob.GetProperty("next_cursor").GetString()}")).ReadJsonAsync(200);
        Assert.True(string.CompareOrdinal(next.GetProperty("data")[0].GetProperty("id").GetString(), byJob.GetProperty("data")[0].GetProperty("id").GetString()) < 0);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM audit_logs WHERE resource_id = $1 AND action = 'create'", image.GetProperty("id").GetString()!));

        async Task<string[]> Refused(object body) =>
            [.. (await (await client.PostAsJsonAsync("/v1/share-links", body)).ReadProblemAsync(400, "VALIDATION_FAILED")).Fields()];
        Assert.Equal(["job_id"], await Refused(new { title = "Nothing to share" }));
        Assert.Equal(["asset_id"], await Refused(new { job_id = jobId, asset_id = videoId }));
        Assert.Equal(["asset_id"], await Refused(new { asset_id = srtId }));
        Assert.Equal(["asset_id"], await Refused(new { asset_id = "asset_nope" }));
        Assert.Equal(["job_id"], await Refused(new { job_id = "job_nope" }));
        Assert.Equal(["expires_in_seconds"], await Refused(new { job_id = jobId, expires_in_seconds = 5 }));
        Assert.Equal(["expires_at"], await Refused(new { job_id = jobId, expires_at = DateTimeOffset.UtcNow.AddMinutes(-1).ToString("o") }));
        Assert.Equal(["expires_at"], await Refused(new { job_id = jobId, expires_at = "tomorrow" }));
        Assert.Equal(["expires_at"], await Refused(new { job_id = jobId, expires_in_seconds = 3600, expires_at = DateTimeOffset.UtcNow.AddDays(1).ToString("o") }));
        Assert.Equal(["password"], await Refused(new { job_id = jobId, password = "abc" }));
        Assert.Equal(["title"], await Refused(new { job_id = jobId, title = "  " }));
        Assert.Equal(["title"], await Refused(new { job_id = jobId, title = new string('t', 201) }));
        Assert.Equal(["allow_download"], await Refused(new { job_id = jobId, allow_download = "yes" }));
        Assert.Equal(["colour"], await Refused(new { job_id = jobId, colour = "red" }));
        await (await client.GetAsync("/v1/share-links?limit=0")).ReadProblemAsync(400, "VALIDATION_FAILED");
    }
}
