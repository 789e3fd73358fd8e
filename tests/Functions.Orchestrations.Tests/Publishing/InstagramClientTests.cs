using FentaWeb.Domain.Publishing;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Sas;
using FentaWeb.Integrations.Instagram;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Simulators;
using FentaWeb.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Tests.Publishing;

/// <summary>
/// The Instagram adapter against the simulator of the Instagram API with Instagram Login: Business Login with PKCE,
/// long-lived tokens and their refresh, the professional-account rule, the Reels container protocol with a real MP4
/// fetched by the simulator, a publish resumed from its checkpoint in another client, the publishing limit, rate
/// limits and insights.
/// </summary>
public class InstagramClientTests() : SimulatorTests<InstagramSimulator>(new() { ProcessingTime = TimeSpan.FromMilliseconds(200) })
{
    private static readonly Uri Redirect = new("https://app.fenta.test/v1/integrations/instagram/callback");
    private static readonly Lazy<Task<byte[]>> Mp4 = new(() => DrawAsync(["-movflags", "+faststart"]));

    /// <summary>The client's clock is the simulator's, so moving one moves both (token expiry, the 24 h window).</summary>
    private sealed class SimulatorClock(InstagramSimulator simulator) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => simulator.Now;
    }

    /// <summary>Where the simulator fetches video_url from (the product hands it a short-lived SAS link).</summary>
    private sealed class VideoHost : Simulator
    {
        public byte[] Content { get; set; } = [];
        public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;
        public int Hits;

        public Uri Link => new(BaseAddress, "videos/final.mp4?sig=short-lived");

        protected override void Map(WebApplication app) => app.MapGet("/videos/{name}", (Delegate)(() =>
        {
            Interlocked.Increment(ref Hits);
            return Status == HttpStatusCode.OK ? Results.Bytes(Content, "video/mp4") : Results.StatusCode((int)Status);
        }));
    }

    private InstagramOptions Options(string? secret = InstagramSimulator.ClientSecret) => new(
        InstagramSimulator.ClientId, secret, Simulator.BaseAddress, Simulator.BaseAddress, Simulator.BaseAddress, "v26.0",
        TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100));

    private InstagramClient Client(string? secret = InstagramSimulator.ClientSecret) => Clients.Get<InstagramClient>(services =>
    {
        services.AddSingleton<TimeProvider>(new SimulatorClock(Simulator));
        services.AddInstagramPublishing(Options(secret));
    });

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The browser's part: open the authorization URL and take the 302 back to the redirect URI.</summary>
    private static async Task<(string Code, string State, Uri Location)> ConsentAsync(Uri authorizationUrl)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        var query = System.Web.HttpUtility.ParseQueryString(location.Query);
        return (query["code"]!, query["state"]!, location);
    }

    private async Task<TokenGrant> ConnectAsync(InstagramClient client)
    {
        var (verifier, challenge) = Pkce();
        var (code, _, _) = await ConsentAsync(client.AuthorizationUrl("state-1", challenge, Redirect));
        return await client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
    }

    private static async Task<byte[]> DrawAsync(string[] extra, string size = "270x480", double seconds = 4)
    {
        var path = Path.Combine(Path.GetTempPath(), $"ig-test-{Guid.NewGuid():N}.mp4");
        using (var ffmpeg = Process.Start("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", $"testsrc=size={size}:rate=30", "-f", "lavfi", "-i", "sine",
            "-t", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture), "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
            "-c:a", "aac", .. extra, path]))
            await ffmpeg!.WaitForExitAsync();
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return bytes;
    }

    private async Task<VideoHost> HostAsync(byte[]? content = null)
    {
        var host = new VideoHost { Content = content ?? await Mp4.Value };
        await host.StartAsync();
        return host;
    }

    private static PublishContext Context(string token, PlatformAccount account, VideoHost host, JsonObject? data = null, List<JsonObject>? saves = null,
        PublishRequest? request = null) => Context(token, account, host.Link, host.Content.Length, data, saves, request);

    private static PublishContext Context(string token, PlatformAccount account, Uri link, long length, JsonObject? data = null, List<JsonObject>? saves = null,
        PublishRequest? request = null)
    {
        saves ??= [];
        var checkpoint = new UploadCheckpoint(data ?? [], (d, _) =>
        {
            saves.Add((JsonObject)d.DeepClone());
            return Task.CompletedTask;
        });
        var video = new VideoFile("/unused/final.mp4", length, TimeSpan.FromSeconds(4), 270, 480, 30, "h264", "aac", _ => Task.FromResult(link));
        return new PublishContext(token, account, request ?? Request(), video, checkpoint);
    }

    private static PublishRequest Request() =>
        new("Paper boats", "Three paper boats race down a gutter.", ["shorts", "#paper boats"], "public", null, true, false, null);

    /// <summary>Calls PublishAsync as the durable activity does until it is no longer processing.</summary>
    private static async Task<PublishStep> UntilSettledAsync(InstagramClient client, PublishContext context)
    {
        for (var i = 0; i < 100; i++)
        {
            var step = await client.PublishAsync(context, CancellationToken.None);
            if (step is not PublishStep.Processing) return step;
            await Task.Delay(100);
        }
        throw new TimeoutException("The Reel never left processing.");
    }

    private async Task<(InstagramClient Client, TokenGrant Grant, PlatformAccount Account)> ConnectedAsync()
    {
        var client = Client();
        var grant = await ConnectAsync(client);
        return (client, grant, await client.AccountAsync(grant, CancellationToken.None));
    }

    [Fact]
    public async Task ConnectSendsPkceAndExchangesTheCodeForALongLivedToken()
    {
        var client = Client();
        var (verifier, challenge) = Pkce();
        var url = client.AuthorizationUrl("st@te/1", challenge, Redirect);
        var query = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal("/oauth/authorize", url.AbsolutePath);
        Assert.Equal((InstagramSimulator.ClientId, Redirect.ToString(), "code", "S256", challenge),
            (query["client_id"], query["redirect_uri"], query["response_type"], query["code_challenge_method"], query["code_challenge"]));
        Assert.Equal("instagram_business_basic,instagram_business_content_publish,instagram_business_manage_insights", query["scope"]);

        var (code, state, location) = await ConsentAsync(url);
        Assert.Equal("st@te/1", state);
        Assert.Equal(Redirect.GetLeftPart(UriPartial.Path), location.GetLeftPart(UriPartial.Path));
        Assert.Equal("#_", location.Fragment);

        var grant = await client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
        Assert.StartsWith("IGAAL", grant.AccessToken); // the long-lived token, not the hour-long one
        Assert.Equal(grant.AccessToken, grant.RefreshToken);
        Assert.Equal(InstagramSimulator.UserId, grant.PlatformUserId);
        Assert.Equal(client.Scopes, grant.Scopes);
        Assert.InRange(grant.ExpiresAt!.Value - Simulator.Now, TimeSpan.FromDays(59.9), TimeSpan.FromDays(60));
        var exchange = Simulator.Requests.Single(r => r.Path.StartsWith("/access_token?"));
        Assert.Contains("grant_type=ig_exchange_token", exchange.Path);

        var account = await client.AccountAsync(grant, CancellationToken.None);
        Assert.Equal(new PlatformAccount(InstagramSimulator.UserId, InstagramSimulator.AccountName, account.AvatarUrl, InstagramSimulator.Username), account);
        Assert.EndsWith(".svg", account.AvatarUrl);
        // Graph calls carry the token in the header, never in the URL.
        Assert.All(Simulator.Requests.Where(r => r.Path.StartsWith("/v26.0/")), r => Assert.DoesNotContain("access_token", r.Path));
    }

    [Fact]
    public async Task AWrongVerifierAndACodeUsedTwiceAreRefused()
    {
        var client = Client();
        var (verifier, challenge) = Pkce();
        var (code, _, _) = await ConsentAsync(client.AuthorizationUrl("s", challenge, Redirect));

        var wrong = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(code, Pkce().Verifier, Redirect, CancellationToken.None));
        Assert.Equal(("INSTAGRAM_CODE_REJECTED", PublishFailure.Permanent), (wrong.Code, wrong.Failure));
        Assert.Contains("code_verifier", wrong.Message);
        var otherRedirect = await Assert.ThrowsAsync<PublishingException>(() =>
            client.ExchangeCodeAsync(code, verifier, new Uri("https://elsewhere.test/cb"), CancellationToken.None));
        Assert.Contains("redirect_uri", otherRedirect.Message);

        await client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
        var twice = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None));
        Assert.Contains("has been used", twice.Message);
        Assert.DoesNotContain(code, twice.Message);

        var badSecret = await Assert.ThrowsAsync<PublishingException>(async () =>
        {
            var c = Client("not-the-secret");
            var (v, ch) = Pkce();
            var (fresh, _, _) = await ConsentAsync(c.AuthorizationUrl("s", ch, Redirect));
            await c.ExchangeCodeAsync(fresh, v, Redirect, CancellationToken.None);
        });
        Assert.Contains("client secret", badSecret.Message);
    }

    [Fact]
    public async Task TheAuthorizationEndpointInsistsOnS256()
    {
        var url = Client().AuthorizationUrl("s", Pkce().Challenge, Redirect).ToString().Replace("code_challenge_method=S256", "code_challenge_method=plain");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("S256", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task APersonalAccountIsRefusedClearly()
    {
        Simulator.AccountType = "PERSONAL";
        var client = Client();
        var grant = await ConnectAsync(client);
        var error = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None));
        Assert.Equal((InstagramClient.NotProfessionalCode, PublishFailure.Permanent), (error.Code, error.Failure));
        Assert.Contains("professional", error.Message);

        Simulator.AccountType = "MEDIA_CREATOR";
        Assert.Equal(InstagramSimulator.UserId, (await client.AccountAsync(grant, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task RefreshExtendsTheLongLivedTokenOnceADayOldAndAnExpiredOneNeedsReconnecting()
    {
        var client = Client();
        var grant = await ConnectAsync(client);

        var tooEarly = await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None));
        Assert.Equal(PublishFailure.Permanent, tooEarly.Failure);
        Assert.Contains("24 hours", tooEarly.Message);

        Simulator.Advance(TimeSpan.FromDays(2));
        var refreshed = await client.RefreshAsync(grant.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(grant.AccessToken, refreshed.AccessToken);
        Assert.Equal(refreshed.AccessToken, refreshed.RefreshToken);
        Assert.InRange(refreshed.ExpiresAt!.Value - grant.ExpiresAt!.Value, TimeSpan.FromDays(1.9), TimeSpan.FromDays(2.1));
        Assert.Equal(InstagramSimulator.UserId, (await client.AccountAsync(refreshed, CancellationToken.None)).Id);

        // The first token lapses at its own expiry; the refreshed one lives on.
        Simulator.Advance(TimeSpan.FromDays(59));
        var expired = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, expired.Failure);
        var lapsedRefresh = await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, lapsedRefresh.Failure);
        Assert.Equal(InstagramSimulator.UserId, (await client.AccountAsync(refreshed, CancellationToken.None)).Id);
    }

    [Fact]
    public async Task ARevokedGrantNeedsReconnectingEverywhereAndThereIsNoRevokeEndpoint()
    {
        var (client, grant, account) = await ConnectedAsync();
        Assert.False(await client.RevokeAsync(grant, CancellationToken.None));
        await using var host = await HostAsync();
        Simulator.RevokeAllGrants();

        foreach (var call in new Func<Task>[]
        {
            () => client.AccountAsync(grant, CancellationToken.None),
            () => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None),
            () => client.PublishAsync(Context(grant.AccessToken, account, host), CancellationToken.None),
            () => client.StatisticsAsync(grant.AccessToken, account, ["1790"], CancellationToken.None),
        })
        {
            var error = await Assert.ThrowsAsync<PublishingException>(call);
            Assert.Equal(PublishFailure.ReconnectRequired, error.Failure);
            Assert.DoesNotContain(grant.AccessToken, error.Message);
        }
        Assert.Empty(Simulator.Containers);
    }

    [Fact]
    public async Task AReelIsPublishedFromTheLinkWithItsCaptionAndTheContainerSavedFirst()
    {
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        var saves = new List<JsonObject>();
        var context = Context(grant.AccessToken, account, host, saves: saves);

        var step = Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client, context));

        var media = Assert.Single(Simulator.Videos);
        Assert.Equal((media.Id, media.Permalink), (step.VideoId, step.Url));
        Assert.Equal("Three paper boats race down a gutter.\n\n#shorts #paperboats", media.Caption);
        Assert.Equal((InstagramSimulator.UserId, true, (long)host.Content.Length), (media.UserId, media.ShareToFeed, media.BytesReceived));
        Assert.Equal(1, host.Hits);
        Assert.Equal(1, Simulator.PublishCalls);
        var container = Assert.Single(Simulator.Containers);
        Assert.Equal(("PUBLISHED", media.Id, host.Link.ToString()), (container.StatusCode, container.MediaId, container.VideoUrl));

        // The container id was saved before anything else was asked of it; the media id once published.
        Assert.Equal(container.Id, saves[0]["container_id"]!.GetValue<string>());
        Assert.Null(saves[0]["media_id"]);
        Assert.Equal(media.Id, context.Checkpoint.Data["media_id"]!.GetValue<string>());
        using var page = await new HttpClient().GetAsync(step.Url);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);

        // Called again (a replayed activity), it answers the same post and publishes nothing more.
        Assert.Equal(step, await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal((1, 1), (Simulator.PublishCalls, Simulator.Videos.Count));
    }

    [Fact]
    public async Task TheVideoIsFetchedFromAnAzuriteSasLinkOverHttps()
    {
        var azurite = await Azurite.SharedAsync();
        var container = new BlobContainerClient(azurite.ConnectionString, $"ig-{Guid.NewGuid():N}");
        await container.CreateAsync();
        var blob = container.GetBlobClient("renders/final.mp4");
        var bytes = await Mp4.Value;
        await blob.UploadAsync(new BinaryData(bytes));
        var link = blob.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow.AddMinutes(15));
        Assert.Equal("https", link.Scheme);

        var (client, grant, account) = await ConnectedAsync();
        Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client, Context(grant.AccessToken, account, link, bytes.Length)));
        Assert.Equal((long)bytes.Length, Assert.Single(Simulator.Videos).BytesReceived);
        Assert.Equal(link.ToString(), Assert.Single(Simulator.Containers).VideoUrl);
    }

    [Fact]
    public async Task APublishResumesInAnotherClientFromTheCheckpointAndALostPublishAnswerIsNotPublishedTwice()
    {
        Simulator.DownloadDelay = TimeSpan.FromMilliseconds(500);
        var (first, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        var saves = new List<JsonObject>();
        var step = await first.PublishAsync(Context(grant.AccessToken, account, host, saves: saves), CancellationToken.None);
        Assert.IsType<PublishStep.Processing>(step);

        // The worker dies here; another process picks up the row's last saved checkpoint with a client of its own.
        var restored = (JsonObject)saves[^1].DeepClone();
        Simulator.LosePublishAnswers(1);
        var second = Client();
        var context = Context(grant.AccessToken, account, host, restored);
        PublishStep? settled = null;
        for (var i = 0; i < 100 && settled is null; i++)
        {
            try
            {
                var next = await second.PublishAsync(context, CancellationToken.None);
                if (next is PublishStep.Processing) await Task.Delay(100);
                else settled = next;
            }
            catch (PublishingException e) when (e.Failure == PublishFailure.Transient)
            {
                // The publish went through but its answer was lost: the activity retries.
            }
        }

        var published = Assert.IsType<PublishStep.Published>(settled);
        // The lost answer was recovered by finding the media among the account's, not by publishing again.
        Assert.Contains(Simulator.Requests, r => r.Path.StartsWith($"/v26.0/{InstagramSimulator.UserId}/media?fields=id,caption,timestamp"));
        var media = Assert.Single(Simulator.Videos);
        Assert.Equal(media.Id, published.VideoId);
        Assert.Single(Simulator.Containers);
        Assert.Equal(1, Simulator.PublishCalls);
        Assert.Equal(1, host.Hits);
    }

    [Fact]
    public async Task ASpentPublishingLimitIsRefusedNamingTheLimitAndWhenASlotFrees()
    {
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        Simulator.PublishingQuotaTotal = 3;
        var oldest = Simulator.Now - TimeSpan.FromHours(5);
        Simulator.RecordPublishes(1, oldest);
        Simulator.RecordPublishes(2, Simulator.Now - TimeSpan.FromHours(1));

        var error = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(Context(grant.AccessToken, account, host), CancellationToken.None));
        Assert.Equal((InstagramClient.PublishingLimitCode, PublishFailure.Permanent), (error.Code, error.Failure));
        Assert.Contains("3 of the 3 posts", error.Message);
        var frees = DateTimeOffset.Parse(System.Text.RegularExpressions.Regex.Match(error.Message, @"about (\S+ \S+) UTC").Groups[1].Value + "Z",
            System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(frees - (oldest + TimeSpan.FromHours(24)), TimeSpan.FromMinutes(-2), TimeSpan.FromMinutes(15));
        Assert.Empty(Simulator.Containers);
        Assert.Equal(0, host.Hits);

        // Once the oldest post leaves the 24 hours, the Reel goes out.
        Simulator.Advance(TimeSpan.FromHours(19.5));
        Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client, Context(grant.AccessToken, account, host)));
    }

    [Fact]
    public async Task ALimitSpentWhileTheContainerProcessedRefusesThePublish()
    {
        Simulator.DownloadDelay = TimeSpan.FromMilliseconds(300);
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        var context = Context(grant.AccessToken, account, host);
        Assert.IsType<PublishStep.Processing>(await client.PublishAsync(context, CancellationToken.None));
        Simulator.RecordPublishes(100, Simulator.Now);

        var error = await Assert.ThrowsAsync<PublishingException>(() => UntilSettledAsync(client, context));
        Assert.Equal((InstagramClient.PublishingLimitCode, PublishFailure.Permanent), (error.Code, error.Failure));
        Assert.Contains("2207042", error.Message);
        Assert.Empty(Simulator.Videos);
    }

    [Fact]
    public async Task ARateLimitIsRetryLaterAtTheTimeGraphNamesThenThePublishGoesOn()
    {
        Simulator.DownloadDelay = TimeSpan.FromMilliseconds(300);
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        Simulator.CallsPerHour = 3; // /me, the publishing limit, the container: the status check is the fourth
        var context = Context(grant.AccessToken, account, host);

        var wait = Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal(InstagramClient.RateLimitedCode, wait.Code);
        Assert.InRange(wait.At - Simulator.Now, TimeSpan.FromMinutes(58), TimeSpan.FromMinutes(61));
        Assert.NotNull(context.Checkpoint.Data["container_id"]);

        Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None));
        Simulator.Advance(TimeSpan.FromMinutes(61));
        Assert.IsNotType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None));
        Simulator.CallsPerHour = 200;
        Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client, context));
        Assert.Single(Simulator.Containers);
        Assert.Single(Simulator.Videos);
    }

    [Fact]
    public async Task AVideoInstagramCannotFetchOrDecodeFailsTheContainer()
    {
        var (client, grant, account) = await ConnectedAsync();
        await using var missing = await HostAsync();
        missing.Status = HttpStatusCode.NotFound;
        var gone = await Assert.ThrowsAsync<PublishingException>(() => UntilSettledAsync(client, Context(grant.AccessToken, account, missing)));
        Assert.Equal(("INSTAGRAM_CONTAINER_ERROR", PublishFailure.Permanent), (gone.Code, gone.Failure));
        Assert.Contains("HTTP 404", gone.Message);

        await using var notVideo = await HostAsync(Encoding.UTF8.GetBytes(new string('x', 4096)));
        var garbage = await Assert.ThrowsAsync<PublishingException>(() => UntilSettledAsync(client, Context(grant.AccessToken, account, notVideo)));
        Assert.Contains("not an MP4", garbage.Message);

        await using var slowStart = await HostAsync(await DrawAsync([]));
        var noFaststart = await Assert.ThrowsAsync<PublishingException>(() => UntilSettledAsync(client, Context(grant.AccessToken, account, slowStart)));
        Assert.Contains("moov", noFaststart.Message);

        await using var tooShort = await HostAsync(await DrawAsync(["-movflags", "+faststart"], seconds: 2));
        var brief = await Assert.ThrowsAsync<PublishingException>(() => UntilSettledAsync(client, Context(grant.AccessToken, account, tooShort)));
        Assert.Contains("3 s to 15 minutes", brief.Message);
        Assert.Empty(Simulator.Videos);
        Assert.Equal(0, Simulator.PublishCalls);
    }

    [Fact]
    public async Task AContainerLeftUnpublishedForADayExpires()
    {
        Simulator.DownloadDelay = TimeSpan.FromMilliseconds(300);
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        var context = Context(grant.AccessToken, account, host);
        Assert.IsType<PublishStep.Processing>(await client.PublishAsync(context, CancellationToken.None));
        Simulator.Advance(TimeSpan.FromHours(25));
        var error = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(context, CancellationToken.None));
        Assert.Equal(("INSTAGRAM_CONTAINER_EXPIRED", PublishFailure.Permanent), (error.Code, error.Failure));
    }

    [Fact]
    public async Task StatisticsGrowWithTimeSincePublishing()
    {
        var (client, grant, account) = await ConnectedAsync();
        await using var host = await HostAsync();
        var published = Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client, Context(grant.AccessToken, account, host)));

        Simulator.Advance(TimeSpan.FromMinutes(10));
        var early = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, [published.VideoId], CancellationToken.None));
        Assert.Contains(Simulator.Requests, r => r.Path == $"/v26.0/{published.VideoId}/insights?metric=views,likes,comments,shares");
        Assert.InRange(early.Views!.Value, 1200, 1300);
        Assert.Equal((early.Views / 10, early.Views / 50, early.Views / 40), (early.Likes, early.Comments, early.Shares));

        Simulator.Advance(TimeSpan.FromHours(2));
        var later = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, [published.VideoId, "17900000000000404"], CancellationToken.None));
        Assert.True(later.Views > early.Views * 10);
        Assert.Equal(published.VideoId, later.VideoId);
    }

    [Fact]
    public async Task TheSimulatorRefusesRetiredMetricsAndTheAppScopedId()
    {
        var (client, grant, _) = await ConnectedAsync();
        using var http = new HttpClient { BaseAddress = Simulator.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", grant.AccessToken);
        await using var host = await HostAsync();
        var published = Assert.IsType<PublishStep.Published>(await UntilSettledAsync(client,
            Context(grant.AccessToken, await client.AccountAsync(grant, CancellationToken.None), host)));

        using var plays = await http.GetAsync($"v26.0/{published.VideoId}/insights?metric=views,plays");
        Assert.Equal(HttpStatusCode.BadRequest, plays.StatusCode);
        Assert.Contains("metric[1] must be one of", await plays.Content.ReadAsStringAsync());
        using var appScoped = await http.PostAsync($"v26.0/{InstagramSimulator.AppScopedId}/media", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["media_type"] = "REELS", ["video_url"] = host.Link.ToString(),
        }));
        Assert.Equal(HttpStatusCode.BadRequest, appScoped.StatusCode);
        Assert.Contains("\"error_subcode\":33", await appScoped.Content.ReadAsStringAsync());
    }

    [Fact]
    public void ConstraintsOptionsAndSettingsFollowInstagramsReelsRules()
    {
        var client = Client();
        var c = client.Constraints;
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(15), 300_000_000L, 0.01, 10.0, 1920, 60),
            (c.MinDuration, c.MaxDuration, c.MaxBytes, c.MinAspect, c.MaxAspect, c.MaxWidth, c.MaxFrameRate));
        Assert.Equal(["h264", "hevc"], client.Constraints.VideoCodecs);
        Assert.Equal(["aac"], client.Constraints.AudioCodecs);
        // The product's usual render fits.
        Assert.InRange(1080.0 / 1920, client.Constraints.MinAspect, client.Constraints.MaxAspect);
        Assert.Equal(TimeSpan.FromHours(1), client.StatisticsInterval);
        Assert.Equal(Platforms.Instagram, client.Name);
        Assert.Null(client.MissingSetting);
        Assert.Equal(InstagramOptions.ClientSecretSetting, Client(secret: null).MissingSetting);

        var options = InstagramOptions.FromSettings(_ => null);
        Assert.Equal(("https://www.instagram.com/", "https://api.instagram.com/", "https://graph.instagram.com/", "v26.0", (string?)null),
            (options.AuthUrl.ToString(), options.ApiUrl.ToString(), options.GraphUrl.ToString(), options.ApiVersion, options.ClientId));
        var set = InstagramOptions.FromSettings(name => name switch
        {
            "FENTA_INSTAGRAM_CLIENT_ID" => "1", "FENTA_INSTAGRAM_GRAPH_URL" => "http://127.0.0.1:9/graph", "FENTA_INSTAGRAM_API_VERSION" => "v25.0",
            "FENTA_INSTAGRAM_POLL_SECONDS" => "5", _ => null,
        });
        Assert.Equal(("1", "http://127.0.0.1:9/graph/", "v25.0", TimeSpan.FromSeconds(5)), (set.ClientId, set.GraphUrl.ToString(), set.ApiVersion, set.PollInterval));
    }

    [Fact]
    public async Task CreatorOptionsArePublicAndDirect()
    {
        var options = await Client().CreatorOptionsAsync("unused", new PlatformAccount(InstagramSimulator.UserId, "x", null, null), CancellationToken.None);
        Assert.Equal(["public"], options.PrivacyOptions);
        Assert.Equal(["direct"], options.Modes);
        Assert.Equal(TimeSpan.FromMinutes(15), options.MaxDuration);
    }
}
