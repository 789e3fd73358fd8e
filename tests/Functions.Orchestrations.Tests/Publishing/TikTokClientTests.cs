using FentaWeb.Domain.Publishing;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Media;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Integrations.TikTok;
using FentaWeb.Simulators;
using Microsoft.AspNetCore.WebUtilities;

namespace FentaWeb.Orchestrations.Tests.Publishing;

/// <summary>
/// The TikTok adapter against the strict simulator of TikTok's Login Kit and Content Posting API: the connect flow with
/// PKCE, refresh rotation, revoked grants, creator options and the unaudited app's SELF_ONLY rule, direct and draft
/// posts of real MP4s in ordered chunks, an upload interrupted and resumed from the byte TikTok acknowledged, the
/// 6-a-minute init limit and the daily cap as waits, an upload_url that lapsed, and statistics.
/// </summary>
public class TikTokClientTests() : SimulatorTests<TikTokSimulator>(new())
{
    private const long Mb = 1024 * 1024;
    private static readonly Uri Redirect = new("https://app.test/v1/integrations/tiktok/callback");

    private static readonly Lazy<Task<string>> SmallVideo = new(() => MakeVideoAsync("small", ["-f", "lavfi", "-i", "testsrc=size=360x640:rate=30"], []));
    // Noise does not compress: about 26 MB in 3 s, five 5 MB chunks (the last one larger).
    private static readonly Lazy<Task<string>> LargeVideo = new(() => MakeVideoAsync("large",
        ["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=30"], ["-vf", "noise=alls=60:allf=t", "-preset", "ultrafast", "-qp", "14"]));

    private static async Task<string> MakeVideoAsync(string name, string[] video, string[] encoding)
    {
        var path = Path.Combine(Path.GetTempPath(), $"tiktok-test-{name}-{Environment.ProcessId}.mp4");
        await ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "error", .. video, "-f", "lavfi", "-i", "sine=frequency=440", "-t", "3", .. encoding,
            "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", path], "ffmpeg could not make the test video", CancellationToken.None);
        return path;
    }

    private TikTokClient Client(bool audited = false, string? secret = TikTokSimulator.ClientSecret, long chunk = 5 * Mb) =>
        Clients.Get<TikTokClient>(services => services.AddTikTokPublishing(new TikTokOptions(TikTokSimulator.ClientId, secret,
            Simulator.BaseAddress, Simulator.BaseAddress, audited, chunk, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1))));

    private static string Verifier() => TikTokSimulator.Base64Url(RandomNumberGenerator.GetBytes(48));
    private static string Challenge(string verifier) => TikTokSimulator.Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));

    /// <summary>The browser's part: the consent page answers 302 to the redirect URI with the code and the same state.</summary>
    private static async Task<string> ConsentAsync(Uri authorizationUrl, string state)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(Redirect.ToString(), location.ToString());
        var query = QueryHelpers.ParseQuery(location.Query);
        Assert.Equal(state, query["state"].ToString());
        return query["code"].ToString();
    }

    private async Task<TokenGrant> ConnectAsync(TikTokClient client)
    {
        var verifier = Verifier();
        var code = await ConsentAsync(client.AuthorizationUrl("state-1", Challenge(verifier), Redirect), "state-1");
        return await client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
    }

    private static VideoFile Video(string path) => new(path, new FileInfo(path).Length, TimeSpan.FromSeconds(3), 360, 640, 30, "h264", "aac",
        _ => throw new InvalidOperationException("TikTok takes the bytes; it never fetches a link."));

    private static PublishRequest Request(string privacy = "SELF_ONLY", string? mode = null, string description = "Made with FentaWeb.") =>
        new("A paper boat", description, ["shorts", "#boats"], privacy, null, AiGenerated: true, MadeForKids: false, mode);

    /// <summary>A checkpoint kept as the product keeps it: each save is a snapshot of the JSON (what the row would hold).</summary>
    private sealed class Store
    {
        public List<string> Saves { get; } = [];
        public Func<JsonObject, bool>? CancelWhen { get; set; }
        public CancellationTokenSource Cancel { get; } = new();

        public UploadCheckpoint Checkpoint(JsonObject? data = null) => new(data ?? [], (d, _) =>
        {
            Saves.Add(d.ToJsonString());
            if (CancelWhen?.Invoke(d) == true) Cancel.Cancel();
            return Task.CompletedTask;
        });
    }

    private static async Task<PublishStep> UntilDoneAsync(TikTokClient client, PublishContext context)
    {
        for (var i = 0; i < 60; i++)
        {
            var step = await client.PublishAsync(context, CancellationToken.None);
            if (step is not PublishStep.Processing processing) return step;
            await Task.Delay(processing.After < TimeSpan.FromMilliseconds(200) ? processing.After : TimeSpan.FromMilliseconds(200));
        }
        throw new TimeoutException("The post never finished.");
    }

    private async Task<(TikTokClient Client, TokenGrant Grant, PlatformAccount Account)> ConnectedAsync(bool audited = false)
    {
        var client = Client(audited);
        var grant = await ConnectAsync(client);
        return (client, grant, await client.AccountAsync(grant, CancellationToken.None));
    }

    // ---- connect ----

    [Fact]
    public async Task TheConnectFlowUsesPkceAndTheGrantReadsTheAccount()
    {
        var client = Client();
        var verifier = Verifier();
        var url = client.AuthorizationUrl("s-42", Challenge(verifier), Redirect);
        Assert.StartsWith(new Uri(Simulator.BaseAddress, "v2/auth/authorize/").ToString(), url.ToString());
        var query = QueryHelpers.ParseQuery(url.Query);
        Assert.Equal((TikTokSimulator.ClientId, "code", "S256", Challenge(verifier), Redirect.ToString()),
            (query["client_key"].ToString(), query["response_type"].ToString(), query["code_challenge_method"].ToString(), query["code_challenge"].ToString(), query["redirect_uri"].ToString()));
        Assert.Equal("user.info.basic,user.info.profile,video.publish,video.upload,video.list", query["scope"].ToString());

        var code = await ConsentAsync(url, "s-42");
        var grant = await client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
        Assert.StartsWith("act.", grant.AccessToken);
        Assert.StartsWith("rft.", grant.RefreshToken);
        Assert.Equal(TikTokSimulator.OpenId, grant.PlatformUserId);
        Assert.Equal(client.Scopes.Order(), grant.Scopes.Order());
        Assert.InRange(grant.ExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(119), TimeSpan.FromMinutes(121));
        Assert.InRange(grant.RefreshExpiresAt!.Value - DateTimeOffset.UtcNow, TimeSpan.FromDays(179), TimeSpan.FromDays(181));
        var sent = Simulator.Requests.Last(r => r.Path == "/v2/oauth/token/");
        Assert.Null(sent.Authorization);

        var account = await client.AccountAsync(grant, CancellationToken.None);
        Assert.Equal((TikTokSimulator.OpenId, "Fenta Simulator", "fenta.sim"), (account.Id, account.Name, account.Handle));
        Assert.EndsWith($"/avatars/{TikTokSimulator.OpenId}.jpg", account.AvatarUrl);
    }

    [Fact]
    public async Task AWrongVerifierBurnsTheCodeAndACodeUsedTwiceIsRefusedAndRevokesItsGrant()
    {
        var client = Client();
        var verifier = Verifier();
        var code = await ConsentAsync(client.AuthorizationUrl("s", Challenge(verifier), Redirect), "s");
        var wrong = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(code, Verifier(), Redirect, CancellationToken.None));
        Assert.Equal(("TIKTOK_GRANT_INVALID", PublishFailure.ReconnectRequired), (wrong.Code, wrong.Failure));
        Assert.DoesNotContain(code, wrong.Message);
        // A code is single-use even when the first try failed.
        await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None));

        var second = Verifier();
        var code2 = await ConsentAsync(client.AuthorizationUrl("t", Challenge(second), Redirect), "t");
        var grant = await client.ExchangeCodeAsync(code2, second, Redirect, CancellationToken.None);
        var reused = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(code2, second, Redirect, CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, reused.Failure);
        var revoked = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None));
        Assert.Equal(("TIKTOK_ACCESS_TOKEN_INVALID", PublishFailure.ReconnectRequired), (revoked.Code, revoked.Failure));
    }

    [Fact]
    public async Task TheConsentPageRefusesAPlainChallengeAndAnUnknownClient()
    {
        var client = Client();
        var url = client.AuthorizationUrl("s", Challenge(Verifier()), Redirect).ToString().Replace("code_challenge_method=S256", "code_challenge_method=plain");
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var plain = await browser.GetAsync(url);
        Assert.Equal(HttpStatusCode.Redirect, plain.StatusCode);
        Assert.Equal("invalid_request", QueryHelpers.ParseQuery(plain.Headers.Location!.Query)["error"].ToString());
        using var unknown = await browser.GetAsync(url.Replace(TikTokSimulator.ClientId, "someone-else"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task ARefreshRotatesTheRefreshTokenAndTheSpentOneIsRefused()
    {
        var client = Client();
        var grant = await ConnectAsync(client);
        var renewed = await client.RefreshAsync(grant.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(grant.RefreshToken, renewed.RefreshToken);
        Assert.NotEqual(grant.AccessToken, renewed.AccessToken);
        Assert.Equal(TikTokSimulator.OpenId, (await client.AccountAsync(renewed, CancellationToken.None)).Id);

        var spent = await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None));
        Assert.Equal(("TIKTOK_GRANT_INVALID", PublishFailure.ReconnectRequired), (spent.Code, spent.Failure));
        Assert.DoesNotContain(grant.RefreshToken!, spent.Message);
        // The new one still works once.
        Assert.NotNull((await client.RefreshAsync(renewed.RefreshToken!, CancellationToken.None)).RefreshToken);
    }

    [Fact]
    public async Task ARevokedGrantNeedsTheAccountConnectedAgain()
    {
        var (client, grant, account) = await ConnectedAsync();
        var small = await SmallVideo.Value;
        Simulator.RevokeAllGrants();
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None))).Failure);
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None))).Failure);
        var publish = await Assert.ThrowsAsync<PublishingException>(() =>
            client.PublishAsync(new PublishContext(grant.AccessToken, account, Request(), Video(small), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, publish.Failure);
        Assert.Empty(Simulator.Sessions);
    }

    [Fact]
    public async Task RevokingAtTikTokEndsTheGrant()
    {
        var (client, grant, _) = await ConnectedAsync();
        Assert.True(await client.RevokeAsync(grant, CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None))).Failure);
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None))).Failure);
    }

    [Fact]
    public async Task AScopeThePersonWithheldIsAReconnect()
    {
        Simulator.WithheldScopes.Add("video.publish");
        var (client, grant, account) = await ConnectedAsync();
        Assert.DoesNotContain("video.publish", grant.Scopes);
        var path = await SmallVideo.Value;
        var error = await Assert.ThrowsAsync<PublishingException>(() =>
            client.PublishAsync(new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal(("TIKTOK_SCOPE_MISSING", PublishFailure.ReconnectRequired), (error.Code, error.Failure));
    }

    // ---- creator options ----

    [Fact]
    public async Task AnUnauditedAppOffersOnlySelfOnlyAndSaysWhy()
    {
        Simulator.CommentDisabled = true;
        Simulator.MaxVideoPostDurationSec = 180;
        var (client, grant, account) = await ConnectedAsync();
        var options = await client.CreatorOptionsAsync(grant.AccessToken, account, CancellationToken.None);
        Assert.Equal(["SELF_ONLY"], options.PrivacyOptions);
        Assert.Contains("FENTA_TIKTOK_AUDITED", options.Notice);
        Assert.Equal((TimeSpan.FromMinutes(3), true, false), (options.MaxDuration, options.CommentsDisabled, options.DuetDisabled));
        Assert.Equal(["direct", "draft"], options.Modes);

        var audited = await Client(audited: true).CreatorOptionsAsync(grant.AccessToken, account, CancellationToken.None);
        Assert.Equal(Simulator.PrivacyLevelOptions, audited.PrivacyOptions);
        Assert.Null(audited.Notice);
    }

    [Fact]
    public async Task AnUnauditedAppIsRefusedAPublicPostAndAnAuditedOneMakesIt()
    {
        var (client, grant, account) = await ConnectedAsync();
        var small = await SmallVideo.Value;
        var refused = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(
            new PublishContext(grant.AccessToken, account, Request("PUBLIC_TO_EVERYONE"), Video(small), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal(("TIKTOK_UNAUDITED_APP", PublishFailure.Permanent), (refused.Code, refused.Failure));
        Assert.Empty(Simulator.Sessions);

        Simulator.Audited = true;
        var published = Assert.IsType<PublishStep.Published>(await UntilDoneAsync(Client(audited: true),
            new PublishContext(grant.AccessToken, account, Request("PUBLIC_TO_EVERYONE"), Video(await SmallVideo.Value), new Store().Checkpoint())));
        Assert.Equal("PUBLIC_TO_EVERYONE", Simulator.Videos[published.VideoId].PrivacyLevel);
    }

    [Fact]
    public async Task APrivacyLevelOrALengthTheCreatorDoesNotAllowIsRefusedBeforeAnyUpload()
    {
        Simulator.PrivacyLevelOptions = ["SELF_ONLY"];
        Simulator.MaxVideoPostDurationSec = 2;
        var (client, grant, account) = await ConnectedAsync();
        var small = await SmallVideo.Value;
        var tooLong = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(
            new PublishContext(grant.AccessToken, account, Request(), Video(small), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal(("TIKTOK_TOO_LONG", PublishFailure.Permanent), (tooLong.Code, tooLong.Failure));
        var privacy = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(
            new PublishContext(grant.AccessToken, account, Request("MUTUAL_FOLLOW_FRIENDS"), Video(small), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal("TIKTOK_PRIVACY_NOT_OFFERED", privacy.Code);
        Assert.Empty(Simulator.Sessions);
    }

    // ---- publishing ----

    [Fact]
    public async Task ASmallVideoIsPostedWholeWithItsCaptionPrivacyAndAiDisclosure()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await SmallVideo.Value;
        var store = new Store();
        var context = new PublishContext(grant.AccessToken, account, Request(), Video(path), store.Checkpoint());
        var published = Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client, context));

        var video = Assert.Single(Simulator.Videos.Values);
        Assert.Equal(published.VideoId, video.Id);
        Assert.Equal(new Uri(Simulator.BaseAddress, $"@fenta.sim/video/{video.Id}").ToString(), published.Url);
        Assert.Equal(("direct", "SELF_ONLY", true), (video.Mode, video.PrivacyLevel, video.IsAigc));
        Assert.Equal("A paper boat\n\nMade with FentaWeb.\n\n#shorts #boats", video.Title);
        Assert.Equal(await File.ReadAllBytesAsync(path), video.Content);
        var session = Assert.Single(Simulator.Sessions.Values);
        Assert.Equal((video.Bytes, 1), (session.ChunkSize, session.TotalChunks));
        var chunk = Assert.Single(session.Chunks);
        Assert.Equal((0L, video.Bytes - 1), (chunk.First, chunk.Last));
        // creator_info came first, then the init; the publish_id was saved before the bytes went.
        var paths = Simulator.Requests.Select(r => r.Path).ToList();
        Assert.True(paths.IndexOf("/v2/post/publish/creator_info/query/") < paths.IndexOf("/v2/post/publish/video/init/"));
        Assert.Contains(session.PublishId, store.Saves[0]);
        Assert.DoesNotContain("\"acked_bytes\":" + video.Bytes, store.Saves[0]);

        // Called again (a retried activity), it answers the same post and starts nothing.
        var again = Assert.IsType<PublishStep.Published>(await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal(published, again);
        Assert.Single(Simulator.Sessions);
        using var page = await new HttpClient().GetAsync(published.Url);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task ADraftGoesToTheInboxAndAnswersThePublishId()
    {
        var (client, grant, account) = await ConnectedAsync();
        var published = Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client,
            new PublishContext(grant.AccessToken, account, Request(mode: "draft"), Video(await SmallVideo.Value), new Store().Checkpoint())));
        var session = Assert.Single(Simulator.Sessions.Values);
        Assert.Equal((session.PublishId, "draft"), (published.VideoId, session.Mode));
        Assert.Equal(new Uri(Simulator.BaseAddress, "@fenta.sim").ToString(), published.Url);
        var init = Simulator.Requests.Single(r => r.Path == "/v2/post/publish/inbox/video/init/");
        Assert.False(init.Body!.Value.TryGetProperty("post_info", out _));
        Assert.DoesNotContain(Simulator.Requests, r => r.Path == "/v2/post/publish/video/init/");
    }

    [Fact]
    public async Task AnInterruptedUploadResumesFromTheAcknowledgedChunkAndPostsOnce()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await LargeVideo.Value;
        var length = new FileInfo(path).Length;
        var store = new Store { CancelWhen = d => d["acked_bytes"]?.GetValue<long>() == 2 * 5 * Mb };
        var first = new PublishContext(grant.AccessToken, account, Request(), Video(path), store.Checkpoint());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PublishAsync(first, store.Cancel.Token));

        var session = Assert.Single(Simulator.Sessions.Values);
        Assert.Equal(2, session.Chunks.Count);
        var stoppedAt = DateTimeOffset.UtcNow;

        // Another worker, from the row as last saved.
        var saved = (JsonObject)JsonNode.Parse(store.Saves[^1])!;
        var resumed = Assert.IsType<PublishStep.Published>(await UntilDoneAsync(Client(),
            new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint(saved))));

        Assert.Single(Simulator.Sessions);
        var video = Assert.Single(Simulator.Videos.Values);
        Assert.Equal(resumed.VideoId, video.Id);
        Assert.Equal(await File.ReadAllBytesAsync(path), video.Content);
        var chunks = session.Chunks.ToList();
        Assert.Equal(Enumerable.Range(0, (int)(length / (5 * Mb))), chunks.Select(c => c.Index));
        Assert.Equal(10 * Mb, chunks[2].First);
        Assert.True(chunks[2].At >= stoppedAt);
        Assert.Equal(length - 1, chunks[^1].Last);
    }

    [Fact]
    public async Task AResumeTrustsTheBytesTikTokReportsOverAStaleCheckpoint()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await LargeVideo.Value;
        var store = new Store { CancelWhen = d => d["acked_bytes"]?.GetValue<long>() == 2 * 5 * Mb };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.PublishAsync(new PublishContext(grant.AccessToken, account, Request(), Video(path), store.Checkpoint()), store.Cancel.Token));

        // The save after chunk 2 was lost: the row says one chunk, TikTok has two.
        var stale = (JsonObject)JsonNode.Parse(store.Saves.Single(s => s.Contains($"\"acked_bytes\":{5 * Mb}")))!;
        Assert.IsType<PublishStep.Published>(await UntilDoneAsync(Client(),
            new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint(stale))));
        var session = Assert.Single(Simulator.Sessions.Values);
        Assert.Equal(Enumerable.Range(0, session.TotalChunks), session.Chunks.Select(c => c.Index));
        Assert.Equal(await File.ReadAllBytesAsync(path), Assert.Single(Simulator.Videos.Values).Content);
    }

    [Fact]
    public async Task AnUploadUrlThatLapsedStartsAgainWithoutASecondPost()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await LargeVideo.Value;
        var store = new Store { CancelWhen = d => d["acked_bytes"]?.GetValue<long>() == 5 * Mb };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            client.PublishAsync(new PublishContext(grant.AccessToken, account, Request(), Video(path), store.Checkpoint()), store.Cancel.Token));
        Simulator.UploadUrlLifetime = TimeSpan.FromMilliseconds(1);
        await Task.Delay(50);
        var resume = new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint((JsonObject)JsonNode.Parse(store.Saves[^1])!));
        var lapsed = Assert.IsType<PublishStep.Processing>(await client.PublishAsync(resume, CancellationToken.None));
        Assert.Contains("expired", lapsed.Phase);

        Simulator.UploadUrlLifetime = TimeSpan.FromHours(1);
        Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client, resume));
        Assert.Equal(2, Simulator.Sessions.Count);
        var video = Assert.Single(Simulator.Videos.Values);
        Assert.Equal(await File.ReadAllBytesAsync(path), video.Content);
    }

    [Fact]
    public async Task TheSeventhInitInAMinuteWaitsInsteadOfFailing()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await SmallVideo.Value;
        for (var i = 0; i < 6; i++)
            Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client,
                new PublishContext(grant.AccessToken, account, Request(mode: i % 2 == 0 ? "draft" : null), Video(path), new Store().Checkpoint())));
        var store = new Store();
        var seventh = Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(
            new PublishContext(grant.AccessToken, account, Request(), Video(path), store.Checkpoint()), CancellationToken.None));
        Assert.Equal("TIKTOK_RATE_LIMITED", seventh.Code);
        Assert.InRange(seventh.At - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2));
        Assert.Equal((6, 1), (Simulator.Sessions.Count, Simulator.RateLimitedInits));
        Assert.Empty(store.Saves);
    }

    [Fact]
    public async Task TheDailyPostCapWaitsInsteadOfFailing()
    {
        Simulator.DailyPostLimit = 1;
        var (client, grant, account) = await ConnectedAsync();
        var path = await SmallVideo.Value;
        Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client, new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint())));
        var capped = Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(
            new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint()), CancellationToken.None));
        Assert.Equal("TIKTOK_POSTING_LIMIT", capped.Code);
        Assert.Single(Simulator.Videos);
    }

    [Fact]
    public async Task AFileThatIsNotAVideoFailsAtTikToksCheck()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = Path.Combine(Path.GetTempPath(), $"tiktok-not-video-{Guid.NewGuid():N}.mp4");
        await File.WriteAllBytesAsync(path, RandomNumberGenerator.GetBytes(4096));
        try
        {
            var error = await Assert.ThrowsAsync<PublishingException>(() =>
                UntilDoneAsync(client, new PublishContext(grant.AccessToken, account, Request(), Video(path), new Store().Checkpoint())));
            Assert.Equal(("TIKTOK_PUBLISH_FAILED", PublishFailure.Permanent), (error.Code, error.Failure));
            Assert.Contains("file_format_check_failed", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task TheSimulatorRefusesChunksOutOfOrderAndSizesAgainstTheRules()
    {
        var (_, grant, _) = await ConnectedAsync();
        using var http = new HttpClient { BaseAddress = Simulator.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", grant.AccessToken);
        var size = 12 * Mb;
        using var bad = await http.PostAsync("v2/post/publish/inbox/video/init/", new StringContent(
            $$$"""{"source_info":{"source":"FILE_UPLOAD","video_size":{{{size}}},"chunk_size":{{{4 * Mb}}},"total_chunk_count":3}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("invalid_params", await bad.Content.ReadAsStringAsync());

        using var init = await http.PostAsync("v2/post/publish/inbox/video/init/", new StringContent(
            $$$"""{"source_info":{"source":"FILE_UPLOAD","video_size":{{{size}}},"chunk_size":{{{5 * Mb}}},"total_chunk_count":2}}""", Encoding.UTF8, "application/json"));
        var uploadUrl = JsonNode.Parse(await init.Content.ReadAsStringAsync())!["data"]!["upload_url"]!.GetValue<string>();
        HttpRequestMessage Put(long first, long last)
        {
            var put = new HttpRequestMessage(HttpMethod.Put, uploadUrl) { Content = new ByteArrayContent(new byte[last - first + 1]) };
            put.Content.Headers.ContentType = new("video/mp4");
            put.Content.Headers.ContentRange = new(first, last, size);
            return put;
        }
        using var outOfOrder = await http.SendAsync(Put(5 * Mb, size - 1));
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, outOfOrder.StatusCode);
        using var firstChunk = await http.SendAsync(Put(0, 5 * Mb - 1));
        Assert.Equal(HttpStatusCode.PartialContent, firstChunk.StatusCode);
        using var last = await http.SendAsync(Put(5 * Mb, size - 1));
        Assert.Equal(HttpStatusCode.Created, last.StatusCode);
    }

    // ---- rules, constraints, settings ----

    [Theory]
    [InlineData(1_000, 10)]
    [InlineData(4 * Mb + 5, 10)]
    [InlineData(7 * Mb, 10)]
    [InlineData(12 * Mb, 10)]
    [InlineData(26 * Mb + 3, 5)]
    [InlineData(200 * Mb + 1, 64)]
    [InlineData(3_900 * Mb, 10)]
    public void TheChunkingKeepsTikToksRules(long size, long chunkMb)
    {
        var (chunk, count) = TikTokClient.Chunking(size, chunkMb * Mb);
        Assert.Null(TikTokSimulator.ChunkRuleBroken(size, chunk, count));
        Assert.True(size - (count - 1) * chunk >= chunk || count == 1);
    }

    [Fact]
    public void TheSimulatorsChunkRulesRefuseWhatTikTokRefuses()
    {
        Assert.NotNull(TikTokSimulator.ChunkRuleBroken(3 * Mb, 1 * Mb, 3));   // under 5 MB: whole
        Assert.NotNull(TikTokSimulator.ChunkRuleBroken(80 * Mb, 80 * Mb, 1)); // over 64 MB: chunks
        Assert.NotNull(TikTokSimulator.ChunkRuleBroken(20 * Mb, 4 * Mb, 5));  // under 5 MB chunks
        Assert.NotNull(TikTokSimulator.ChunkRuleBroken(26 * Mb, 5 * Mb, 6));  // count rounded up
        Assert.NotNull(TikTokSimulator.ChunkRuleBroken(200 * Mb, 64 * Mb, 1)); // last chunk over 128 MB
    }

    [Fact]
    public void TheCaptionKeepsTheHashtagsWithin2200Characters()
    {
        var caption = TikTokClient.Caption(Request(description: new string('x', 5000)));
        Assert.Equal(TikTokClient.MaxCaption, caption.Length);
        Assert.StartsWith("A paper boat\n\nxxx", caption);
        Assert.EndsWith("…\n\n#shorts #boats", caption);
    }

    [Fact]
    public void TheConstraintsAreTikToksAndTheProductsRenderFits()
    {
        var constraints = Client().Constraints;
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(10), 4L * 1024 * Mb), (constraints.MinDuration, constraints.MaxDuration, constraints.MaxBytes));
        Assert.InRange(1080.0 / 1920, constraints.MinAspect, constraints.MaxAspect);
        Assert.InRange(1920.0 / 1080, constraints.MinAspect, constraints.MaxAspect);
        Assert.Contains("h264", constraints.VideoCodecs);
        Assert.Contains("aac", constraints.AudioCodecs);
        Assert.Equal((4096, 60), (constraints.MaxWidth, constraints.MaxFrameRate));
        Assert.Equal(TimeSpan.FromHours(1), Client().StatisticsInterval);
    }

    [Fact]
    public void TheSettingsNameWhatIsMissingAndDefaultToTikToksHosts()
    {
        var none = TikTokOptions.FromSettings(_ => null);
        Assert.Equal((new Uri("https://www.tiktok.com/"), new Uri("https://open.tiktokapis.com/"), false, 10 * Mb),
            (none.AuthUrl, none.ApiUrl, none.Audited, none.ChunkBytes));
        Assert.Equal("FENTA_TIKTOK_CLIENT_ID", new TikTokClient(new HttpClient(), new HttpClient(), none).MissingSetting);
        Assert.Equal("FENTA_TIKTOK_CLIENT_SECRET", Client(secret: null).MissingSetting);
        Assert.Null(Client().MissingSetting);
        Assert.Equal(Platforms.TikTok, Client().Name);

        var set = new Dictionary<string, string> { ["FENTA_TIKTOK_CLIENT_ID"] = "k", ["FENTA_TIKTOK_CLIENT_SECRET"] = "s", ["FENTA_TIKTOK_AUDITED"] = "true", ["FENTA_TIKTOK_CHUNK_MB"] = "100", ["FENTA_TIKTOK_API_URL"] = "http://127.0.0.1:9/" };
        var options = TikTokOptions.FromSettings(set.GetValueOrDefault);
        Assert.Equal(("k", "s", true, 64 * Mb, new Uri("http://127.0.0.1:9/")), (options.ClientId, options.ClientSecret, options.Audited, options.ChunkBytes, options.ApiUrl));
        var unconfigured = Assert.Throws<PublishingException>(() => new TikTokClient(new HttpClient(), new HttpClient(), none).AuthorizationUrl("s", "c", Redirect));
        Assert.Contains("FENTA_TIKTOK_CLIENT_ID", unconfigured.Message);
    }

    [Fact]
    public async Task TheAdapterIsRegisteredAsAPublishingPlatform()
    {
        var platforms = Clients.Get<IEnumerable<IPublishingPlatform>>(services =>
            services.AddTikTokPublishing(TikTokOptions.FromSettings(_ => null)));
        Assert.Equal(Platforms.TikTok, Assert.Single(platforms).Name);
        await Task.CompletedTask;
    }

    // ---- statistics ----

    [Fact]
    public async Task StatisticsGrowWithTimeAndAreReadTwentyIdsAtATime()
    {
        Simulator.ViewsPerSecond = 200;
        var (client, grant, account) = await ConnectedAsync();
        var published = Assert.IsType<PublishStep.Published>(await UntilDoneAsync(client,
            new PublishContext(grant.AccessToken, account, Request(), Video(await SmallVideo.Value), new Store().Checkpoint())));
        var ids = Enumerable.Range(0, 24).Select(i => $"7000000000000000{i:00}").Append(published.VideoId).ToList();

        var before = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, ids, CancellationToken.None));
        Assert.Equal(2, Simulator.Requests.Count(r => r.Path.StartsWith("/v2/video/query/")));
        Assert.True(Simulator.Requests.Where(r => r.Path.StartsWith("/v2/video/query/")).All(r => r.Body!.Value.GetProperty("filters").GetProperty("video_ids").GetArrayLength() <= 20));
        await Task.Delay(1100);
        var after = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, [published.VideoId], CancellationToken.None));
        Assert.Equal(published.VideoId, after.VideoId);
        Assert.True(after.Views > before.Views, $"{after.Views} > {before.Views}");
        Assert.True(after.Likes >= before.Likes && after.Likes > 0);
        Assert.NotNull(after.Comments);
        Assert.NotNull(after.Shares);
    }

    [Fact]
    public async Task StatisticsNeedTheVideoListScope()
    {
        Simulator.WithheldScopes.Add("video.list");
        var (client, grant, account) = await ConnectedAsync();
        var error = await Assert.ThrowsAsync<PublishingException>(() => client.StatisticsAsync(grant.AccessToken, account, ["1"], CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, error.Failure);
    }
}
