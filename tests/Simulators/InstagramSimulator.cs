using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>A Reel Instagram published, as the simulator keeps it.</summary>
public sealed record InstagramMedia(
    string Id, string UserId, string ContainerId, string Caption, bool ShareToFeed, long BytesReceived, string Shortcode, string Permalink, DateTimeOffset PublishedAt);

/// <summary>A media container: what was asked, what Instagram fetched, where it stands.</summary>
public sealed record InstagramContainer(
    string Id, string UserId, string VideoUrl, string Caption, bool ShareToFeed, string StatusCode, string? Status, long BytesReceived,
    int Downloads, string? MediaId, DateTimeOffset CreatedAt);

/// <summary>
/// The Instagram API with Instagram Login as FentaWeb uses it, on one host standing for the three (www.instagram.com's
/// <c>oauth/authorize</c>, api.instagram.com's <c>oauth/access_token</c>, graph.instagram.com): Business Login that
/// auto-approves (client id, redirect_uri, scopes, PKCE S256 checked; codes single-use, valid an hour; the redirect gets
/// Instagram's trailing <c>#_</c>), short-lived tokens (1 h) exchanged for long-lived ones (60 days) with the app
/// secret, <c>refresh_access_token</c> for a long-lived token at least <see cref="MinRefreshAge"/> old, no revocation
/// endpoint (<see cref="RevokeAllGrants"/> stands for the person removing the app: Graph code 190 subcode 458 after).
/// The versioned Graph API: <c>me</c> with field selection and <see cref="AccountType"/>; the Reels container protocol
/// (<c>POST /{ig-user-id}/media</c> with media_type=REELS, the video really fetched from <c>video_url</c> and probed with
/// ffprobe: an MP4/MOV with the moov atom in front, H.264/HEVC video of 3 s to 15 min, at most 1920 px wide, 23 to 60 fps, at most 300 MB,
/// else the container ends in ERROR; IN_PROGRESS for <see cref="ProcessingTime"/>, then FINISHED, EXPIRED after 24 h,
/// PUBLISHED once published: a second <c>media_publish</c> is refused); <c>content_publishing_limit</c> over a moving
/// 24 h window (<see cref="PublishingQuotaTotal"/>, 100 as documented; <c>since</c> honoured) and the publish refused
/// with code 9 / 2207042 when spent; media with permalinks on this host; insights (views, likes, comments, shares,
/// saved, reach, total_interactions; the retired plays and impressions refused) that grow with time since publishing;
/// a per-account call limit (<see cref="CallsPerHour"/>) answered with code 17 and an X-Business-Use-Case-Usage
/// header; errors in Graph's <c>{error:{message,type,code,error_subcode,fbtrace_id}}</c> shape (and the token
/// endpoint's <c>{error_type,code,error_message}</c>). Its clock can be moved (<see cref="Advance"/>).
/// </summary>
public sealed partial class InstagramSimulator : Simulator
{
    public const string ClientId = "990602627938098";
    public const string ClientSecret = "ig-simulator-app-secret";

    /// <summary>The FENTA_INSTAGRAM_* settings that point the adapter here (app id and secret included; containers looked at every 2 s).</summary>
    public IReadOnlyDictionary<string, string> Settings() => new Dictionary<string, string>
    {
        ["FENTA_INSTAGRAM_CLIENT_ID"] = ClientId, ["FENTA_INSTAGRAM_CLIENT_SECRET"] = ClientSecret,
        ["FENTA_INSTAGRAM_AUTH_URL"] = BaseAddress.AbsoluteUri, ["FENTA_INSTAGRAM_API_URL"] = BaseAddress.AbsoluteUri,
        ["FENTA_INSTAGRAM_GRAPH_URL"] = BaseAddress.AbsoluteUri, ["FENTA_INSTAGRAM_POLL_SECONDS"] = "2",
    };
    /// <summary>The professional account's id (what /me's user_id answers and /{ig-user-id}/... takes).</summary>
    public const string UserId = "17841400000000001";
    /// <summary>The app-scoped id /me's id answers: not accepted where the professional account's id is needed.</summary>
    public const string AppScopedId = "9000000000000001";
    public const string Username = "fenta.sim";
    public const string AccountName = "Fenta Simulator";

    public static readonly IReadOnlyList<string> KnownScopes =
    [
        "instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_insights",
        "instagram_business_manage_comments", "instagram_business_manage_messages",
    ];
    public static readonly IReadOnlyList<string> SupportedVersions = ["v22.0", "v23.0", "v24.0", "v25.0", "v26.0"];
    private static readonly string[] ReelMetrics = ["views", "reach", "likes", "comments", "shares", "saved", "total_interactions", "ig_reels_avg_watch_time", "ig_reels_video_view_total_time"];
    private static readonly HttpClient Fetcher = new() { Timeout = TimeSpan.FromMinutes(5) };
    private static readonly TimeSpan ShortLived = TimeSpan.FromHours(1);
    private static readonly TimeSpan LongLived = TimeSpan.FromDays(60);
    private static readonly TimeSpan Day = TimeSpan.FromHours(24);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, AuthCode> _codes = [];
    private readonly Dictionary<string, Token> _tokens = [];
    private readonly Dictionary<string, Container> _containers = [];
    private readonly List<InstagramMedia> _media = [];
    private readonly List<DateTimeOffset> _publishes = [];
    private readonly List<DateTimeOffset> _calls = [];
    private TimeSpan _offset;
    private long _next = 1000;
    private int _publishCalls;
    private int _answersToLose;

    /// <summary>BUSINESS, MEDIA_CREATOR or PERSONAL (a personal account answers /me but cannot publish).</summary>
    public string AccountType { get; set; } = "BUSINESS";
    /// <summary>How long a container stays IN_PROGRESS after its video was fetched.</summary>
    public TimeSpan ProcessingTime { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>A pause before Instagram fetches video_url (a slow fetch keeps the container IN_PROGRESS).</summary>
    public TimeSpan DownloadDelay { get; set; } = TimeSpan.Zero;
    /// <summary>API-published posts allowed in a moving 24 hours (content_publishing_limit's quota_total).</summary>
    public int PublishingQuotaTotal { get; set; } = 100;
    /// <summary>Graph calls one account may make in a moving hour.</summary>
    public int CallsPerHour { get; set; } = 200;
    /// <summary>How old a long-lived token must be before refresh_access_token takes it.</summary>
    public TimeSpan MinRefreshAge { get; set; } = Day;
    /// <summary>Insights: views per second since publishing (likes a tenth of views, comments a fiftieth, shares a fortieth).</summary>
    public double ViewsPerSecond { get; set; } = 2;
    /// <summary>The redirect URIs registered for the app; empty: any absolute http(s) URI.</summary>
    public HashSet<string> RegisteredRedirectUris { get; } = [];
    /// <summary>The person declines on the consent window: the redirect carries error=access_denied.</summary>
    public bool DenyConsent { get; set; }

    /// <summary>The simulator's clock: the real time moved by <see cref="Advance"/>.</summary>
    public DateTimeOffset Now => DateTimeOffset.UtcNow + _offset;

    /// <summary>Moves the simulator's clock (tokens age, containers expire, the 24 h window slides, insights grow).</summary>
    public void Advance(TimeSpan by)
    {
        lock (_gate) _offset += by;
    }

    /// <summary>The person removed the app in Instagram: every token issued so far answers 190/458.</summary>
    public void RevokeAllGrants()
    {
        lock (_gate)
            foreach (var token in _tokens.Values) token.Revoked = true;
    }

    /// <summary>The next <paramref name="count"/> media_publish calls publish, but the connection drops before the answer.</summary>
    public void LosePublishAnswers(int count) => Interlocked.Exchange(ref _answersToLose, count);

    /// <summary>Records posts published (outside this app) at <paramref name="at"/>, to spend the publishing limit.</summary>
    public void RecordPublishes(int count, DateTimeOffset at)
    {
        lock (_gate)
            for (var i = 0; i < count; i++) _publishes.Add(at);
    }

    public IReadOnlyList<InstagramMedia> Videos
    {
        get { lock (_gate) return [.. _media]; }
    }

    public IReadOnlyList<InstagramContainer> Containers
    {
        get
        {
            lock (_gate)
                return [.. _containers.Values.OrderBy(c => c.CreatedAt).Select(c => new InstagramContainer(
                    c.Id, c.UserId, c.VideoUrl, c.Caption, c.ShareToFeed, StatusCode(c), c.Error, c.Bytes, c.Downloads, c.MediaId, c.CreatedAt))];
        }
    }

    /// <summary>media_publish calls received, refused ones included.</summary>
    public int PublishCalls => _publishCalls;

    private sealed record AuthCode(string Code, string RedirectUri, string[] Scopes, string Challenge, DateTimeOffset IssuedAt)
    {
        public bool Used { get; set; }
    }

    private sealed record Token(string Value, bool LongLived, string[] Scopes, DateTimeOffset IssuedAt, DateTimeOffset ExpiresAt)
    {
        public bool Revoked { get; set; }
    }

    private sealed class Container(string id, string userId, string videoUrl, string caption, bool shareToFeed, DateTimeOffset createdAt)
    {
        public string Id { get; } = id;
        public string UserId { get; } = userId;
        public string VideoUrl { get; } = videoUrl;
        public string Caption { get; } = caption;
        public bool ShareToFeed { get; } = shareToFeed;
        public DateTimeOffset CreatedAt { get; } = createdAt;
        public DateTimeOffset? ReadyAt { get; set; }
        public string? Error { get; set; }
        public long Bytes { get; set; }
        public int Downloads { get; set; }
        public string? MediaId { get; set; }
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/oauth/authorize", (Delegate)Authorize);
        app.MapPost("/oauth/access_token", (Delegate)ExchangeCodeAsync);
        app.MapGet("/access_token", (Delegate)ExchangeForLongLived);
        app.MapGet("/refresh_access_token", (Delegate)Refresh);
        app.MapGet("/reel/{shortcode}", (string shortcode) => Videos.FirstOrDefault(m => m.Shortcode == shortcode) is { } media
            ? Results.Content($"<!doctype html><title>@{Username} on Instagram</title><p>{System.Net.WebUtility.HtmlEncode(media.Caption)}</p>", "text/html")
            : Results.NotFound());
        app.MapGet("/profile/{name}.svg", () => Results.Content(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"64\" height=\"64\"><circle cx=\"32\" cy=\"32\" r=\"32\" fill=\"#c13584\"/></svg>", "image/svg+xml"));
        app.MapMethods("/{version}/{**rest}", ["GET", "POST"], GraphAsync);
    }

    // ---- Business Login ----

    private IResult Authorize(HttpContext http)
    {
        var q = http.Request.Query;
        if (q["client_id"] != ClientId) return OAuthError(400, "Invalid platform app");
        var redirect = q["redirect_uri"].ToString();
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out var redirectUri) || redirectUri.Scheme is not ("http" or "https")
            || RegisteredRedirectUris.Count > 0 && !RegisteredRedirectUris.Contains(redirect))
            return OAuthError(400, "Invalid redirect_uri: it must match one of the app's valid OAuth redirect URIs exactly.");
        if (q["response_type"] != "code") return OAuthError(400, "Invalid response_type: set it to code.");
        var scopes = Scopes(q["scope"].ToString());
        if (scopes.Length == 0 || scopes.Except(KnownScopes).Any() || !scopes.Contains("instagram_business_basic"))
            return OAuthError(400, $"Invalid scope field(s): {q["scope"]}. instagram_business_basic is required.");
        if (q["code_challenge_method"] != "S256" || q["code_challenge"].ToString() is not { Length: >= 43 } challenge)
            return OAuthError(400, "Invalid PKCE parameters: code_challenge (S256 of the verifier, base64url) and code_challenge_method=S256 are required.");
        var separator = redirect.Contains('?') ? '&' : '?';
        var state = q.ContainsKey("state") ? $"&state={Uri.EscapeDataString(q["state"].ToString())}" : "";
        if (DenyConsent)
            return Results.Redirect($"{redirect}{separator}error=access_denied&error_reason=user_denied&error_description=Permissions+error{state}#_");
        var code = Random("AQ", 48);
        lock (_gate) _codes[code] = new AuthCode(code, redirect, scopes, challenge, Now);
        // Instagram appends #_ to the redirect; it is not part of the code.
        return Results.Redirect($"{redirect}{separator}code={Uri.EscapeDataString(code)}{state}#_");
    }

    private async Task<IResult> ExchangeCodeAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType) return OAuthError(400, "Missing required parameters: client_id, client_secret, grant_type, redirect_uri, code.");
        var form = await http.Request.ReadFormAsync();
        if (form["client_id"] != ClientId) return OAuthError(400, "Invalid platform app");
        if (form["client_secret"] != ClientSecret) return OAuthError(400, "Error validating client secret.");
        if (form["grant_type"] != "authorization_code") return OAuthError(400, "Unsupported grant_type: set it to authorization_code.");
        lock (_gate)
        {
            if (!_codes.TryGetValue(form["code"].ToString(), out var code)) return OAuthError(400, "Invalid authorization code");
            if (code.Used) return OAuthError(400, "This authorization code has been used");
            if (Now - code.IssuedAt > ShortLived) return OAuthError(400, "This authorization code has expired");
            if (form["redirect_uri"] != code.RedirectUri)
                return OAuthError(400, "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request");
            var verifier = form["code_verifier"].ToString();
            if (verifier.Length is < 43 or > 128 || Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != code.Challenge)
                return OAuthError(400, "Invalid code_verifier: it does not match the code_challenge of the authorization request");
            code.Used = true;
            var token = Issue(longLived: false, code.Scopes);
            return Results.Json(new { data = new[] { new { access_token = token.Value, user_id = UserId, permissions = string.Join(',', code.Scopes) } } });
        }
    }

    private IResult ExchangeForLongLived(HttpContext http)
    {
        var q = http.Request.Query;
        if (q["grant_type"] != "ig_exchange_token") return GraphError(400, "Unsupported grant_type: set it to ig_exchange_token.", "OAuthException", 100);
        if (q["client_secret"] != ClientSecret) return GraphError(400, "Error validating client secret.", "OAuthException", 1);
        lock (_gate)
        {
            if (Check(q["access_token"].ToString()) is { Error: { } error }) return error;
            var old = _tokens[q["access_token"].ToString()];
            if (old.LongLived) return GraphError(400, "Invalid parameter: access_token must be a short-lived token.", "IGApiException", 100);
            var token = Issue(longLived: true, old.Scopes);
            return Results.Json(new { access_token = token.Value, token_type = "bearer", expires_in = (long)LongLived.TotalSeconds });
        }
    }

    private IResult Refresh(HttpContext http)
    {
        var q = http.Request.Query;
        if (q["grant_type"] != "ig_refresh_token") return GraphError(400, "Unsupported grant_type: set it to ig_refresh_token.", "OAuthException", 100);
        lock (_gate)
        {
            if (Check(q["access_token"].ToString()) is { Error: { } error }) return error;
            var old = _tokens[q["access_token"].ToString()];
            if (!old.LongLived) return GraphError(400, "Invalid parameter: only a long-lived token can be refreshed; exchange the short-lived one first.", "IGApiException", 100);
            if (Now - old.IssuedAt < MinRefreshAge)
                return GraphError(400, $"Invalid parameter: a long-lived token can be refreshed once it is at least {MinRefreshAge.TotalHours:0.#} hours old.", "IGApiException", 100);
            // Refreshed: a new token for 60 days from now; the old one lapses at its own expiry.
            var token = Issue(longLived: true, old.Scopes);
            return Results.Json(new { access_token = token.Value, token_type = "bearer", expires_in = (long)LongLived.TotalSeconds });
        }
    }

    private Token Issue(bool longLived, string[] scopes)
    {
        var token = new Token(Random(longLived ? "IGAAL" : "IGAAS", 64), longLived, scopes, Now, Now + (longLived ? LongLived : ShortLived));
        _tokens[token.Value] = token;
        return token;
    }

    private (Token? Token, IResult? Error) Check(string value)
    {
        if (string.IsNullOrEmpty(value)) return (null, GraphError(400, "An access token is required to request this resource.", "OAuthException", 104));
        if (!_tokens.TryGetValue(value, out var token)) return (null, GraphError(400, "Invalid OAuth access token - Cannot parse access token", "OAuthException", 190));
        if (token.Revoked)
            return (null, GraphError(400, "Error validating access token: The user has not authorized application " + ClientId + ".", "OAuthException", 190, 458));
        if (Now >= token.ExpiresAt)
            return (null, GraphError(400, $"Error validating access token: Session has expired on {token.ExpiresAt.UtcDateTime:dddd, dd-MMM-yy HH:mm:ss} PST.", "OAuthException", 190, 463));
        return (token, null);
    }

    // ---- Graph API ----

    private async Task<IResult> GraphAsync(HttpContext http, string version, string? rest)
    {
        if (!VersionPattern().IsMatch(version))
            return GraphError(400, $"Unknown path components: /{version}/{rest}", "OAuthException", 2500);
        if (!SupportedVersions.Contains(version))
            return GraphError(400, $"(#2635) You are calling a deprecated version of the Graph API ({version}). Please update to the latest version.", "OAuthException", 2635);
        var p = await ParametersAsync(http);
        var value = p.GetValueOrDefault("access_token") ?? Bearer(http);
        var segments = (rest ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
        lock (_gate)
        {
            var (token, error) = Check(value ?? "");
            if (error is not null) return error;
            if (Limited(http) is { } limited) return limited;
            var post = HttpMethods.IsPost(http.Request.Method);
            return segments switch
            {
                ["me"] when !post => Me(token!, p),
                [var id] when !post => Node(http, token!, id, p),
                [var id, "media"] when post => CreateContainer(http, token!, id, p),
                [var id, "media"] => MediaList(http, token!, id, p),
                [var id, "media_publish"] when post => Publish(http, token!, id, p),
                [var id, "content_publishing_limit"] when !post => PublishingLimit(token!, id, p),
                [var id, "insights"] when !post => Insights(token!, id, p),
                _ => GraphError(400, $"Unsupported {http.Request.Method.ToLowerInvariant()} request. Object with ID '{segments.FirstOrDefault()}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "IGApiException", 100, 33),
            };
        }
    }

    /// <summary>The account's Graph calls in the moving hour; over <see cref="CallsPerHour"/>: code 17 with Graph's usage header.</summary>
    private IResult? Limited(HttpContext http)
    {
        var now = Now;
        _calls.RemoveAll(c => now - c >= TimeSpan.FromHours(1));
        if (_calls.Count >= CallsPerHour)
        {
            var minutes = _calls.Count > 0 ? (int)Math.Ceiling((_calls[0] + TimeSpan.FromHours(1) - now).TotalMinutes) : 60;
            http.Response.Headers["X-Business-Use-Case-Usage"] = JsonSerializer.Serialize(new Dictionary<string, object>
            {
                [UserId] = new[] { new { type = "instagram", call_count = 100, total_cputime = 1, total_time = 1, estimated_time_to_regain_access = Math.Max(1, minutes) } },
            });
            return GraphError(400, "(#17) User request limit reached", "OAuthException", 17, 2207051);
        }
        _calls.Add(now);
        return null;
    }

    private IResult Me(Token token, Dictionary<string, string> p)
    {
        if (!token.Scopes.Contains("instagram_business_basic")) return NoPermission();
        var origin = _origin;
        var all = new Dictionary<string, object?>
        {
            ["id"] = AppScopedId, ["user_id"] = UserId, ["username"] = Username, ["name"] = AccountName, ["account_type"] = AccountType,
            ["profile_picture_url"] = $"{origin}/profile/{Username}.svg", ["followers_count"] = 1200, ["follows_count"] = 80,
            ["media_count"] = _media.Count,
        };
        return Fields(all, p, "User", ["id"]);
    }

    private string _origin = "";

    private IResult Node(HttpContext http, Token token, string id, Dictionary<string, string> p)
    {
        if (_containers.TryGetValue(id, out var container))
        {
            if (!token.Scopes.Contains("instagram_business_content_publish")) return NoPermission();
            return Fields(new Dictionary<string, object?> { ["id"] = container.Id, ["status_code"] = StatusCode(container), ["status"] = StatusText(container) },
                p, "ShadowIGMediaBuilder", ["id"]);
        }
        if (_media.FirstOrDefault(m => m.Id == id) is { } media)
        {
            if (!token.Scopes.Contains("instagram_business_basic")) return NoPermission();
            return Fields(MediaFields(media), p, "IGMedia", ["id"]);
        }
        if (id == UserId) return Me(token, p);
        return NotFound(http, id);
    }

    private Dictionary<string, object?> MediaFields(InstagramMedia media)
    {
        var (views, likes, comments, _, _) = Counters(media);
        _ = views;
        return new()
        {
            ["id"] = media.Id, ["caption"] = media.Caption, ["media_type"] = "VIDEO", ["media_product_type"] = "REELS", ["permalink"] = media.Permalink,
            ["shortcode"] = media.Shortcode, ["timestamp"] = Timestamp(media.PublishedAt), ["username"] = Username, ["like_count"] = likes,
            ["comments_count"] = comments, ["is_shared_to_feed"] = media.ShareToFeed, ["media_url"] = $"{_origin}/reel/{media.Shortcode}/",
        };
    }

    private IResult CreateContainer(HttpContext http, Token token, string id, Dictionary<string, string> p)
    {
        if (id != UserId && id != "me") return NotFound(http, id);
        if (!token.Scopes.Contains("instagram_business_content_publish")) return NoPermission();
        if (AccountType == "PERSONAL")
            return GraphError(400, "(#10) The user is not an Instagram Business or Creator account", "OAuthException", 10);
        var mediaType = p.GetValueOrDefault("media_type");
        if (mediaType == "VIDEO")
            return GraphError(400, "The VIDEO media type is no longer supported; use REELS to publish a video.", "IGApiException", 100, 2207023);
        if (mediaType != "REELS")
            return GraphError(400, $"The simulator publishes Reels only: media_type={mediaType ?? "(missing)"} is not simulated.", "IGApiException", 100);
        if (p.GetValueOrDefault("video_url") is not { } url || !Uri.TryCreate(url, UriKind.Absolute, out var videoUri) || videoUri.Scheme is not ("http" or "https"))
            return GraphError(400, "(#100) The parameter video_url is required and must be an absolute http(s) URL.", "OAuthException", 100);
        var caption = p.GetValueOrDefault("caption") ?? "";
        if (caption.Length > 2200) return GraphError(400, "(#100) The caption is longer than 2200 characters.", "OAuthException", 100, 2207003);
        if (HashtagPattern().Matches(caption).Count > 30) return GraphError(400, "(#100) The caption has more than 30 hashtags.", "OAuthException", 100);
        if (MentionPattern().Matches(caption).Count > 20) return GraphError(400, "(#100) The caption has more than 20 @ mentions.", "OAuthException", 100);
        var share = p.GetValueOrDefault("share_to_feed") ?? "true";
        if (share is not ("true" or "false")) return GraphError(400, "(#100) Param share_to_feed must be a boolean", "OAuthException", 100);
        var container = new Container(NextId("1800"), UserId, url, caption, share == "true", Now);
        _containers[container.Id] = container;
        _ = FetchAsync(container);
        return Results.Json(new { id = container.Id });
    }

    /// <summary>Instagram fetches the video from video_url (cURL in its words): a real GET, then a probe of what came back.</summary>
    private async Task FetchAsync(Container container)
    {
        try
        {
            if (DownloadDelay > TimeSpan.Zero) await Task.Delay(DownloadDelay);
            lock (_gate) container.Downloads++;
            using var response = await Fetcher.GetAsync(container.VideoUrl, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                Fail(container, $"Error: Media download has failed. The media URI doesn't meet our requirements (HTTP {(int)response.StatusCode} from video_url). (2207052)");
                return;
            }
            // A file of its own per download: container ids restart with each simulator, and an earlier test's download may still run.
            var path = Path.Combine(Path.GetTempPath(), $"ig-sim-{container.Id}-{Guid.NewGuid():N}.mp4");
            long bytes;
            await using (var file = File.Create(path))
            {
                await using var body = await response.Content.ReadAsStreamAsync();
                var buffer = new byte[81920];
                bytes = 0;
                int read;
                while ((read = await body.ReadAsync(buffer)) > 0)
                {
                    bytes += read;
                    if (bytes > 300_000_000)
                    {
                        Fail(container, "Error: The video file is larger than 300 MB. (2207004)");
                        return;
                    }
                    await file.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            lock (_gate) container.Bytes = bytes;
            var problem = await ProbeAsync(path, bytes);
            File.Delete(path);
            if (problem is not null)
            {
                Fail(container, $"Error: {problem} (2207026)");
                return;
            }
            lock (_gate) container.ReadyAt = Now + ProcessingTime;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            Fail(container, $"Error: Media download has failed. The media could not be fetched from video_url ({e.GetType().Name}). (2207052)");
        }
    }

    private void Fail(Container container, string status)
    {
        lock (_gate) container.Error = status;
    }

    /// <summary>The Reels specification: an MP4/MOV, H.264 or HEVC, AAC if any audio, 3 s to 15 min, at most 1920 px wide, 23 to 60 fps, aspect 0.01:1 to 10:1.</summary>
    private static async Task<string?> ProbeAsync(string path, long bytes)
    {
        await using (var file = File.OpenRead(path))
        {
            var head = new byte[12];
            if (bytes < 1024 || await file.ReadAsync(head) < 12 || Encoding.ASCII.GetString(head, 4, 4) != "ftyp")
                return "The video is not an MP4 or MOV file.";
            // Reels want the moov atom at the front (ffmpeg's -movflags +faststart): walk the top-level boxes.
            long offset = 0;
            var header = new byte[16];
            while (offset + 8 <= bytes)
            {
                file.Position = offset;
                if (await file.ReadAsync(header.AsMemory(0, 16)) < 8) break;
                var size = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(header);
                var type = Encoding.ASCII.GetString(header, 4, 4);
                if (type == "moov") break;
                if (type == "mdat") return "The moov atom is not at the front of the file (write it with faststart).";
                if (size == 1) size = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(header.AsSpan(8));
                if (size < 8) return "The MP4 file's boxes are malformed.";
                offset += size;
            }
        }
        var start = new ProcessStartInfo("ffprobe", ["-v", "error", "-show_entries", "stream=codec_type,codec_name,width,height,avg_frame_rate:format=duration,format_name", "-of", "json", path])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        using var probe = Process.Start(start)!;
        var output = await probe.StandardOutput.ReadToEndAsync();
        await probe.WaitForExitAsync();
        if (probe.ExitCode != 0) return "The video could not be decoded.";
        using var doc = JsonDocument.Parse(output);
        var streams = doc.RootElement.GetProperty("streams").EnumerateArray().ToList();
        var video = streams.FirstOrDefault(s => s.GetProperty("codec_type").GetString() == "video");
        if (video.ValueKind != JsonValueKind.Object) return "The file has no video stream.";
        var codec = video.GetProperty("codec_name").GetString();
        if (codec is not ("h264" or "hevc")) return $"The video codec {codec} is not supported (H.264 or HEVC).";
        if (streams.FirstOrDefault(s => s.GetProperty("codec_type").GetString() == "audio") is { ValueKind: JsonValueKind.Object } audio
            && audio.GetProperty("codec_name").GetString() is var audioCodec && audioCodec != "aac")
            return $"The audio codec {audioCodec} is not supported (AAC).";
        var width = video.GetProperty("width").GetInt32();
        var height = video.GetProperty("height").GetInt32();
        if (width > 1920) return $"The video is {width} px wide; at most 1920.";
        var aspect = (double)width / height;
        if (aspect is < 0.01 or > 10) return $"The aspect ratio {width}:{height} is outside 0.01:1 to 10:1. (2207009)";
        var rate = video.GetProperty("avg_frame_rate").GetString()!.Split('/') is [var n, var d] && double.Parse(d, CultureInfo.InvariantCulture) is > 0 and var den
            ? double.Parse(n, CultureInfo.InvariantCulture) / den : 0;
        if (rate is < 23 or > 60.5) return $"The frame rate {rate:0.##} fps is outside 23 to 60 fps.";
        var duration = double.Parse(doc.RootElement.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture);
        if (duration < 3 || duration > 15 * 60) return $"The video lasts {duration:0.#} s; Reels last 3 s to 15 minutes.";
        return null;
    }

    private string StatusCode(Container c) =>
        c.MediaId is not null ? "PUBLISHED"
        : c.Error is not null ? "ERROR"
        : Now - c.CreatedAt >= Day ? "EXPIRED"
        : c.ReadyAt is { } ready && Now >= ready ? "FINISHED"
        : "IN_PROGRESS";

    private string StatusText(Container c) => StatusCode(c) switch
    {
        "ERROR" => c.Error!,
        "EXPIRED" => "Expired: the container was not published within 24 hours.",
        "IN_PROGRESS" => c.Downloads == 0 ? "In Progress: fetching the video" : "In Progress",
        "FINISHED" => "Finished: ready to publish",
        _ => "Published",
    };

    private IResult Publish(HttpContext http, Token token, string id, Dictionary<string, string> p)
    {
        Interlocked.Increment(ref _publishCalls);
        if (id != UserId && id != "me") return NotFound(http, id);
        if (!token.Scopes.Contains("instagram_business_content_publish")) return NoPermission();
        if (p.GetValueOrDefault("creation_id") is not { } creationId) return GraphError(400, "(#100) The parameter creation_id is required.", "OAuthException", 100);
        if (!_containers.TryGetValue(creationId, out var container) || container.UserId != UserId)
            return GraphError(400, "Media ID is not available", "OAuthException", 9007, 2207006, "Media not found", $"The media with id {creationId} cannot be found.");
        switch (StatusCode(container))
        {
            case "IN_PROGRESS":
                return GraphError(400, "Media ID is not available", "OAuthException", 9007, 2207027, "Media not ready", "The media is not ready for publishing, please wait for a moment.");
            case "ERROR":
                return GraphError(400, "Media ID is not available", "OAuthException", 9007, 2207032, "Media upload failed", $"The media could not be published: {container.Error}");
            case "EXPIRED":
                return GraphError(400, "Media ID is not available", "OAuthException", 9007, 2207008, "Media expired", "The media container has expired; create a new one.");
            case "PUBLISHED":
                return GraphError(400, "Media ID is not available", "OAuthException", 9007, 2207006, "Media already published", $"The media with id {creationId} has already been published.");
        }
        if (Usage(null) >= PublishingQuotaTotal)
            return GraphError(400, "Application request limit reached", "OAuthException", 9, 2207042, "Maximum number of posts reached",
                "The account has reached the maximum number of posts allowed to be published by the Content Publishing API in 24 hours.");
        var shortcode = Random("C", 10);
        var media = new InstagramMedia(NextId("1790"), UserId, container.Id, container.Caption, container.ShareToFeed, container.Bytes, shortcode,
            $"{_origin}/reel/{shortcode}/", Now);
        _media.Add(media);
        _publishes.Add(media.PublishedAt);
        container.MediaId = media.Id;
        if (Interlocked.Decrement(ref _answersToLose) >= 0)
        {
            // Published, but the answer never reaches the client.
            http.Abort();
            return Results.Empty;
        }
        Interlocked.Exchange(ref _answersToLose, 0);
        return Results.Json(new { id = media.Id });
    }

    private IResult MediaList(HttpContext http, Token token, string id, Dictionary<string, string> p)
    {
        if (id != UserId && id != "me") return NotFound(http, id);
        if (!token.Scopes.Contains("instagram_business_basic")) return NoPermission();
        var limit = int.TryParse(p.GetValueOrDefault("limit"), out var l) ? Math.Clamp(l, 1, 100) : 25;
        var rows = new List<Dictionary<string, object?>>();
        foreach (var media in _media.OrderByDescending(m => m.PublishedAt).Take(limit))
        {
            if (Select(MediaFields(media), p, "IGMedia", ["id"]) is not { } row) return UnknownField(p, "IGMedia", MediaFields(media));
            rows.Add(row);
        }
        return Results.Json(new { data = rows, paging = new { cursors = new { before = "QVFI", after = "QVFI" } } });
    }

    private int Usage(DateTimeOffset? since)
    {
        var from = Now - Day;
        if (since is { } s && s > from) from = s;
        return _publishes.Count(t => t >= from && t <= Now);
    }

    private IResult PublishingLimit(Token token, string id, Dictionary<string, string> p)
    {
        if (id != UserId && id != "me") return GraphError(400, $"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "IGApiException", 100, 33);
        if (!token.Scopes.Contains("instagram_business_content_publish")) return NoPermission();
        DateTimeOffset? since = null;
        if (p.GetValueOrDefault("since") is { } text)
        {
            if (!long.TryParse(text, out var unix)) return GraphError(400, "(#100) Param since must be a unix timestamp", "OAuthException", 100);
            since = DateTimeOffset.FromUnixTimeSeconds(unix);
            if (since < Now - Day - TimeSpan.FromSeconds(5)) return GraphError(400, "(#100) Param since must be a unix timestamp no older than 24 hours", "OAuthException", 100);
        }
        var fields = (p.GetValueOrDefault("fields") ?? "quota_usage").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var row = new Dictionary<string, object>();
        foreach (var field in fields)
        {
            switch (field)
            {
                case "quota_usage": row["quota_usage"] = Usage(since); break;
                case "config": row["config"] = new { quota_total = PublishingQuotaTotal, quota_duration = (long)Day.TotalSeconds }; break;
                default: return GraphError(400, $"(#100) Tried accessing nonexisting field ({field}) on node type (ContentPublishingLimit)", "OAuthException", 100);
            }
        }
        return Results.Json(new { data = new[] { row } });
    }

    private (long Views, long Likes, long Comments, long Shares, long Saved) Counters(InstagramMedia media)
    {
        var seconds = Math.Max(0, (Now - media.PublishedAt).TotalSeconds);
        var views = (long)(seconds * ViewsPerSecond);
        return (views, views / 10, views / 50, views / 40, views / 60);
    }

    private IResult Insights(Token token, string id, Dictionary<string, string> p)
    {
        if (_media.FirstOrDefault(m => m.Id == id) is not { } media)
            return GraphError(400, $"Unsupported get request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", "IGApiException", 100, 33);
        if (!token.Scopes.Contains("instagram_business_manage_insights")) return NoPermission();
        if (p.GetValueOrDefault("metric") is not { Length: > 0 } list) return GraphError(400, "(#100) The parameter metric is required", "OAuthException", 100);
        var metrics = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < metrics.Length; i++)
            if (!ReelMetrics.Contains(metrics[i]))
                return GraphError(400, $"(#100) metric[{i}] must be one of the following values: {string.Join(", ", ReelMetrics)}", "OAuthException", 100);
        var (views, likes, comments, shares, saved) = Counters(media);
        long ValueOf(string metric) => metric switch
        {
            "views" => views, "reach" => views * 4 / 5, "likes" => likes, "comments" => comments, "shares" => shares, "saved" => saved,
            "total_interactions" => likes + comments + shares + saved, "ig_reels_avg_watch_time" => 4200, _ => views * 4200,
        };
        return Results.Json(new
        {
            data = metrics.Select(m => new
            {
                name = m, period = "lifetime", values = new[] { new { value = ValueOf(m) } },
                title = CultureInfo.InvariantCulture.TextInfo.ToTitleCase(m.Replace('_', ' ')), description = $"The {m.Replace('_', ' ')} of this Reel.",
                id = $"{media.Id}/insights/{m}/lifetime",
            }),
        });
    }

    // ---- helpers ----

    private IResult Fields(Dictionary<string, object?> all, Dictionary<string, string> p, string nodeType, string[] defaults) =>
        Select(all, p, nodeType, defaults) is { } row ? Results.Json(row) : UnknownField(p, nodeType, all);

    private static Dictionary<string, object?>? Select(Dictionary<string, object?> all, Dictionary<string, string> p, string nodeType, string[] defaults)
    {
        var fields = p.GetValueOrDefault("fields") is { Length: > 0 } f ? f.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : defaults;
        if (fields.Any(f => !all.ContainsKey(f))) return null;
        var row = fields.ToDictionary(f => f, f => all[f]);
        row["id"] = all["id"];
        return row;
    }

    private static IResult UnknownField(Dictionary<string, string> p, string nodeType, Dictionary<string, object?> all)
    {
        var field = (p.GetValueOrDefault("fields") ?? "").Split(',', StringSplitOptions.TrimEntries).First(f => !all.ContainsKey(f));
        return GraphError(400, $"(#100) Tried accessing nonexisting field ({field}) on node type ({nodeType})", "OAuthException", 100);
    }

    private static IResult NotFound(HttpContext http, string id) =>
        GraphError(400, $"Unsupported {http.Request.Method.ToLowerInvariant()} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",
            "IGApiException", 100, 33);

    private static IResult NoPermission() => GraphError(403, "(#10) Application does not have permission for this action", "OAuthException", 10);

    /// <summary>Graph's error shape.</summary>
    public static IResult GraphError(int status, string message, string type, int code, int? subcode = null, string? userTitle = null, string? userMessage = null, bool transient = false) =>
        Results.Json(new Dictionary<string, object>
        {
            ["error"] = new Dictionary<string, object?>
            {
                ["message"] = message, ["type"] = type, ["code"] = code, ["error_subcode"] = subcode, ["is_transient"] = transient,
                ["error_user_title"] = userTitle, ["error_user_msg"] = userMessage, ["fbtrace_id"] = Random("A", 20),
            }.Where(e => e.Value is not null).ToDictionary(),
        }, statusCode: status);

    /// <summary>The code exchange endpoint's own error shape.</summary>
    private static IResult OAuthError(int status, string message) =>
        Results.Json(new { error_type = "OAuthException", code = status, error_message = message }, statusCode: status);

    private async Task<Dictionary<string, string>> ParametersAsync(HttpContext http)
    {
        _origin = $"{http.Request.Scheme}://{http.Request.Host}";
        var p = http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString());
        if (http.Request.HasFormContentType)
            foreach (var (key, value) in await http.Request.ReadFormAsync()) p[key] = value.ToString();
        else if (http.Request.ContentType?.Contains("json") == true)
        {
            using var doc = await JsonDocument.ParseAsync(http.Request.Body);
            foreach (var property in doc.RootElement.EnumerateObject())
                p[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }
        return p;
    }

    private static string? Bearer(HttpContext http) =>
        http.Request.Headers.Authorization.ToString() is var header && (header.StartsWith("Bearer ", StringComparison.Ordinal) || header.StartsWith("OAuth ", StringComparison.Ordinal))
            ? header[(header.IndexOf(' ') + 1)..].Trim() : null;

    private static string[] Scopes(string scope) =>
        scope.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToArray();

    private string NextId(string prefix) => prefix + Interlocked.Increment(ref _next).ToString("D13", CultureInfo.InvariantCulture);

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + "+0000";

    private static string Random(string prefix, int bytes) => prefix + Base64Url(RandomNumberGenerator.GetBytes(bytes));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex(@"^v\d+\.\d+$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"#\w+")]
    private static partial Regex HashtagPattern();

    [GeneratedRegex(@"@\w+")]
    private static partial Regex MentionPattern();
}
