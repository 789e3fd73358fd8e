using FentaWeb.Domain.Publishing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Integrations.YouTube;

/// <summary>
/// YouTube over Google's documented contracts, plain HTTP: OAuth 2.0 for web server apps with PKCE (S256) and offline
/// access (Google keeps the refresh token: a refresh answers none, the old one stays), the channel
/// (<c>channels.list mine=true</c>), the resumable upload of <c>videos.insert</c> (session URI kept in the checkpoint
/// before a byte is sent; chunks of a multiple of 256 KiB; <c>308 Resume Incomplete</c> with <c>Range</c>; a status
/// query <c>Content-Range: bytes */total</c> on resumption), processing followed with <c>videos.list</c>, and statistics
/// by 50 ids a call. A quota (<c>quotaExceeded</c>) waits until midnight Pacific time, when Google resets it; the
/// channel's upload limit (<c>uploadLimitExceeded</c>) 24 hours.
/// </summary>
public sealed partial class YouTubeClient(IHttpClientFactory httpClients, YouTubeOptions options) : IPublishingPlatform
{
    /// <summary>The named HttpClient of API calls (tokens, channel, statistics, session start and status queries).</summary>
    public const string ApiClientName = "YouTube";

    /// <summary>The named HttpClient of chunk uploads (a long attempt timeout).</summary>
    public const string UploadClientName = "YouTube.Upload";

    public const string UploadScope = "https://www.googleapis.com/auth/youtube.upload";
    public const string ReadonlyScope = "https://www.googleapis.com/auth/youtube.readonly";

    /// <summary>YouTube Shorts: up to three minutes, square or vertical.</summary>
    public static readonly TimeSpan ShortsMaxDuration = TimeSpan.FromMinutes(3);

    // Checkpoint keys.
    private const string SessionKey = "session";
    private const string TotalKey = "total";
    private const string AckedKey = "acked";
    private const string VideoIdKey = "videoId";
    private const string PhaseKey = "phase";

    private static readonly TimeSpan ProcessingPoll = TimeSpan.FromSeconds(10);

    public string Name => Platforms.YouTube;

    public string? MissingSetting => options.ClientId is null ? YouTubeOptions.ClientIdSetting
        : options.ClientSecret is null ? YouTubeOptions.ClientSecretSetting : null;

    public IReadOnlyList<string> Scopes { get; } = [UploadScope, ReadonlyScope];

    /// <summary>
    /// What this adapter publishes: a YouTube Short (up to 3 minutes, square or vertical, so 9:16 to 1:1). YouTube itself
    /// takes files up to 256 GB and most codecs; the list names what its upload guidance recommends.
    /// </summary>
    public VideoConstraints Constraints { get; } = new(
        TimeSpan.FromSeconds(1), ShortsMaxDuration, 256L * 1024 * 1024 * 1024, 9.0 / 16, 1.0,
        ["h264", "hevc", "vp9", "av1"], ["aac", "mp3", "opus", "vorbis"], 3840, 60);

    /// <summary>videos.list costs 1 unit of a 10,000-unit daily quota: hourly reads of a video are cheap.</summary>
    public TimeSpan StatisticsInterval => TimeSpan.FromHours(1);

    public Uri AuthorizationUrl(string state, string codeChallenge, Uri redirectUri) => new(options.AuthUrl, "o/oauth2/v2/auth?" + Query(
        ("client_id", ClientId), ("redirect_uri", redirectUri.AbsoluteUri), ("response_type", "code"), ("scope", string.Join(' ', Scopes)),
        ("access_type", "offline"), ("prompt", "consent"), ("include_granted_scopes", "true"), ("state", state),
        ("code_challenge", codeChallenge), ("code_challenge_method", "S256")));

    public Task<TokenGrant> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken ct) => TokenAsync(
        [("code", code), ("code_verifier", codeVerifier), ("redirect_uri", redirectUri.AbsoluteUri), ("grant_type", "authorization_code")], null, ct);

    public Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct) =>
        TokenAsync([("refresh_token", refreshToken), ("grant_type", "refresh_token")], refreshToken, ct);

    public async Task<PlatformAccount> AccountAsync(TokenGrant grant, CancellationToken ct)
    {
        var list = await GetJsonAsync("youtube/v3/channels?part=snippet&mine=true", grant.AccessToken, ct);
        var channel = Items(list).FirstOrDefault();
        if (channel.ValueKind != JsonValueKind.Object)
            throw new PublishingException("YOUTUBE_NO_CHANNEL", "This Google account has no YouTube channel; create one on youtube.com, then connect again.",
                PublishFailure.Permanent);
        var snippet = channel.TryGetProperty("snippet", out var s) ? s : default;
        string? avatar = null;
        if (snippet.ValueKind == JsonValueKind.Object && snippet.TryGetProperty("thumbnails", out var thumbnails) && thumbnails.ValueKind == JsonValueKind.Object)
            foreach (var size in new[] { "medium", "high", "default" })
                if (thumbnails.TryGetProperty(size, out var t) && Text(t, "url") is { } url) { avatar = url; break; }
        return new PlatformAccount(Text(channel, "id") ?? throw Bad("a channel without an id"),
            Text(snippet, "title") ?? "", avatar, Text(snippet, "customUrl"));
    }

    public async Task<bool> RevokeAsync(TokenGrant grant, CancellationToken ct)
    {
        // Revoking either token ends the whole grant; the refresh token outlives the access token, so it is the one to send.
        var token = grant.RefreshToken ?? grant.AccessToken;
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.OAuthUrl, "revoke?" + Query(("token", token))))
        {
            Content = new FormUrlEncodedContent([]),
        };
        using var response = await SendAsync(Api, request, options.Timeout, ct);
        if (response.IsSuccessStatusCode) return true;
        var (error, description) = await OAuthErrorAsync(response, ct);
        // invalid_token: Google no longer knows it (already revoked or expired), which is what was asked.
        if (error == "invalid_token") return true;
        throw Failure(response.StatusCode, "YOUTUBE_REVOKE_FAILED", $"Google did not revoke the grant ({(int)response.StatusCode} {error}: {description}).");
    }

    public Task<CreatorOptions> CreatorOptionsAsync(string accessToken, PlatformAccount account, CancellationToken ct) =>
        Task.FromResult(new CreatorOptions(["public", "unlisted", "private"], ShortsMaxDuration, ["direct"],
            Notice: "Published as a YouTube Short (up to 3 minutes, vertical or square). A scheduled video is uploaded private and made public at the chosen time."));

    public async Task<PublishStep> PublishAsync(PublishContext context, CancellationToken ct)
    {
        var data = context.Checkpoint.Data;
        if (Text(data, VideoIdKey) is not { } videoId)
        {
            var start = await UploadAsync(context, ct);
            if (start is not null) return start;
            videoId = Text(data, VideoIdKey)!;
        }
        return await ProcessingAsync(context, videoId, ct);
    }

    public async Task<IReadOnlyList<VideoStatistics>> StatisticsAsync(string accessToken, PlatformAccount account, IReadOnlyList<string> videoIds, CancellationToken ct)
    {
        List<VideoStatistics> all = [];
        foreach (var batch in videoIds.Distinct().Chunk(50))
        {
            var list = await GetJsonAsync($"youtube/v3/videos?part=statistics&id={Uri.EscapeDataString(string.Join(',', batch))}", accessToken, ct);
            foreach (var item in Items(list))
            {
                var stats = item.TryGetProperty("statistics", out var s) ? s : default;
                all.Add(new VideoStatistics(Text(item, "id") ?? "", Count(stats, "viewCount"), Count(stats, "likeCount"), Count(stats, "commentCount"), null));
            }
        }
        return all;
    }

    /// <summary>Midnight in Los Angeles after <paramref name="now"/>: when the YouTube Data API's daily quotas reset.</summary>
    public static DateTimeOffset NextQuotaReset(DateTimeOffset now)
    {
        TimeZoneInfo pacific;
        try
        {
            pacific = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            pacific = TimeZoneInfo.CreateCustomTimeZone("PST", TimeSpan.FromHours(-8), "PST", "PST");
        }
        var midnight = TimeZoneInfo.ConvertTime(now, pacific).Date.AddDays(1);
        return new DateTimeOffset(midnight, pacific.GetUtcOffset(midnight));
    }

    // ---- the upload -------------------------------------------------------------------------------------------

    /// <summary>Starts or continues the resumable upload; null once the video exists (its id in the checkpoint), else the step to return.</summary>
    private async Task<PublishStep?> UploadAsync(PublishContext context, CancellationToken ct, bool restarted = false)
    {
        var checkpoint = context.Checkpoint;
        var data = checkpoint.Data;
        var total = context.Video.Length;
        var resumed = Text(data, SessionKey) is not null;
        if (Text(data, SessionKey) is not { } session || Number(data, TotalKey) != total)
        {
            var started = await StartSessionAsync(context, ct);
            if (started is RetryLaterSession wait) return wait.Step;
            session = ((StartedSession)started).Uri;
            data[SessionKey] = session;
            data[TotalKey] = total;
            data[AckedKey] = 0L;
            data[PhaseKey] = "uploading";
            // The session is the upload's identity: it is saved before a byte is sent.
            await checkpoint.SaveAsync(ct);
            resumed = false;
        }

        var acked = Number(data, AckedKey) ?? 0;
        if (resumed)
        {
            // Where the platform stands decides, not what was last saved (a chunk may have landed unacknowledged).
            var status = await PutAsync(Api, session, ReadOnlyMemory<byte>.Empty, $"bytes */{total}", options.Timeout, context.AccessToken, ct);
            switch (status)
            {
                case ChunkAnswer.Incomplete incomplete:
                    acked = incomplete.Received;
                    break;
                case ChunkAnswer.Complete complete:
                    await SaveVideoAsync(checkpoint, complete.VideoId, total, ct);
                    return null;
                case ChunkAnswer.Expired:
                    return await RestartAsync(context, restarted, ct);
            }
            if (acked != Number(data, AckedKey))
            {
                data[AckedKey] = acked;
                await checkpoint.SaveAsync(ct);
            }
        }

        await using var file = new FileStream(context.Video.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        var buffer = new byte[Math.Min(options.ChunkBytes, Math.Max(total, 1))];
        while (true)
        {
            var length = (int)Math.Min(options.ChunkBytes, total - acked);
            file.Position = acked;
            await file.ReadExactlyAsync(buffer.AsMemory(0, length), ct);
            var answer = await PutAsync(Upload, session, buffer.AsMemory(0, length), $"bytes {acked}-{acked + length - 1}/{total}",
                options.UploadTimeout, context.AccessToken, ct);
            switch (answer)
            {
                case ChunkAnswer.Incomplete incomplete:
                    if (incomplete.Received >= total)
                        throw new PublishingException("YOUTUBE_BAD_RESPONSE", "YouTube acknowledged every byte but did not finish the upload.", PublishFailure.Transient);
                    acked = incomplete.Received;
                    data[AckedKey] = acked;
                    await checkpoint.SaveAsync(ct);
                    break;
                case ChunkAnswer.Complete complete:
                    await SaveVideoAsync(checkpoint, complete.VideoId, total, ct);
                    return null;
                case ChunkAnswer.Expired:
                    return await RestartAsync(context, restarted, ct);
            }
        }
    }

    /// <summary>The session expired before a video resulted (Google answers 404): a new one, from the first byte.</summary>
    private async Task<PublishStep?> RestartAsync(PublishContext context, bool restarted, CancellationToken ct)
    {
        if (restarted)
            throw new PublishingException("YOUTUBE_SESSION_LOST", "YouTube lost a new upload session at once; the upload will be tried again.", PublishFailure.Transient);
        var data = context.Checkpoint.Data;
        data.Remove(SessionKey);
        data.Remove(AckedKey);
        data.Remove(TotalKey);
        data[PhaseKey] = "session_expired";
        await context.Checkpoint.SaveAsync(ct);
        return await UploadAsync(context, ct, restarted: true);
    }

    private static async Task SaveVideoAsync(UploadCheckpoint checkpoint, string videoId, long total, CancellationToken ct)
    {
        checkpoint.Data[VideoIdKey] = videoId;
        checkpoint.Data[AckedKey] = total;
        checkpoint.Data[PhaseKey] = "processing";
        await checkpoint.SaveAsync(ct);
    }

    private abstract record SessionStart;
    private sealed record StartedSession(string Uri) : SessionStart;
    private sealed record RetryLaterSession(PublishStep.RetryLater Step) : SessionStart;

    private async Task<SessionStart> StartSessionAsync(PublishContext context, CancellationToken ct)
    {
        var contentType = Path.GetExtension(context.Video.Path).ToLowerInvariant() switch
        {
            ".webm" => "video/webm",
            ".mov" => "video/quicktime",
            _ => "video/mp4",
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.ApiUrl, "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"))
        {
            Content = new StringContent(Metadata(context.Request).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", context.AccessToken);
        request.Headers.Add("X-Upload-Content-Length", context.Video.Length.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Upload-Content-Type", contentType);
        using var response = await SendAsync(Api, request, options.Timeout, ct);
        if (response.IsSuccessStatusCode)
            return response.Headers.Location is { } location
                ? new StartedSession((location.IsAbsoluteUri ? location : new Uri(options.ApiUrl, location)).ToString())
                : throw Bad("an upload session without a Location");
        var error = await ApiErrorAsync(response, ct);
        if (QuotaWait(error) is { } wait) return new RetryLaterSession(wait);
        throw ApiFailure(response.StatusCode, error, "YouTube refused to start the upload");
    }

    /// <summary>The video resource's snippet and status as YouTube takes them (title ≤ 100 characters, description ≤ 5,000 bytes, neither with &lt; or &gt;; tags ≤ 500 characters).</summary>
    internal JsonObject Metadata(PublishRequest request)
    {
        var hashtags = request.Hashtags.Select(h => h.Trim().TrimStart('#').Trim()).Where(h => h.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        var title = Clean(request.Title);
        if (title.Length == 0) title = "Untitled";
        title = Truncate(title, 100);
        var description = Clean(request.Description);
        var missing = hashtags.Where(h => !description.Contains('#' + h.Replace(" ", ""), StringComparison.OrdinalIgnoreCase)).Select(h => '#' + h.Replace(" ", "")).ToList();
        if (missing.Count > 0) description = (description.Length > 0 ? description + "\n\n" : "") + string.Join(' ', missing);
        description = TruncateBytes(description, 5000);
        // Tags count their characters, plus two quotes for a tag with a space, plus a comma between tags: at most 500.
        List<string> tags = [];
        var used = 0;
        foreach (var tag in hashtags.Select(Clean).Where(t => t.Length > 0))
        {
            var cost = tag.Length + (tag.Contains(' ') ? 2 : 0) + (tags.Count > 0 ? 1 : 0);
            if (used + cost > 500) break;
            tags.Add(tag);
            used += cost;
        }
        var status = new JsonObject
        {
            ["privacyStatus"] = request.PublishAt is null ? request.Privacy : "private",
            ["selfDeclaredMadeForKids"] = request.MadeForKids,
            ["containsSyntheticMedia"] = request.AiGenerated,
        };
        if (request.PublishAt is { } at) status["publishAt"] = at.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return new JsonObject
        {
            ["snippet"] = new JsonObject
            {
                ["title"] = title,
                ["description"] = description,
                ["tags"] = new JsonArray([.. tags.Select(t => (JsonNode)t)]),
                ["categoryId"] = options.CategoryId,
            },
            ["status"] = status,
        };
    }

    private abstract record ChunkAnswer
    {
        public sealed record Incomplete(long Received) : ChunkAnswer;
        public sealed record Complete(string VideoId) : ChunkAnswer;
        public sealed record Expired : ChunkAnswer;
    }

    /// <summary>A PUT to the session URI: a chunk, or (empty, <c>bytes */total</c>) the status query.</summary>
    private async Task<ChunkAnswer> PutAsync(string client, string session, ReadOnlyMemory<byte> bytes, string contentRange, TimeSpan timeout,
        string accessToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ReadOnlyMemoryContent(bytes) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        request.Content.Headers.ContentLength = bytes.Length;
        request.Content.Headers.TryAddWithoutValidation("Content-Range", contentRange);
        using var response = await SendAsync(client, request, timeout, ct);
        switch ((int)response.StatusCode)
        {
            case 308:
                // Range: bytes=0-N is what Google holds; no Range header: nothing yet.
                if (!response.Headers.TryGetValues("Range", out var ranges)) return new ChunkAnswer.Incomplete(0);
                var range = RangeHeader().Match(ranges.First());
                return range.Success ? new ChunkAnswer.Incomplete(long.Parse(range.Groups[1].Value, CultureInfo.InvariantCulture) + 1)
                    : throw Bad("a Range header it could not read");
            case 200 or 201:
                var video = await ReadJsonAsync(response, ct);
                return new ChunkAnswer.Complete(Text(video, "id") ?? throw Bad("a finished upload without a video id"));
            case 404 or 410:
                return new ChunkAnswer.Expired();
        }
        var error = await ApiErrorAsync(response, ct);
        throw ApiFailure(response.StatusCode, error, "YouTube refused the upload");
    }

    /// <summary>Follows processing (<c>status.uploadStatus</c>) until the video is processed, rejected or failed.</summary>
    private async Task<PublishStep> ProcessingAsync(PublishContext context, string videoId, CancellationToken ct)
    {
        var (list, wait) = await TryGetJsonAsync($"youtube/v3/videos?part=status,processingDetails&id={Uri.EscapeDataString(videoId)}", context.AccessToken, ct);
        // The video is uploaded; only looking at it is limited: wait, do not fail.
        if (wait is not null) return wait;
        var video = Items(list).FirstOrDefault();
        if (video.ValueKind != JsonValueKind.Object)
            throw new PublishingException("YOUTUBE_VIDEO_GONE", $"YouTube no longer has the uploaded video {videoId} (deleted on YouTube?).", PublishFailure.Permanent);
        var status = video.TryGetProperty("status", out var s) ? s : default;
        switch (Text(status, "uploadStatus"))
        {
            case "processed":
                if (Text(context.Checkpoint.Data, PhaseKey) != "published")
                {
                    context.Checkpoint.Data[PhaseKey] = "published";
                    await context.Checkpoint.SaveAsync(ct);
                }
                return new PublishStep.Published(videoId, WatchUrl(videoId, context.Video).ToString());
            case "rejected":
                throw new PublishingException("YOUTUBE_REJECTED", $"YouTube rejected the video ({Text(status, "rejectionReason") ?? "no reason given"}).", PublishFailure.Permanent);
            case "failed":
                throw new PublishingException("YOUTUBE_PROCESSING_FAILED", $"YouTube could not process the video ({Text(status, "failureReason") ?? "no reason given"}).", PublishFailure.Permanent);
            case "deleted":
                throw new PublishingException("YOUTUBE_VIDEO_GONE", $"The video {videoId} was deleted on YouTube.", PublishFailure.Permanent);
            default:
                var details = video.TryGetProperty("processingDetails", out var d) ? d : default;
                var left = details.ValueKind == JsonValueKind.Object && details.TryGetProperty("processingProgress", out var p)
                    && Text(p, "timeLeftMs") is { } ms && long.TryParse(ms, out var msLeft) ? TimeSpan.FromMilliseconds(msLeft) : ProcessingPoll;
                return new PublishStep.Processing(left < TimeSpan.FromSeconds(2) ? TimeSpan.FromSeconds(2) : left > TimeSpan.FromMinutes(2) ? TimeSpan.FromMinutes(2) : left, "processing");
        }
    }

    /// <summary>A Short's page (up to three minutes, not wider than square), else the watch page.</summary>
    public Uri WatchUrl(string videoId, VideoFile video) =>
        video.Duration <= ShortsMaxDuration && video.Width <= video.Height
            ? new Uri(options.WatchUrl, $"shorts/{Uri.EscapeDataString(videoId)}")
            : new Uri(options.WatchUrl, $"watch?v={Uri.EscapeDataString(videoId)}");

    private static PublishStep.RetryLater? QuotaWait(GoogleError error) => error.Reason switch
    {
        "quotaExceeded" or "dailyLimitExceeded" => new PublishStep.RetryLater(NextQuotaReset(DateTimeOffset.UtcNow), "YOUTUBE_QUOTA_EXCEEDED",
            "The YouTube Data API quota of this app is spent for today; the upload waits until it resets at midnight Pacific time."),
        "uploadLimitExceeded" => new PublishStep.RetryLater(DateTimeOffset.UtcNow.AddHours(24), "YOUTUBE_UPLOAD_LIMIT",
            "The channel has reached YouTube's limit of uploads in 24 hours; the upload waits a day."),
        "rateLimitExceeded" or "userRateLimitExceeded" => new PublishStep.RetryLater(DateTimeOffset.UtcNow.AddMinutes(1), "YOUTUBE_RATE_LIMITED",
            "YouTube asked to slow down; the upload tries again in a minute."),
        _ => null,
    };

    // ---- HTTP plumbing ----------------------------------------------------------------------------------------

    private const string Api = ApiClientName;
    private const string Upload = UploadClientName;

    private string ClientId => options.ClientId ?? throw Unconfigured(YouTubeOptions.ClientIdSetting);
    private string ClientSecret => options.ClientSecret ?? throw Unconfigured(YouTubeOptions.ClientSecretSetting);

    private static PublishingException Unconfigured(string setting) =>
        new("YOUTUBE_NOT_CONFIGURED", $"YouTube publishing is not configured: set {setting}.", PublishFailure.Permanent);

    private async Task<TokenGrant> TokenAsync((string, string)[] fields, string? currentRefreshToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.OAuthUrl, "token"))
        {
            Content = new FormUrlEncodedContent([.. fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)),
                KeyValuePair.Create("client_id", ClientId), KeyValuePair.Create("client_secret", ClientSecret)]),
        };
        using var response = await SendAsync(Api, request, options.Timeout, ct);
        if (!response.IsSuccessStatusCode)
        {
            var (error, description) = await OAuthErrorAsync(response, ct);
            var refreshing = currentRefreshToken is not null;
            throw error switch
            {
                "invalid_grant" when refreshing => new PublishingException("YOUTUBE_GRANT_REVOKED",
                    $"Google no longer honours this connection ({description}); connect the YouTube account again.", PublishFailure.ReconnectRequired),
                "invalid_grant" => new PublishingException("YOUTUBE_AUTHORIZATION_FAILED",
                    $"Google refused the authorization code ({description}); connect again.", PublishFailure.Permanent),
                "invalid_client" or "unauthorized_client" => new PublishingException("YOUTUBE_CLIENT_REJECTED",
                    $"Google refused the app's credentials ({error}: {description}); check {YouTubeOptions.ClientIdSetting} and {YouTubeOptions.ClientSecretSetting}.", PublishFailure.Permanent),
                _ => Failure(response.StatusCode, "YOUTUBE_TOKEN_FAILED", $"Google's token endpoint refused the request ({(int)response.StatusCode} {error}: {description})."),
            };
        }
        var body = await ReadJsonAsync(response, ct);
        var now = DateTimeOffset.UtcNow;
        return new TokenGrant(
            Text(body, "access_token") ?? throw Bad("a token answer without an access_token"),
            // Google does not rotate refresh tokens: a refresh answers none, and the one held stays good.
            Text(body, "refresh_token") ?? currentRefreshToken,
            body.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) ? now.AddSeconds(seconds) : null,
            body.TryGetProperty("refresh_token_expires_in", out var r) && r.TryGetInt64(out var refreshSeconds) ? now.AddSeconds(refreshSeconds) : null,
            Text(body, "scope") is { } scope ? scope.Split(' ', StringSplitOptions.RemoveEmptyEntries) : []);
    }

    private async Task<JsonElement> GetJsonAsync(string path, string accessToken, CancellationToken ct)
    {
        var (json, wait) = await TryGetJsonAsync(path, accessToken, ct);
        // Outside a publication a quota is an error another try (after the reset) gets past.
        return wait is null ? json : throw new PublishingException(wait.Code, $"{wait.Message} (until {wait.At:u})", PublishFailure.Transient);
    }

    /// <summary>A GET of the API: its JSON, or the wait a quota or rate limit asks for.</summary>
    private async Task<(JsonElement Json, PublishStep.RetryLater? Wait)> TryGetJsonAsync(string path, string accessToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.ApiUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await SendAsync(Api, request, options.Timeout, ct);
        if (response.IsSuccessStatusCode) return (await ReadJsonAsync(response, ct), null);
        var error = await ApiErrorAsync(response, ct);
        if (QuotaWait(error) is { } wait) return (default, wait);
        throw ApiFailure(response.StatusCode, error, "YouTube refused the request");
    }

    private async Task<HttpResponseMessage> SendAsync(string client, HttpRequestMessage request, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await httpClients.CreateClient(client).SendToProviderAsync(request, HttpCompletionOption.ResponseContentRead, "YOUTUBE", "YouTube", timeout, ct);
        }
        catch (ProviderException e)
        {
            throw new PublishingException(e.Code, e.Message, PublishFailure.Transient);
        }
    }

    private sealed record GoogleError(string? Reason, string? Domain, string Message);

    /// <summary>Google's API error: <c>{"error": {"code", "message", "errors": [{"domain", "reason", "message"}], "status"}}</c>.</summary>
    private static async Task<GoogleError> ApiErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                var first = error.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0 ? errors[0] : default;
                return new GoogleError(Text(first, "reason"), Text(first, "domain"), Tags().Replace(Text(error, "message") ?? Text(first, "message") ?? "", ""));
            }
        }
        catch (JsonException)
        {
        }
        return new GoogleError(null, null, response.ReasonPhrase ?? "");
    }

    private static async Task<(string? Error, string? Description)> OAuthErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement;
            return (Text(root, "error"), Text(root, "error_description"));
        }
        catch (JsonException)
        {
            return (null, response.ReasonPhrase);
        }
    }

    private static PublishingException ApiFailure(HttpStatusCode status, GoogleError error, string what)
    {
        var detail = $"{what}: {error.Message}{(error.Reason is null ? "" : $" ({error.Reason})")}";
        return (int)status switch
        {
            401 => new PublishingException("YOUTUBE_UNAUTHORIZED", $"Google no longer accepts this connection's token; connect the YouTube account again. ({error.Message})",
                PublishFailure.ReconnectRequired),
            403 when error.Reason is "insufficientPermissions" or "ACCESS_TOKEN_SCOPE_INSUFFICIENT" => new PublishingException("YOUTUBE_SCOPE_MISSING",
                "The connection lacks a permission YouTube needs (upload or read the channel); connect the YouTube account again and grant all.", PublishFailure.ReconnectRequired),
            403 when error.Reason is "youtubeSignupRequired" => new PublishingException("YOUTUBE_NO_CHANNEL",
                "This Google account has no YouTube channel; create one on youtube.com, then connect again.", PublishFailure.Permanent),
            _ => Failure(status, error.Reason is { } reason ? "YOUTUBE_" + Snake(reason) : "YOUTUBE_ERROR", detail),
        };
    }

    private static PublishingException Failure(HttpStatusCode status, string code, string message) =>
        new(code, message, (int)status >= 500 || status is HttpStatusCode.RequestTimeout ? PublishFailure.Transient : PublishFailure.Permanent);

    private static PublishingException Bad(string what) =>
        new("YOUTUBE_BAD_RESPONSE", $"YouTube answered with {what}.", PublishFailure.Transient);

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, CancellationToken ct)
    {
        try
        {
            return (await response.Content.ReadFromJsonAsync<JsonElement>(ct));
        }
        catch (JsonException)
        {
            throw Bad("something that is not JSON");
        }
    }

    private static IEnumerable<JsonElement> Items(JsonElement list) =>
        list.ValueKind == JsonValueKind.Object && list.TryGetProperty("items", out var items) && items.ValueKind == JsonValueKind.Array ? items.EnumerateArray() : [];

    private static string Query(params (string Name, string Value)[] pairs) =>
        string.Join('&', pairs.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"));

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static long? Number(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<long>(out var n) ? n
        : o[name] is JsonValue w && w.TryGetValue<int>(out var i) ? i
        : o[name] is JsonValue x && x.TryGetValue<JsonElement>(out var el) && el.ValueKind == JsonValueKind.Number && el.TryGetInt64(out var m) ? m : null;

    private static long? Count(JsonElement stats, string name) =>
        Text(stats, name) is { } text && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string Clean(string text) => text.Replace("<", "").Replace(">", "").Trim();

    private static string Truncate(string text, int characters)
    {
        var info = new StringInfo(text);
        return info.LengthInTextElements <= characters ? text : info.SubstringByTextElements(0, characters).TrimEnd();
    }

    private static string TruncateBytes(string text, int bytes)
    {
        if (Encoding.UTF8.GetByteCount(text) <= bytes) return text;
        var info = new StringInfo(text);
        var n = info.LengthInTextElements;
        while (n > 0 && Encoding.UTF8.GetByteCount(info.SubstringByTextElements(0, n)) > bytes) n--;
        return info.SubstringByTextElements(0, n).TrimEnd();
    }

    private static string Snake(string reason) => CamelHumps().Replace(reason, "$1_$2").ToUpperInvariant();

    [GeneratedRegex(@"^bytes=0-(\d+)$")]
    private static partial Regex RangeHeader();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex CamelHumps();
}

public static class YouTubeRegistration
{
    /// <summary>
    /// The YouTube adapter, as itself and as an <see cref="IPublishingPlatform"/>: two named HttpClients with the
    /// providers' pipeline (API calls with a short attempt timeout, chunk uploads with a long one). Nothing that creates
    /// something is retried blindly: a session start or chunk is sent again only if it never reached Google; the adapter
    /// itself resumes from what Google acknowledged.
    /// </summary>
    public static IServiceCollection AddYouTubePublishing(this IServiceCollection services, YouTubeOptions options)
    {
        services.AddHttpClient(YouTubeClient.ApiClientName).AddProviderResilience(options.Timeout, postsCreateNothing: false);
        services.AddHttpClient(YouTubeClient.UploadClientName).AddProviderResilience(options.UploadTimeout, postsCreateNothing: false);
        services.AddSingleton(sp => new YouTubeClient(sp.GetRequiredService<IHttpClientFactory>(), options));
        services.AddSingleton<IPublishingPlatform>(sp => sp.GetRequiredService<YouTubeClient>());
        return services;
    }
}
