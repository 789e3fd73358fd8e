using FentaWeb.Domain.Publishing;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Integrations.YouTube;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests.Publishing;

/// <summary>The YouTube adapter against the simulator of Google's OAuth and the YouTube Data API: connect, refresh, revoke, the resumable upload (interrupted and resumed), quota, statistics.</summary>
public class YouTubeClientTests() : SimulatorTests<YouTubeSimulator>(new() { ProcessingTime = TimeSpan.FromMilliseconds(300) })
{
    private const int Chunk = YouTubeOptions.ChunkUnit;
    private static readonly Uri Redirect = new("https://app.example.test/v1/integrations/youtube/callback");
    private static readonly Lazy<Task<string>> Mp4 = new(() => MakeVideoAsync("yt-test.mp4", "540x960", valid: true));

    private YouTubeOptions Options(string? clientId = YouTubeSimulator.ClientId, string? secret = YouTubeSimulator.ClientSecret, int chunk = Chunk)
    {
        var settings = Simulator.Settings().ToDictionary(s => s.Key, s => (string?)s.Value);
        settings["FENTA_YOUTUBE_CLIENT_ID"] = clientId;
        settings["FENTA_YOUTUBE_CLIENT_SECRET"] = secret;
        settings["FENTA_YOUTUBE_CHUNK_BYTES"] = chunk.ToString();
        return YouTubeOptions.FromSettings(name => settings.GetValueOrDefault(name));
    }

    /// <summary>A fresh client: as a new worker process would have it (nothing shared but the checkpoint).</summary>
    private YouTubeClient Client(YouTubeOptions? options = null) => Clients.Get<YouTubeClient>(services => services.AddYouTubePublishing(options ?? Options()));

    private static async Task<string> MakeVideoAsync(string name, string size, bool valid)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}-{name}");
        if (!valid)
        {
            await File.WriteAllBytesAsync(path, RandomNumberGenerator.GetBytes(3 * Chunk + 1000));
            return path;
        }
        using var ffmpeg = Process.Start("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", $"testsrc2=size={size}:rate=30", "-f", "lavfi", "-i", "sine",
            "-t", "3", "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path])!;
        await ffmpeg.WaitForExitAsync();
        Assert.Equal(0, ffmpeg.ExitCode);
        return path;
    }

    private static VideoFile File_(string path, int width = 540, int height = 960) =>
        new(path, new FileInfo(path).Length, TimeSpan.FromSeconds(3), width, height, 30, "h264", "aac", _ => throw new InvalidOperationException("YouTube takes the bytes"));

    private static (string Verifier, string Challenge) Pkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The browser's side of consent: follows nothing, returns the redirect's query.</summary>
    private static async Task<(HttpStatusCode Status, Dictionary<string, string> Query)> ConsentAsync(Uri authorizationUrl)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var response = await browser.GetAsync(authorizationUrl);
        if (response.StatusCode != HttpStatusCode.Redirect) return (response.StatusCode, []);
        var location = response.Headers.Location!;
        Assert.StartsWith(Redirect.ToString(), location.ToString());
        return (response.StatusCode, location.Query.TrimStart('?').Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => p[0], p => Uri.UnescapeDataString(p[1])));
    }

    private async Task<TokenGrant> ConnectAsync(YouTubeClient? client = null)
    {
        client ??= Client();
        var (verifier, challenge) = Pkce();
        var (_, query) = await ConsentAsync(client.AuthorizationUrl("state-1", challenge, Redirect));
        return await client.ExchangeCodeAsync(query["code"], verifier, Redirect, CancellationToken.None);
    }

    private sealed class Saved
    {
        public List<string> Snapshots { get; } = [];
        public Action<JsonObject>? OnSave { get; set; }
        public JsonObject Last => JsonNode.Parse(Snapshots[^1])!.AsObject();
    }

    /// <summary>A checkpoint whose every save is recorded (as the row would hold it).</summary>
    private static UploadCheckpoint Checkpoint(Saved saved, JsonObject? data = null) => new(data ?? [], (d, _) =>
    {
        saved.Snapshots.Add(d.ToJsonString());
        saved.OnSave?.Invoke(d);
        return Task.CompletedTask;
    });

    private static PublishRequest Request(string title = "A paper boat", string privacy = "public", DateTimeOffset? publishAt = null) =>
        new(title, "Folded and floated.", ["boats", "#origami", "paper craft"], privacy, publishAt, AiGenerated: true, MadeForKids: false, Mode: null);

    private static async Task<PublishStep> PublishToEndAsync(YouTubeClient client, PublishContext context)
    {
        for (var i = 0; i < 50; i++)
        {
            var step = await client.PublishAsync(context, CancellationToken.None);
            if (step is not PublishStep.Processing processing) return step;
            Assert.Equal("processing", processing.Phase);
            await Task.Delay(100);
        }
        throw new TimeoutException("the video never finished processing");
    }

    private async Task<(YouTubeClient Client, TokenGrant Grant, PlatformAccount Account)> ConnectedAsync()
    {
        var client = Client();
        var grant = await ConnectAsync(client);
        return (client, grant, await client.AccountAsync(grant, CancellationToken.None));
    }

    [Fact]
    public async Task ConnectSendsPkceAndExchangesTheCodeOnceWithTheRightVerifier()
    {
        var client = Client();
        var (verifier, challenge) = Pkce();
        var url = client.AuthorizationUrl("st@te/1", challenge, Redirect);
        Assert.Equal("/o/oauth2/v2/auth", url.AbsolutePath);
        var sent = System.Web.HttpUtility.ParseQueryString(url.Query);
        Assert.Equal((YouTubeSimulator.ClientId, "code", "S256", challenge, "offline", "consent", "true"),
            (sent["client_id"], sent["response_type"], sent["code_challenge_method"], sent["code_challenge"], sent["access_type"], sent["prompt"], sent["include_granted_scopes"]));
        Assert.Equal([YouTubeSimulator.UploadScope, YouTubeSimulator.ReadonlyScope], sent["scope"]!.Split(' '));

        var (status, query) = await ConsentAsync(url);
        Assert.Equal((HttpStatusCode.Redirect, "st@te/1"), (status, query["state"]));

        var wrong = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(query["code"], Pkce().Verifier, Redirect, CancellationToken.None));
        Assert.Equal(("YOUTUBE_AUTHORIZATION_FAILED", PublishFailure.Permanent), (wrong.Code, wrong.Failure));
        Assert.Contains("Invalid code verifier", wrong.Message);
        var otherRedirect = await Assert.ThrowsAsync<PublishingException>(() =>
            client.ExchangeCodeAsync(query["code"], verifier, new Uri("https://elsewhere.test/cb"), CancellationToken.None));
        Assert.Contains("redirect_uri_mismatch", otherRedirect.Message);

        var grant = await client.ExchangeCodeAsync(query["code"], verifier, Redirect, CancellationToken.None);
        Assert.StartsWith("ya29.", grant.AccessToken);
        Assert.NotNull(grant.RefreshToken);
        Assert.InRange(grant.ExpiresAt!.Value, DateTimeOffset.UtcNow.AddMinutes(58), DateTimeOffset.UtcNow.AddMinutes(61));
        Assert.Equal([YouTubeSimulator.UploadScope, YouTubeSimulator.ReadonlyScope], grant.Scopes);
        var tokenRequest = Simulator.Requests.Last(r => r.Path == "/token");
        Assert.Null(tokenRequest.Body); // a form, not JSON

        var reused = await Assert.ThrowsAsync<PublishingException>(() => client.ExchangeCodeAsync(query["code"], verifier, Redirect, CancellationToken.None));
        Assert.Equal("YOUTUBE_AUTHORIZATION_FAILED", reused.Code);
        Assert.DoesNotContain(query["code"], reused.Message);

        var account = await client.AccountAsync(grant, CancellationToken.None);
        var channel = Simulator.ChannelOf(YouTubeSimulator.DefaultAccount);
        Assert.Equal((channel.Id, channel.Title, channel.Handle), (account.Id, account.Name, account.Handle));
        Assert.EndsWith($"/avatars/{channel.Id}.png", account.AvatarUrl);
    }

    [Fact]
    public async Task ConsentRefusesWhatGoogleRefuses()
    {
        var (_, challenge) = Pkce();
        var url = Client().AuthorizationUrl("s", challenge, Redirect).ToString();
        Assert.Equal(HttpStatusCode.BadRequest, (await ConsentAsync(new Uri(url.Replace("code_challenge_method=S256", "code_challenge_method=plain")))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ConsentAsync(new Uri(url.Replace("youtube.readonly", "youtube.nonsense")))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ConsentAsync(Client(Options(clientId: "someone-else")).AuthorizationUrl("s", challenge, Redirect))).Status);
        Simulator.RegisteredRedirectUris.Add("https://app.example.test/other");
        Assert.Equal(HttpStatusCode.BadRequest, (await ConsentAsync(new Uri(url))).Status);
        Simulator.RegisteredRedirectUris.Clear();

        Simulator.DenyConsent = true;
        var (status, query) = await ConsentAsync(new Uri(url));
        Assert.Equal((HttpStatusCode.Redirect, "access_denied", "s"), (status, query["error"], query["state"]));
        Assert.False(query.ContainsKey("code"));

        Simulator.DenyConsent = false;
        var wrongSecret = await Assert.ThrowsAsync<PublishingException>(() => ConnectAsync(Client(Options(secret: "nope"))));
        Assert.Equal(("YOUTUBE_CLIENT_REJECTED", PublishFailure.Permanent), (wrongSecret.Code, wrongSecret.Failure));
    }

    [Fact]
    public async Task ARefreshKeepsTheRefreshTokenAndARevokedGrantNeedsAReconnect()
    {
        var client = Client();
        var grant = await ConnectAsync(client);
        var refreshed = await client.RefreshAsync(grant.RefreshToken!, CancellationToken.None);
        Assert.NotEqual(grant.AccessToken, refreshed.AccessToken);
        Assert.Equal(grant.RefreshToken, refreshed.RefreshToken); // Google does not rotate it
        Assert.NotNull(await client.AccountAsync(refreshed, CancellationToken.None));
        // The same refresh token works again (no rotation, no reuse detection).
        await client.RefreshAsync(grant.RefreshToken!, CancellationToken.None);

        Simulator.ExpireAccessTokens();
        var expired = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(refreshed, CancellationToken.None));
        Assert.Equal(("YOUTUBE_UNAUTHORIZED", PublishFailure.ReconnectRequired), (expired.Code, expired.Failure));
        var fresh = await client.RefreshAsync(grant.RefreshToken!, CancellationToken.None);

        Simulator.RevokeAllGrants();
        var revoked = await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None));
        Assert.Equal(("YOUTUBE_GRANT_REVOKED", PublishFailure.ReconnectRequired), (revoked.Code, revoked.Failure));
        Assert.DoesNotContain(grant.RefreshToken!, revoked.Message);
        var refused = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(fresh, CancellationToken.None));
        Assert.Equal(PublishFailure.ReconnectRequired, refused.Failure);
    }

    [Fact]
    public async Task RevokingEndsTheGrantAtGoogle()
    {
        var client = Client();
        var grant = await ConnectAsync(client);
        Assert.True(await client.RevokeAsync(grant, CancellationToken.None));
        Assert.Contains(Simulator.Requests, r => r.Path.StartsWith("/revoke?token=", StringComparison.Ordinal) && r.Method == "POST");
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.RefreshAsync(grant.RefreshToken!, CancellationToken.None))).Failure);
        Assert.Equal(PublishFailure.ReconnectRequired, (await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None))).Failure);
        Assert.True(await client.RevokeAsync(grant, CancellationToken.None)); // already gone: what was asked
    }

    [Fact]
    public async Task AGrantWithoutTheReadScopeMustReconnect()
    {
        var client = Client();
        var (verifier, challenge) = Pkce();
        var url = client.AuthorizationUrl("s", challenge, Redirect).AbsoluteUri.Replace("%20" + Uri.EscapeDataString(YouTubeSimulator.ReadonlyScope), "");
        var (_, query) = await ConsentAsync(new Uri(url));
        var grant = await client.ExchangeCodeAsync(query["code"], verifier, Redirect, CancellationToken.None);
        Assert.Equal([YouTubeSimulator.UploadScope], grant.Scopes);
        var error = await Assert.ThrowsAsync<PublishingException>(() => client.AccountAsync(grant, CancellationToken.None));
        Assert.Equal(("YOUTUBE_SCOPE_MISSING", PublishFailure.ReconnectRequired), (error.Code, error.Failure));
    }

    [Fact]
    public async Task SettingsNameWhatIsMissingAndChunksAreWholeUnits()
    {
        Assert.Null(Client().MissingSetting);
        Assert.Equal("FENTA_YOUTUBE_CLIENT_ID", Client(Options(clientId: null)).MissingSetting);
        Assert.Equal("FENTA_YOUTUBE_CLIENT_SECRET", Client(Options(secret: null)).MissingSetting);
        var defaults = YouTubeOptions.FromSettings(_ => null);
        Assert.Equal(("https://accounts.google.com/", "https://oauth2.googleapis.com/", "https://www.googleapis.com/", 8 * 1024 * 1024),
            (defaults.AuthUrl.ToString(), defaults.OAuthUrl.ToString(), defaults.ApiUrl.ToString(), defaults.ChunkBytes));
        Assert.Equal("FENTA_YOUTUBE_CLIENT_ID", new YouTubeClient(null!, defaults).MissingSetting);
        Assert.Equal(3 * Chunk, Options(chunk: 3 * Chunk + 1000).ChunkBytes);
        Assert.Equal(Chunk, Options(chunk: 1000).ChunkBytes);
        var unconfigured = await Assert.ThrowsAsync<PublishingException>(() => Client(Options(secret: null)).RefreshAsync("x", CancellationToken.None));
        Assert.Equal(("YOUTUBE_NOT_CONFIGURED", PublishFailure.Permanent), (unconfigured.Code, unconfigured.Failure));
        Assert.Contains("FENTA_YOUTUBE_CLIENT_SECRET", unconfigured.Message);
    }

    [Fact]
    public async Task ConstraintsAndCreatorOptionsDescribeAShort()
    {
        var client = Client();
        Assert.Equal(Platforms.YouTube, client.Name);
        var c = client.Constraints;
        Assert.Equal((TimeSpan.FromMinutes(3), 9.0 / 16, 1.0), (c.MaxDuration, c.MinAspect, c.MaxAspect));
        Assert.InRange(1080.0 / 1920, c.MinAspect, c.MaxAspect); // what the product renders fits
        Assert.Contains("h264", c.VideoCodecs);
        Assert.Contains("aac", c.AudioCodecs);
        Assert.True(c.MaxWidth >= 1080 && c.MaxFrameRate >= 30 && c.MaxBytes > 1L << 30);
        Assert.Equal(TimeSpan.FromHours(1), client.StatisticsInterval);
        var options = await client.CreatorOptionsAsync("t", new PlatformAccount("UC1", "c", null, null), CancellationToken.None);
        Assert.Equal(["public", "unlisted", "private"], options.PrivacyOptions);
        Assert.Equal(["direct"], options.Modes);
        Assert.Equal(TimeSpan.FromMinutes(3), options.MaxDuration);
    }

    [Fact]
    public async Task AVideoIsUploadedInChunksWithItsMetadataAndPublishedOnceProcessed()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await Mp4.Value;
        var saved = new Saved();
        var sessionSavedBeforeBytes = false;
        saved.OnSave = data =>
        {
            if (saved.Snapshots.Count == 1) sessionSavedBeforeBytes = data["session"] is not null && Simulator.Sessions.Sum(s => s.Received) == 0;
        };
        var context = new PublishContext(grant.AccessToken, account, Request(), File_(path), Checkpoint(saved));

        var first = await client.PublishAsync(context, CancellationToken.None);
        Assert.IsType<PublishStep.Processing>(first); // processing takes ProcessingTime
        Assert.True(sessionSavedBeforeBytes);
        var published = Assert.IsType<PublishStep.Published>(await PublishToEndAsync(client, context));

        var video = Assert.Single(Simulator.Videos);
        Assert.Equal(video.Id, published.VideoId);
        Assert.Equal(new Uri(Simulator.BaseAddress, $"shorts/{video.Id}").ToString(), published.Url);
        Assert.Equal(HttpStatusCode.OK, (await new HttpClient().GetAsync(published.Url)).StatusCode);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal((bytes.LongLength, Convert.ToHexStringLower(SHA256.HashData(bytes))), (video.Bytes, video.Sha256));
        Assert.Equal((account.Id, "A paper boat", "public", true, false, "22"),
            (video.ChannelId, video.Title, video.Privacy, video.ContainsSyntheticMedia, video.SelfDeclaredMadeForKids, video.CategoryId));
        Assert.Equal(["boats", "origami", "paper craft"], video.Tags);
        Assert.Equal("Folded and floated.\n\n#boats #origami #papercraft", video.Description);
        Assert.Null(video.PublishAt);

        var session = Assert.Single(Simulator.Sessions);
        Assert.Equal((int)Math.Ceiling(bytes.Length / (double)Chunk), session.Chunks.Count);
        Assert.All(session.Chunks.SkipLast(1), chunk => Assert.Equal(Chunk, chunk.Length));
        Assert.Equal(0, session.StatusQueries);
        // One save for the session, one per acknowledged chunk but the last, one for the video, one when published.
        Assert.Equal(session.Chunks.Count + 2, saved.Snapshots.Count);
        Assert.Equal(video.Id, saved.Last["videoId"]!.GetValue<string>());

        // Called again (a replayed activity): nothing is sent, the same video is answered.
        var again = Assert.IsType<PublishStep.Published>(await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal(published, again);
        Assert.Single(Simulator.Sessions);
    }

    [Fact]
    public async Task AnUploadKilledMidwayResumesFromTheAcknowledgedByteOnAnotherClient()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await Mp4.Value;
        Simulator.ChunkDelay = TimeSpan.FromMilliseconds(150);
        var saved = new Saved();
        using var kill = new CancellationTokenSource();
        saved.OnSave = data =>
        {
            if (data["acked"]?.GetValue<long>() >= 2 * Chunk) kill.Cancel(); // two chunks in: the worker dies mid-third
        };
        var context = new PublishContext(grant.AccessToken, account, Request(), File_(path), Checkpoint(saved));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PublishAsync(context, kill.Token));
        await Task.Delay(300); // the aborted chunk's request ends at the platform
        var session = Assert.Single(Simulator.Sessions);
        Assert.Equal(2 * Chunk, session.Received);
        Assert.Empty(Simulator.Videos);

        // Another process: a new client, the checkpoint as the row kept it.
        var row = saved.Last;
        Assert.Equal(2 * Chunk, row["acked"]!.GetValue<long>());
        Simulator.ChunkDelay = TimeSpan.Zero;
        var resumed = new Saved();
        var step = await PublishToEndAsync(Client(), context with { Checkpoint = Checkpoint(resumed, row) });
        Assert.IsType<PublishStep.Published>(step);

        Assert.Single(Simulator.Sessions);
        Assert.Equal(1, session.StatusQueries); // it asked where the upload stood
        Assert.Equal(2 * Chunk, session.Chunks[2].First); // and went on from the acknowledged byte
        Assert.Equal(Enumerable.Range(0, session.Chunks.Count).Select(i => (long)i * Chunk), session.Chunks.Select(c => c.First));
        var video = Assert.Single(Simulator.Videos);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), video.Sha256);
    }

    [Fact]
    public async Task APlatformAheadOfTheCheckpointIsAskedAndAFinishedUploadIsNotRepeated()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await Mp4.Value;
        var saved = new Saved();
        var context = new PublishContext(grant.AccessToken, account, Request(), File_(path), Checkpoint(saved));
        Assert.IsType<PublishStep.Published>(await PublishToEndAsync(client, context));

        // The worker died after the last chunk landed but before the video id was saved: the row has the session and an older offset.
        var stale = JsonNode.Parse(saved.Snapshots[2])!.AsObject();
        Assert.Null(stale["videoId"]);
        var step = await PublishToEndAsync(Client(), context with { Checkpoint = Checkpoint(new Saved(), stale) });
        Assert.Equal(Assert.Single(Simulator.Videos).Id, Assert.IsType<PublishStep.Published>(step).VideoId);
        var session = Assert.Single(Simulator.Sessions);
        Assert.Equal(1, session.StatusQueries);
        Assert.Equal((int)Math.Ceiling(new FileInfo(path).Length / (double)Chunk), session.Chunks.Count); // no byte sent twice
    }

    [Fact]
    public async Task AnExpiredSessionWithoutAVideoStartsAgainFromTheFirstByte()
    {
        var (client, grant, account) = await ConnectedAsync();
        var saved = new Saved();
        using var kill = new CancellationTokenSource();
        saved.OnSave = data => { if (data["acked"]?.GetValue<long>() >= Chunk) kill.Cancel(); };
        Simulator.ChunkDelay = TimeSpan.FromMilliseconds(100);
        var context = new PublishContext(grant.AccessToken, account, Request(), File_(await Mp4.Value), Checkpoint(saved));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.PublishAsync(context, kill.Token));
        Simulator.ChunkDelay = TimeSpan.Zero;
        Simulator.ExpireSession(Simulator.Sessions[0].Id);

        Assert.IsType<PublishStep.Published>(await PublishToEndAsync(Client(), context with { Checkpoint = Checkpoint(new Saved(), saved.Last) }));
        Assert.Equal(2, Simulator.Sessions.Count);
        Assert.Equal(0, Simulator.Sessions[1].Chunks[0].First);
        Assert.Equal(Simulator.Sessions[1].Id, Assert.Single(Simulator.Videos).SessionId);
    }

    [Fact]
    public async Task ASpentQuotaWaitsForMidnightPacificAndTheChannelLimitADay()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await Mp4.Value;
        Simulator.DailyUploadQuota = 1;
        Assert.IsType<PublishStep.Published>(await PublishToEndAsync(client, new(grant.AccessToken, account, Request(), File_(path), Checkpoint(new Saved()))));

        var saved = new Saved();
        var context = new PublishContext(grant.AccessToken, account, Request("Second"), File_(path), Checkpoint(saved));
        var wait = Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal("YOUTUBE_QUOTA_EXCEEDED", wait.Code);
        var pacific = TimeZoneInfo.ConvertTime(wait.At, TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles"));
        Assert.Equal(TimeSpan.Zero, pacific.TimeOfDay);
        Assert.InRange(wait.At, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(25));
        Assert.Equal((1, 0), (Simulator.Sessions.Count, saved.Snapshots.Count)); // nothing started

        Simulator.ResetQuota();
        Simulator.ChannelUploadsPer24Hours = 1;
        var limited = Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None));
        Assert.Equal("YOUTUBE_UPLOAD_LIMIT", limited.Code);
        Assert.InRange(limited.At, DateTimeOffset.UtcNow.AddHours(23.9), DateTimeOffset.UtcNow.AddHours(24.1));

        Simulator.ChannelUploadsPer24Hours = 10;
        Assert.IsType<PublishStep.Processing>(await client.PublishAsync(context, CancellationToken.None));
        // The API's quota runs out while the uploaded video is processed: looking at it waits too.
        Simulator.DailyUnitQuota = Simulator.UnitsToday;
        Assert.Equal("YOUTUBE_QUOTA_EXCEEDED", Assert.IsType<PublishStep.RetryLater>(await client.PublishAsync(context, CancellationToken.None)).Code);
        var statistics = await Assert.ThrowsAsync<PublishingException>(() => client.StatisticsAsync(grant.AccessToken, account, ["x"], CancellationToken.None));
        Assert.Equal(("YOUTUBE_QUOTA_EXCEEDED", PublishFailure.Transient), (statistics.Code, statistics.Failure));
        Simulator.ResetQuota();
        Assert.Equal(0, Simulator.UnitsToday);
        Simulator.DailyUnitQuota = 10_000;
        Assert.IsType<PublishStep.Published>(await PublishToEndAsync(client, context));
        Assert.Equal(["A paper boat", "Second"], Simulator.Videos.Select(v => v.Title));
    }

    [Fact]
    public async Task AScheduledVideoIsPrivateUntilItsTimeAndTheTextIsMadeToFit()
    {
        var (client, grant, account) = await ConnectedAsync();
        var at = DateTimeOffset.UtcNow.AddDays(2);
        var title = "<b>Boats</b> " + new string('x', 150);
        var request = Request(title, "public", at) with { Description = "Fold <here> " + new string('é', 3000), MadeForKids = true, AiGenerated = false };
        var step = await PublishToEndAsync(client, new(grant.AccessToken, account, request, File_(await Mp4.Value), Checkpoint(new Saved())));
        Assert.IsType<PublishStep.Published>(step);
        var video = Assert.Single(Simulator.Videos);
        Assert.Equal(("private", at.ToUnixTimeSeconds(), true, false), (video.Privacy, video.PublishAt!.Value.ToUnixTimeSeconds(), video.SelfDeclaredMadeForKids, video.ContainsSyntheticMedia));
        Assert.Equal(100, video.Title.Length);
        Assert.StartsWith("bBoats/b xxx", video.Title);
        Assert.DoesNotContain('<', video.Description);
        Assert.InRange(Encoding.UTF8.GetByteCount(video.Description), 4990, 5000);
    }

    [Fact]
    public async Task TheSimulatorRefusesWhatYouTubeRefuses()
    {
        var (_, grant, _) = await ConnectedAsync();
        using var http = new HttpClient { BaseAddress = Simulator.BaseAddress };
        async Task<HttpResponseMessage> Start(object metadata, long length = 3 * Chunk)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status") { Content = JsonContent.Create(metadata) };
            request.Headers.Authorization = new("Bearer", grant.AccessToken);
            request.Headers.Add("X-Upload-Content-Length", length.ToString());
            request.Headers.Add("X-Upload-Content-Type", "video/mp4");
            return await http.SendAsync(request);
        }
        async Task<string> Reason(HttpResponseMessage response) =>
            JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!["errors"]![0]!["reason"]!.GetValue<string>();

        Assert.Equal("invalidTitle", await Reason(await Start(new { snippet = new { title = "a <b>" }, status = new { privacyStatus = "public" } })));
        Assert.Equal("invalidTitle", await Reason(await Start(new { snippet = new { title = new string('a', 101) } })));
        Assert.Equal("invalidDescription", await Reason(await Start(new { snippet = new { title = "t", description = new string('é', 2501) } })));
        Assert.Equal("invalidPublishAt", await Reason(await Start(new { snippet = new { title = "t" }, status = new { privacyStatus = "public", publishAt = DateTimeOffset.UtcNow.AddDays(1) } })));
        Assert.Equal("invalidCategoryId", await Reason(await Start(new { snippet = new { title = "t", categoryId = "999" } })));

        var started = await Start(new { snippet = new { title = "t" }, status = new { privacyStatus = "unlisted" } });
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        var session = started.Headers.Location!;
        async Task<HttpResponseMessage> Put(int length, string range)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent(new byte[length]) };
            request.Content.Headers.TryAddWithoutValidation("Content-Range", range);
            return await http.SendAsync(request);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(1000, $"bytes 0-999/{3 * Chunk}")).StatusCode); // not a multiple of 256 KiB
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(Chunk, $"bytes {Chunk}-{2 * Chunk - 1}/{3 * Chunk}")).StatusCode); // not where the session stands
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(Chunk, $"bytes 0-{Chunk - 1}/{4 * Chunk}")).StatusCode); // another total
        var status = await Put(0, $"bytes */{3 * Chunk}");
        Assert.Equal((308, false), ((int)status.StatusCode, status.Headers.Contains("Range")));
        var accepted = await Put(Chunk, $"bytes 0-{Chunk - 1}/{3 * Chunk}");
        Assert.Equal((308, $"bytes=0-{Chunk - 1}"), ((int)accepted.StatusCode, accepted.Headers.GetValues("Range").Single()));
        Assert.Equal(HttpStatusCode.BadRequest, (await Put(Chunk, $"bytes 0-{Chunk - 1}/{3 * Chunk}")).StatusCode); // sent twice
        Assert.Equal(Chunk, Assert.Single(Simulator.Sessions).Received);

        using var unauthenticated = new HttpRequestMessage(HttpMethod.Get, "youtube/v3/channels?part=snippet&mine=true");
        Assert.Equal("authError", await Reason(await http.SendAsync(unauthenticated)));
        Assert.Equal(HttpStatusCode.NotFound, (await http.PutAsync("upload/youtube/v3/videos?upload_id=nope", new ByteArrayContent([]))).StatusCode);
    }

    [Fact]
    public async Task ABrokenChunkIsTransientAndTheNextCallFinishes()
    {
        var (client, grant, account) = await ConnectedAsync();
        var saved = new Saved();
        var context = new PublishContext(grant.AccessToken, account, Request(), File_(await Mp4.Value), Checkpoint(saved));
        var failAt = 0;
        saved.OnSave = data =>
        {
            if (data["acked"]?.GetValue<long>() == Chunk && Interlocked.Exchange(ref failAt, 1) == 0)
                Simulator.EnqueueError(503, """{"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError", "domain": "global", "message": "Backend Error"}]}}""");
        };
        var error = await Assert.ThrowsAsync<PublishingException>(() => client.PublishAsync(context, CancellationToken.None));
        Assert.Equal(PublishFailure.Transient, error.Failure);
        Assert.Equal(1, Simulator.Requests.Count(r => r.Method == "PUT" && r.Path.Contains("upload_id"))
            - Simulator.Sessions[0].Chunks.Count); // the failed chunk was sent once, not retried blindly
        Assert.IsType<PublishStep.Published>(await PublishToEndAsync(client, context with { Checkpoint = Checkpoint(new Saved(), saved.Last) }));
        Assert.Single(Simulator.Videos);
    }

    [Fact]
    public async Task AFileYouTubeCannotProcessFailsPermanently()
    {
        var (client, grant, account) = await ConnectedAsync();
        var path = await MakeVideoAsync("noise.mp4", "", valid: false);
        var error = await Assert.ThrowsAsync<PublishingException>(() =>
            PublishToEndAsync(client, new(grant.AccessToken, account, Request(), File_(path), Checkpoint(new Saved()))));
        Assert.Equal(("YOUTUBE_PROCESSING_FAILED", PublishFailure.Permanent), (error.Code, error.Failure));
        Assert.Contains("invalidFile", error.Message);
    }

    [Fact]
    public async Task StatisticsGrowAndAreReadFiftyIdsACall()
    {
        var (client, grant, account) = await ConnectedAsync();
        Simulator.ViewsPerSecond = 1000;
        var step = await PublishToEndAsync(client, new(grant.AccessToken, account, Request(), File_(await Mp4.Value), Checkpoint(new Saved())));
        var id = Assert.IsType<PublishStep.Published>(step).VideoId;
        var first = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, [id], CancellationToken.None));
        await Task.Delay(200);
        var ids = Enumerable.Range(0, 60).Select(i => $"missing{i:00}").Append(id).ToList();
        var second = Assert.Single(await client.StatisticsAsync(grant.AccessToken, account, ids, CancellationToken.None));
        Assert.Equal(id, second.VideoId);
        Assert.True(second.Views > first.Views, $"{first.Views} then {second.Views}");
        Assert.Equal((second.Views / 10, second.Views / 50, null), (second.Likes, second.Comments, second.Shares));
        var reads = Simulator.Requests.Where(r => r.Path.StartsWith("/youtube/v3/videos?part=statistics", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, reads.Count); // one, then 61 ids in two calls
        Assert.All(reads, r => Assert.True(Uri.UnescapeDataString(r.Path).Split("id=")[1].Split('&')[0].Split(',').Length <= 50));
    }
}
