using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// Google's OAuth 2.0 for web server apps and the YouTube Data API v3 as the publishing adapter uses them, strictly:
/// <list type="bullet">
/// <item>Consent (<c>GET /o/oauth2/v2/auth</c>) that auto-approves for the account <c>login_hint</c> names (one channel
/// each): the client id, <c>response_type=code</c>, known scopes and <c>code_challenge_method=S256</c> are required
/// (an error page otherwise, as Google shows); a refresh token only with <c>access_type=offline</c>, and again for an
/// account that already granted only with <c>prompt=consent</c>.</item>
/// <item>Tokens (<c>POST /token</c>, form only): client secret checked (401 invalid_client), codes single-use and
/// short-lived, the redirect_uri must match (redirect_uri_mismatch), the PKCE verifier must hash (SHA-256, base64url)
/// to the challenge (invalid_grant "Invalid code verifier."). A refresh answers no refresh token (Google does not
/// rotate them); a revoked grant is invalid_grant "Token has been expired or revoked.". <c>POST /revoke?token=</c>
/// ends the whole grant (invalid_token when unknown).</item>
/// <item>The API (Bearer): 401 authError for an unknown, expired or revoked token; 403 insufficientPermissions
/// without the scope (upload: youtube.upload; channel and videos.list: youtube.readonly).</item>
/// <item>The resumable upload: the metadata checked as YouTube does (title 1–100 characters and description at most
/// 5,000 bytes, neither with &lt; or &gt;; tags at most 500 characters; a known category; privacy public, unlisted or
/// private; publishAt only for a private video and in the future), the project's daily upload quota (403 quotaExceeded,
/// reset at midnight Pacific time) and a channel's 24-hour upload limit (400 uploadLimitExceeded); chunks whose
/// Content-Range starts at the byte the session holds, every one but the last a multiple of 256 KiB; 308 with
/// <c>Range: bytes=0-N</c> (none before the first byte); the status query <c>bytes */total</c>; 201 with the video
/// resource when the last byte lands; 404 for an unknown or expired session. Sessions live here, so they survive a
/// client restart.</item>
/// <item>Processing: <c>uploaded</c> for <see cref="ProcessingTime"/>, then <c>processed</c> (or <c>failed</c> with
/// <c>invalidFile</c> when the bytes are not a video container).</item>
/// <item>Statistics that grow with the time since processing (<see cref="ViewsPerSecond"/>; a private video has none).</item>
/// </list>
/// </summary>
public sealed class YouTubeSimulator : Simulator
{
    public const string ClientId = "fenta-sim-youtube.apps.googleusercontent.com";
    public const string ClientSecret = "GOCSPX-fenta-sim-youtube-secret";
    public const string UploadScope = "https://www.googleapis.com/auth/youtube.upload";
    public const string ReadonlyScope = "https://www.googleapis.com/auth/youtube.readonly";
    public const string YouTubeScope = "https://www.googleapis.com/auth/youtube";
    public const string ForceSslScope = "https://www.googleapis.com/auth/youtube.force-ssl";
    /// <summary>The account consent picks without a login_hint.</summary>
    public const string DefaultAccount = "creator@example.com";
    public const int ChunkUnit = 256 * 1024;

    private static readonly HashSet<string> KnownScopes = [UploadScope, ReadonlyScope, YouTubeScope, ForceSslScope,
        "openid", "email", "profile", "https://www.googleapis.com/auth/userinfo.email", "https://www.googleapis.com/auth/userinfo.profile"];
    private static readonly HashSet<string> Categories = ["1", "2", "10", "15", "17", "19", "20", "22", "23", "24", "25", "26", "27", "28", "29"];
    private static readonly HashSet<string> VideoParts = ["snippet", "status", "contentDetails", "statistics", "processingDetails", "id", "recordingDetails", "localizations"];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Channel> _channels = [];
    private readonly Dictionary<string, Code> _codes = [];
    private readonly Dictionary<string, Grant> _grantsByRefresh = [];
    private readonly Dictionary<string, AccessToken> _accessTokens = [];
    private readonly Dictionary<string, Session> _sessions = [];
    private readonly Dictionary<string, Video> _videos = [];
    private readonly List<DateTimeOffset> _uploadsToday = [];
    private readonly List<DateTimeOffset> _unitsToday = [];

    // ---- knobs ----

    /// <summary>How long each chunk is held before it is accepted (a chunk whose request is aborted meanwhile is not).</summary>
    public TimeSpan ChunkDelay { get; set; }
    /// <summary>Upload sessions the project may start per Pacific day (403 quotaExceeded beyond); <see cref="ResetQuota"/> starts a new day.</summary>
    public int DailyUploadQuota { get; set; } = 100;
    /// <summary>Units per Pacific day for every other endpoint (channels.list and videos.list cost 1 each; 403 quotaExceeded beyond).</summary>
    public int DailyUnitQuota { get; set; } = 10_000;
    /// <summary>Videos one channel may upload in 24 hours (400 uploadLimitExceeded beyond).</summary>
    public int ChannelUploadsPer24Hours { get; set; } = 1000;
    /// <summary>How long a video stays <c>uploaded</c> before it is <c>processed</c>.</summary>
    public TimeSpan ProcessingTime { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromSeconds(3599);
    /// <summary>Google keeps a resumable session for about a week.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);
    /// <summary>Views a public or unlisted video gains per second after processing (likes a tenth, comments a fiftieth).</summary>
    public double ViewsPerSecond { get; set; } = 2;
    /// <summary>Consent is denied: the browser goes back with error=access_denied.</summary>
    public bool DenyConsent { get; set; }
    /// <summary>When non-empty, the only redirect URIs the client has registered (Google refuses others).</summary>
    public HashSet<string> RegisteredRedirectUris { get; } = [];

    // ---- what tests read ----

    public sealed record Channel(string Id, string Account, string Title, string Handle);
    public sealed record Chunk(long First, long Last, int Length);

    /// <summary>A resumable upload session as the simulator holds it.</summary>
    public sealed class Session
    {
        public required string Id { get; init; }
        public required string ChannelId { get; init; }
        public required long? Total { get; init; }
        public required string ContentType { get; init; }
        public required JsonObject Metadata { get; init; }
        public DateTimeOffset Created { get; init; } = DateTimeOffset.UtcNow;
        public long Received { get; internal set; }
        public List<Chunk> Chunks { get; } = [];
        public int StatusQueries { get; internal set; }
        public string? VideoId { get; internal set; }
        public bool Expired { get; internal set; }
        internal IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        internal byte[] Head { get; } = new byte[16];
    }

    /// <summary>A video as published: what the adapter sent and what arrived.</summary>
    public sealed record Video(string Id, string ChannelId, string Title, string Description, IReadOnlyList<string> Tags, string CategoryId,
        string Privacy, DateTimeOffset? PublishAt, bool SelfDeclaredMadeForKids, bool ContainsSyntheticMedia, long Bytes, string Sha256,
        string SessionId, DateTimeOffset UploadedAt, bool ValidContainer);

    public IReadOnlyList<Video> Videos { get { lock (_lock) return [.. _videos.Values.OrderBy(v => v.UploadedAt)]; } }
    public IReadOnlyList<Session> Sessions { get { lock (_lock) return [.. _sessions.Values.OrderBy(s => s.Created)]; } }
    public IReadOnlyList<Channel> Channels { get { lock (_lock) return [.. _channels.Values]; } }
    /// <summary>Upload sessions started today (Pacific) against <see cref="DailyUploadQuota"/>.</summary>
    public int UploadsToday { get { lock (_lock) return _uploadsToday.Count(t => PacificDate(t) == PacificDate(DateTimeOffset.UtcNow)); } }
    /// <summary>Units spent today (Pacific) against <see cref="DailyUnitQuota"/>.</summary>
    public int UnitsToday { get { lock (_lock) return _unitsToday.Count(t => PacificDate(t) == PacificDate(DateTimeOffset.UtcNow)); } }

    /// <summary>The FENTA_YOUTUBE_* settings that point the adapter here (client id and secret included).</summary>
    public IReadOnlyDictionary<string, string> Settings() => new Dictionary<string, string>
    {
        ["FENTA_YOUTUBE_CLIENT_ID"] = ClientId, ["FENTA_YOUTUBE_CLIENT_SECRET"] = ClientSecret,
        ["FENTA_YOUTUBE_AUTH_URL"] = BaseAddress.AbsoluteUri, ["FENTA_YOUTUBE_OAUTH_URL"] = BaseAddress.AbsoluteUri,
        ["FENTA_YOUTUBE_API_URL"] = BaseAddress.AbsoluteUri, ["FENTA_YOUTUBE_WATCH_URL"] = BaseAddress.AbsoluteUri,
    };

    /// <summary>The channel of an account (made on first use).</summary>
    public Channel ChannelOf(string account)
    {
        lock (_lock) return ChannelLocked(account);
    }

    /// <summary>A new quota day: the day's upload count starts again.</summary>
    public void ResetQuota()
    {
        lock (_lock)
        {
            _uploadsToday.Clear();
            _unitsToday.Clear();
        }
    }

    /// <summary>The user revoked the app's access in their Google account: every grant and token stops working.</summary>
    public void RevokeAllGrants()
    {
        lock (_lock)
        {
            foreach (var grant in _grantsByRefresh.Values) grant.Revoked = true;
            foreach (var token in _accessTokens.Values) token.Grant.Revoked = true;
        }
    }

    /// <summary>Every access token expires now (refresh tokens stay good).</summary>
    public void ExpireAccessTokens()
    {
        lock (_lock)
            foreach (var key in _accessTokens.Keys.ToList()) _accessTokens[key] = _accessTokens[key] with { Expires = DateTimeOffset.UtcNow.AddSeconds(-1) };
    }

    /// <summary>The session expires as if a week passed: its URI answers 404.</summary>
    public void ExpireSession(string id)
    {
        lock (_lock) _sessions[id].Expired = true;
    }

    // ---- state ----

    private sealed record Code(string Value, string ClientId, string RedirectUri, string Challenge, IReadOnlyList<string> Scopes, string Account,
        bool Offline, DateTimeOffset Expires)
    {
        public bool Used { get; set; }
    }

    private sealed class Grant(string account, IReadOnlyList<string> scopes)
    {
        public string Account { get; } = account;
        public IReadOnlyList<string> Scopes { get; } = scopes;
        public bool Revoked { get; set; }
    }

    private sealed record AccessToken(Grant Grant, DateTimeOffset Expires);

    private Channel ChannelLocked(string account)
    {
        if (_channels.TryGetValue(account, out var channel)) return channel;
        var name = account.Split('@')[0];
        channel = new Channel("UC" + Token(16)[..22], account, $"{char.ToUpperInvariant(name[0])}{name[1..]} Shorts", "@" + name.ToLowerInvariant());
        _channels[account] = channel;
        return channel;
    }

    private static string Token(int bytes) => Convert.ToBase64String(RandomNumberGenerator.GetBytes(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Origin(HttpContext http) => $"{http.Request.Scheme}://{http.Request.Host}";

    private static TimeZoneInfo Pacific { get; } = TimeZoneInfo.FindSystemTimeZoneById("America/Los_Angeles");

    private static DateOnly PacificDate(DateTimeOffset t) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(t, Pacific).DateTime);

    protected override void Map(WebApplication app)
    {
        app.MapGet("/o/oauth2/v2/auth", Authorize);
        app.MapPost("/token", (Delegate)TokenAsync);
        app.MapPost("/revoke", (Delegate)RevokeAsync);
        app.MapGet("/youtube/v3/channels", Channels_);
        app.MapGet("/youtube/v3/videos", VideosList);
        app.MapPost("/upload/youtube/v3/videos", (Delegate)StartUploadAsync);
        app.MapPut("/upload/youtube/v3/videos", (Delegate)PutChunkAsync);
        app.MapGet("/shorts/{id}", (string id) => WatchPage(id));
        app.MapGet("/watch", (string v) => WatchPage(v));
        app.MapGet("/avatars/{id}", (string id) => Results.Bytes(Avatar, "image/png"));
    }

    // ---- OAuth ----

    private IResult Authorize(HttpContext http)
    {
        var q = http.Request.Query;
        // Google shows its own error page for a malformed request; only the person's answer goes back to the app.
        if (q["client_id"].ToString() != ClientId) return ErrorPage(401, "invalid_client", "The OAuth client was not found.");
        var redirect = q["redirect_uri"].ToString();
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out _) || RegisteredRedirectUris.Count > 0 && !RegisteredRedirectUris.Contains(redirect))
            return ErrorPage(400, "redirect_uri_mismatch", $"The redirect URI in the request, {redirect}, does not match the ones authorized for the OAuth client.");
        if (q["response_type"].ToString() != "code") return ErrorPage(400, "unsupported_response_type", "Only response_type=code is enabled for this client.");
        var scopes = q["scope"].ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (scopes.Length == 0) return ErrorPage(400, "invalid_request", "Missing required parameter: scope");
        if (scopes.FirstOrDefault(s => !KnownScopes.Contains(s)) is { } unknown) return ErrorPage(400, "invalid_scope", $"Some requested scopes were invalid. {{invalid={unknown}}}");
        var challenge = q["code_challenge"].ToString();
        if (q["code_challenge_method"].ToString() != "S256") return ErrorPage(400, "invalid_request", "code_challenge_method must be S256.");
        if (challenge.Length is < 43 or > 128 || challenge.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')))
            return ErrorPage(400, "invalid_request", "Invalid code_challenge.");
        var state = q["state"].ToString();
        var separator = redirect.Contains('?') ? '&' : '?';
        var stateParam = state.Length > 0 ? $"&state={Uri.EscapeDataString(state)}" : "";
        if (DenyConsent) return Results.Redirect($"{redirect}{separator}error=access_denied{stateParam}");

        var account = q["login_hint"].ToString() is { Length: > 0 } hint ? hint : DefaultAccount;
        var offline = q["access_type"].ToString() == "offline";
        lock (_lock)
        {
            ChannelLocked(account);
            // A refresh token comes with the first consent; an account that already granted gets one again only with prompt=consent.
            var granted = _grantsByRefresh.Values.Where(g => g.Account == account && !g.Revoked).ToList();
            var all = q["include_granted_scopes"].ToString() == "true" ? granted.SelectMany(g => g.Scopes).Concat(scopes).Distinct().ToList() : [.. scopes];
            offline = offline && (granted.Count == 0 || q["prompt"].ToString().Split(' ').Contains("consent"));
            var code = "4/0A" + Token(32);
            _codes[code] = new Code(code, ClientId, redirect, challenge, all, account, offline, DateTimeOffset.UtcNow + CodeLifetime);
            return Results.Redirect($"{redirect}{separator}code={Uri.EscapeDataString(code)}{stateParam}&scope={Uri.EscapeDataString(string.Join(' ', all))}");
        }
    }

    private static IResult ErrorPage(int status, string error, string message) =>
        Results.Content($"<!doctype html><title>Error {status}: {error}</title><h1>Access blocked: Authorization Error</h1><p>{System.Net.WebUtility.HtmlEncode(message)}</p><p>Error {status}: {error}</p>",
            "text/html", Encoding.UTF8, status);

    private static IResult OAuthError(int status, string error, string description) => Results.Json(new { error, error_description = description }, statusCode: status);

    private async Task<IResult> TokenAsync(HttpContext http)
    {
        if (!http.Request.HasFormContentType) return OAuthError(400, "invalid_request", "Invalid request: the body must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync();
        var (clientId, secret) = (form["client_id"].ToString(), form["client_secret"].ToString());
        if (http.Request.Headers.Authorization.ToString() is { } basic && basic.StartsWith("Basic ", StringComparison.Ordinal))
        {
            var pair = Encoding.UTF8.GetString(Convert.FromBase64String(basic[6..])).Split(':', 2);
            (clientId, secret) = (Uri.UnescapeDataString(pair[0]), pair.Length > 1 ? Uri.UnescapeDataString(pair[1]) : "");
        }
        if (clientId != ClientId) return OAuthError(401, "invalid_client", "The OAuth client was not found.");
        if (secret != ClientSecret) return OAuthError(401, "invalid_client", "Unauthorized");
        lock (_lock)
        {
            switch (form["grant_type"].ToString())
            {
                case "authorization_code":
                    if (!_codes.TryGetValue(form["code"].ToString(), out var code) || code.Used || code.Expires < DateTimeOffset.UtcNow)
                        return OAuthError(400, "invalid_grant", code is null ? "Malformed auth code." : "Bad Request");
                    if (form["redirect_uri"].ToString() != code.RedirectUri) return OAuthError(400, "redirect_uri_mismatch", "Bad Request");
                    var verifier = form["code_verifier"].ToString();
                    if (verifier.Length == 0) return OAuthError(400, "invalid_grant", "Missing code verifier.");
                    if (Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != code.Challenge) return OAuthError(400, "invalid_grant", "Invalid code verifier.");
                    code.Used = true;
                    var grant = new Grant(code.Account, code.Scopes);
                    string? refresh = null;
                    if (code.Offline)
                    {
                        refresh = "1//0" + Token(48);
                        _grantsByRefresh[refresh] = grant;
                    }
                    return Results.Json(TokenAnswer(grant, refresh));
                case "refresh_token":
                    if (!_grantsByRefresh.TryGetValue(form["refresh_token"].ToString(), out var held) || held.Revoked)
                        return OAuthError(400, "invalid_grant", "Token has been expired or revoked.");
                    // Google does not rotate refresh tokens: no refresh_token in the answer; the one held stays good.
                    return Results.Json(TokenAnswer(held, null));
                default:
                    return OAuthError(400, "unsupported_grant_type", "Invalid grant_type: " + form["grant_type"]);
            }
        }
    }

    private JsonObject TokenAnswer(Grant grant, string? refreshToken)
    {
        var access = "ya29." + Token(64);
        _accessTokens[access] = new AccessToken(grant, DateTimeOffset.UtcNow + AccessTokenLifetime);
        var answer = new JsonObject
        {
            ["access_token"] = access,
            ["expires_in"] = (long)AccessTokenLifetime.TotalSeconds,
            ["scope"] = string.Join(' ', grant.Scopes),
            ["token_type"] = "Bearer",
        };
        if (refreshToken is not null) answer["refresh_token"] = refreshToken;
        return answer;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<IResult> RevokeAsync(HttpContext http)
    {
        var token = http.Request.Query["token"].ToString();
        if (token.Length == 0 && http.Request.HasFormContentType) token = (await http.Request.ReadFormAsync())["token"].ToString();
        lock (_lock)
        {
            var grant = _grantsByRefresh.TryGetValue(token, out var g) ? g : _accessTokens.TryGetValue(token, out var a) ? a.Grant : null;
            if (grant is null || grant.Revoked) return OAuthError(400, "invalid_token", "Token expired or revoked");
            grant.Revoked = true;
            return Results.Ok();
        }
    }

    // ---- the API ----

    private static IResult ApiError(int status, string reason, string message, string domain = "global", string? statusText = null) => Results.Json(new
    {
        error = new
        {
            code = status, message,
            errors = new[] { new { message, domain, reason } },
            status = statusText ?? status switch { 400 => "INVALID_ARGUMENT", 401 => "UNAUTHENTICATED", 403 => "PERMISSION_DENIED", 404 => "NOT_FOUND", _ => "UNKNOWN" },
        },
    }, statusCode: status);

    /// <summary>A unit of the day's quota for a list call (every request costs at least one, invalid ones too), or the quota error.</summary>
    private IResult? SpendUnit()
    {
        lock (_lock)
        {
            var now = DateTimeOffset.UtcNow;
            if (_unitsToday.Count(t => PacificDate(t) == PacificDate(now)) >= DailyUnitQuota)
                return ApiError(403, "quotaExceeded", "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota");
            _unitsToday.Add(now);
            return null;
        }
    }

    /// <summary>The caller's channel and scopes, or the error Google answers.</summary>
    private (Channel? Channel, IResult? Error) Authenticate(HttpContext http, params string[] anyOfScopes)
    {
        var header = http.Request.Headers.Authorization.ToString();
        AccessToken? token = null;
        lock (_lock)
            if (header.StartsWith("Bearer ", StringComparison.Ordinal) && _accessTokens.TryGetValue(header[7..], out var t) && t.Expires > DateTimeOffset.UtcNow && !t.Grant.Revoked)
                token = t;
        if (token is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\"";
            return (null, ApiError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."));
        }
        if (!token.Grant.Scopes.Any(anyOfScopes.Contains))
            return (null, ApiError(403, "insufficientPermissions", "Request had insufficient authentication scopes."));
        lock (_lock) return (ChannelLocked(token.Grant.Account), null);
    }

    private IResult Channels_(HttpContext http)
    {
        if (SpendUnit() is { } spent) return spent;
        var (channel, error) = Authenticate(http, ReadonlyScope, YouTubeScope, ForceSslScope);
        if (error is not null) return error;
        var q = http.Request.Query;
        if (q["part"].ToString().Length == 0) return ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: forUsername, managedByMe, categoryId, mine, mySubscribers, id, idParam, forHandle");
        if (q["mine"].ToString() != "true") return ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, forHandle");
        var avatar = $"{Origin(http)}/avatars/{channel!.Id}.png";
        return Results.Json(new
        {
            kind = "youtube#channelListResponse", etag = Token(8),
            pageInfo = new { totalResults = 1, resultsPerPage = 5 },
            items = new[]
            {
                new
                {
                    kind = "youtube#channel", etag = Token(8), id = channel.Id,
                    snippet = new
                    {
                        title = channel.Title, description = "", customUrl = channel.Handle, publishedAt = "2024-01-01T00:00:00Z",
                        thumbnails = new
                        {
                            @default = new { url = avatar, width = 88, height = 88 },
                            medium = new { url = avatar, width = 240, height = 240 },
                            high = new { url = avatar, width = 800, height = 800 },
                        },
                        localized = new { title = channel.Title, description = "" },
                    },
                },
            },
        });
    }

    private string UploadStatus(Video video) => !video.ValidContainer && DateTimeOffset.UtcNow - video.UploadedAt >= ProcessingTime ? "failed"
        : DateTimeOffset.UtcNow - video.UploadedAt >= ProcessingTime ? "processed" : "uploaded";

    private IResult VideosList(HttpContext http)
    {
        if (SpendUnit() is { } spent) return spent;
        var (channel, error) = Authenticate(http, ReadonlyScope, YouTubeScope, ForceSslScope);
        if (error is not null) return error;
        var q = http.Request.Query;
        var parts = q["part"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) return ApiError(400, "missingRequiredParameter", "Required parameter: part", "global");
        if (parts.FirstOrDefault(p => !VideoParts.Contains(p)) is { } bad) return ApiError(400, "unknownPart", $"'{bad}'", "youtube.part");
        var ids = q["id"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length == 0) return ApiError(400, "missingRequiredParameter", "No filter selected. Expected one of: chart, id, myRating");
        List<JsonObject> items = [];
        lock (_lock)
            foreach (var id in ids.Distinct())
            {
                // Another channel's private video is not found (not an error: it is just absent).
                if (!_videos.TryGetValue(id, out var video) || video.ChannelId != channel!.Id && video.Privacy == "private") continue;
                items.Add(Resource(video, parts, owner: video.ChannelId == channel!.Id));
            }
        return Results.Json(new JsonObject
        {
            ["kind"] = "youtube#videoListResponse", ["etag"] = Token(8),
            ["items"] = new JsonArray([.. items]),
            ["pageInfo"] = new JsonObject { ["totalResults"] = items.Count, ["resultsPerPage"] = items.Count },
        });
    }

    private JsonObject Resource(Video video, IReadOnlyCollection<string> parts, bool owner)
    {
        var resource = new JsonObject { ["kind"] = "youtube#video", ["etag"] = Token(8), ["id"] = video.Id };
        if (parts.Contains("snippet"))
            resource["snippet"] = new JsonObject
            {
                ["publishedAt"] = video.UploadedAt.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["channelId"] = video.ChannelId, ["title"] = video.Title, ["description"] = video.Description,
                ["channelTitle"] = _channels.Values.FirstOrDefault(c => c.Id == video.ChannelId)?.Title,
                ["tags"] = new JsonArray([.. video.Tags.Select(t => (JsonNode)t)]), ["categoryId"] = video.CategoryId,
                ["liveBroadcastContent"] = "none",
            };
        if (parts.Contains("status"))
        {
            var uploadStatus = UploadStatus(video);
            var status = new JsonObject
            {
                ["uploadStatus"] = uploadStatus, ["privacyStatus"] = video.Privacy, ["license"] = "youtube", ["embeddable"] = true,
                ["publicStatsViewable"] = true, ["madeForKids"] = video.SelfDeclaredMadeForKids,
                ["selfDeclaredMadeForKids"] = video.SelfDeclaredMadeForKids, ["containsSyntheticMedia"] = video.ContainsSyntheticMedia,
            };
            if (uploadStatus == "failed") status["failureReason"] = "invalidFile";
            if (video.PublishAt is { } at) status["publishAt"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            resource["status"] = status;
        }
        if (parts.Contains("processingDetails") && owner)
        {
            var left = ProcessingTime - (DateTimeOffset.UtcNow - video.UploadedAt);
            var state = UploadStatus(video) switch { "processed" => "succeeded", "failed" => "failed", _ => "processing" };
            var details = new JsonObject { ["processingStatus"] = state };
            if (state == "processing")
                details["processingProgress"] = new JsonObject { ["partsTotal"] = "1000", ["partsProcessed"] = "500", ["timeLeftMs"] = ((long)Math.Max(0, left.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) };
            if (state == "failed") details["processingFailureReason"] = "invalidFile";
            resource["processingDetails"] = details;
        }
        if (parts.Contains("statistics"))
        {
            var since = UploadStatus(video) == "processed" && video.Privacy != "private" ? DateTimeOffset.UtcNow - video.UploadedAt - ProcessingTime : TimeSpan.Zero;
            var views = (long)Math.Max(0, since.TotalSeconds * ViewsPerSecond);
            resource["statistics"] = new JsonObject
            {
                ["viewCount"] = views.ToString(CultureInfo.InvariantCulture), ["likeCount"] = (views / 10).ToString(CultureInfo.InvariantCulture),
                ["favoriteCount"] = "0", ["commentCount"] = (views / 50).ToString(CultureInfo.InvariantCulture),
            };
        }
        return resource;
    }

    // ---- the resumable upload ----

    private async Task<IResult> StartUploadAsync(HttpContext http)
    {
        var (channel, error) = Authenticate(http, UploadScope, YouTubeScope, ForceSslScope);
        if (error is not null) return error;
        var q = http.Request.Query;
        if (q["uploadType"].ToString() != "resumable") return ApiError(400, "invalidArgument", "This simulator takes only uploadType=resumable.");
        var parts = q["part"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0) return ApiError(400, "missingRequiredParameter", "Required parameter: part");
        if (parts.FirstOrDefault(p => !VideoParts.Contains(p)) is { } badPart) return ApiError(400, "unknownPart", $"'{badPart}'", "youtube.part");
        if (http.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
            return ApiError(400, "badContent", "Media type '" + http.Request.ContentType + "' is not supported. Valid media types: [application/json]");
        var contentType = http.Request.Headers["X-Upload-Content-Type"].ToString();
        if (contentType.Length > 0 && !contentType.StartsWith("video/", StringComparison.OrdinalIgnoreCase) && contentType != "application/octet-stream")
            return ApiError(400, "badContent", $"Media type '{contentType}' is not supported.");
        long? total = null;
        if (http.Request.Headers["X-Upload-Content-Length"].ToString() is { Length: > 0 } lengthText)
        {
            if (!long.TryParse(lengthText, NumberStyles.None, CultureInfo.InvariantCulture, out var length)) return ApiError(400, "invalidArgument", "Invalid X-Upload-Content-Length.");
            total = length;
        }
        JsonObject metadata;
        try
        {
            metadata = JsonNode.Parse(await new StreamReader(http.Request.Body).ReadToEndAsync()) as JsonObject ?? throw new JsonException();
        }
        catch (JsonException)
        {
            return ApiError(400, "parseError", "Parse Error");
        }
        if (Validate(metadata) is { } invalid) return invalid;

        lock (_lock)
        {
            var now = DateTimeOffset.UtcNow;
            if (_uploadsToday.Count(t => PacificDate(t) == PacificDate(now)) >= DailyUploadQuota)
                return ApiError(403, "quotaExceeded", "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.", "youtube.quota");
            if (_videos.Values.Count(v => v.ChannelId == channel!.Id && now - v.UploadedAt < TimeSpan.FromHours(24)) >= ChannelUploadsPer24Hours)
                return ApiError(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload.", "youtube.video");
            _uploadsToday.Add(now);
            var session = new Session
            {
                Id = Token(48), ChannelId = channel!.Id, Total = total, ContentType = contentType.Length > 0 ? contentType : "application/octet-stream", Metadata = metadata,
            };
            _sessions[session.Id] = session;
            http.Response.Headers.Location = $"{Origin(http)}/upload/youtube/v3/videos?uploadType=resumable&part={Uri.EscapeDataString(string.Join(',', parts))}&upload_id={session.Id}";
            http.Response.Headers["X-GUploader-UploadID"] = session.Id;
            return Results.Ok();
        }
    }

    /// <summary>YouTube's metadata rules for videos.insert.</summary>
    private static IResult? Validate(JsonObject metadata)
    {
        var snippet = metadata["snippet"] as JsonObject;
        var title = snippet?["title"]?.GetValue<string>();
        if (string.IsNullOrWhiteSpace(title) || title.Length > 100 || title.Contains('<') || title.Contains('>'))
            return ApiError(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.", "youtube.video");
        var description = snippet?["description"]?.GetValue<string>() ?? "";
        if (Encoding.UTF8.GetByteCount(description) > 5000 || description.Contains('<') || description.Contains('>'))
            return ApiError(400, "invalidDescription", "The request metadata specifies an invalid video description.", "youtube.video");
        var tags = (snippet?["tags"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "").ToList() ?? [];
        if (tags.Sum(t => t.Length + (t.Contains(' ') ? 2 : 0)) + Math.Max(0, tags.Count - 1) > 500 || tags.Any(t => t.Contains('<') || t.Contains('>')))
            return ApiError(400, "invalidTags", "The request metadata specifies invalid video keywords.", "youtube.video");
        if (snippet?["categoryId"]?.GetValue<string>() is { } category && !Categories.Contains(category))
            return ApiError(400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.", "youtube.video");
        var status = metadata["status"] as JsonObject;
        var privacy = status?["privacyStatus"]?.GetValue<string>() ?? "public";
        if (privacy is not ("public" or "unlisted" or "private"))
            return ApiError(400, "invalidVideoMetadata", "The request metadata is invalid: status.privacyStatus.", "youtube.video");
        foreach (var flag in new[] { "selfDeclaredMadeForKids", "containsSyntheticMedia", "embeddable", "publicStatsViewable" })
            if (status?[flag] is { } value && value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
                return ApiError(400, "invalidVideoMetadata", $"The request metadata is invalid: status.{flag}.", "youtube.video");
        if (status?["publishAt"] is { } publishAt)
        {
            if (privacy != "private" || !DateTimeOffset.TryParse(publishAt.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                || at <= DateTimeOffset.UtcNow)
                return ApiError(400, "invalidPublishAt", "The request metadata specifies an invalid scheduled publishing time.", "youtube.video");
        }
        return null;
    }

    private static IResult Incomplete(HttpContext http, Session session)
    {
        if (session.Received > 0) http.Response.Headers["Range"] = $"bytes=0-{session.Received - 1}";
        http.Response.Headers["X-GUploader-UploadID"] = session.Id;
        return Results.StatusCode(308);
    }

    private async Task<IResult> PutChunkAsync(HttpContext http)
    {
        var id = http.Request.Query["upload_id"].ToString();
        Session? session;
        lock (_lock)
            session = _sessions.TryGetValue(id, out var s) && !s.Expired && DateTimeOffset.UtcNow - s.Created < SessionLifetime ? s : null;
        if (session is null) return Results.Text("Not Found", "text/plain", statusCode: 404);

        // Chunks may be larger than Kestrel's default body limit (FENTA_YOUTUBE_CHUNK_BYTES goes up to 256 MiB).
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        // Read the chunk whole (it is at most a few MiB), then check it against what the session holds.
        var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted);
        var bytes = body.ToArray();
        var range = http.Request.Headers.ContentRange.ToString();
        var match = System.Text.RegularExpressions.Regex.Match(range, @"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$");
        if (!match.Success) return ApiError(400, "badRequest", "Failed to parse Content-Range header.");
        long? total = match.Groups[3].Value == "*" ? null : long.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
        if (session.Total is { } declared && total is { } given && given != declared)
            return ApiError(400, "badRequest", $"Invalid request. The total size in Content-Range ({given}) does not match X-Upload-Content-Length ({declared}).");

        if (!match.Groups[1].Success)
        {
            // The status query: bytes */total with an empty body.
            if (bytes.Length > 0) return ApiError(400, "badRequest", "Failed to parse Content-Range header.");
            lock (_lock)
            {
                session.StatusQueries++;
                return session.VideoId is { } done ? Results.Json(Resource(_videos[done], ["snippet", "status"], true), statusCode: 201) : Incomplete(http, session);
            }
        }
        var (first, last) = (long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture));
        var end = total ?? session.Total;
        if (last < first || bytes.Length != last - first + 1 || end is { } e && last >= e)
            return ApiError(400, "badRequest", "Invalid request. The Content-Range header does not match the number of bytes sent.");
        lock (_lock)
            if (session.VideoId is { } done) return Results.Json(Resource(_videos[done], ["snippet", "status"], true), statusCode: 201);
        var final = end is { } t && last + 1 == t;
        if (!final && bytes.Length % ChunkUnit != 0)
            return ApiError(400, "badRequest",
                $"Invalid request. The number of bytes uploaded is required to be equal or greater than {ChunkUnit}, except for the final request (it's recommended to be the exact multiple of {ChunkUnit}). The received request contained {bytes.Length} bytes, which does not meet this requirement.");

        try
        {
            if (ChunkDelay > TimeSpan.Zero) await Task.Delay(ChunkDelay, http.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
        // A request the client gave up on (a killed worker) delivers nothing.
        if (http.RequestAborted.IsCancellationRequested) return Results.Empty;
        lock (_lock)
        {
            if (first != session.Received)
                return ApiError(400, "badRequest", $"Invalid request. The chunk starts at byte {first}, but the upload session holds bytes 0-{session.Received - 1}: resume from byte {session.Received}.");
            session.Hash.AppendData(bytes);
            if (session.Received < session.Head.Length) bytes.AsSpan(0, (int)Math.Min(bytes.Length, session.Head.Length - session.Received)).CopyTo(session.Head.AsSpan((int)session.Received));
            session.Received += bytes.Length;
            session.Chunks.Add(new Chunk(first, last, bytes.Length));
            if (!final) return Incomplete(http, session);
            var video = Publish(session);
            return Results.Json(Resource(video, ["snippet", "status"], true), statusCode: 201);
        }
    }

    private Video Publish(Session session)
    {
        var snippet = session.Metadata["snippet"] as JsonObject;
        var status = session.Metadata["status"] as JsonObject;
        // An MP4/MOV has "ftyp" at byte 4; a WebM/Matroska begins 1A 45 DF A3.
        var valid = session.Head.AsSpan(4, 4).SequenceEqual("ftyp"u8) || session.Head.AsSpan(0, 4).SequenceEqual(new byte[] { 0x1A, 0x45, 0xDF, 0xA3 });
        string id;
        do id = Token(8)[..11]; while (_videos.ContainsKey(id));
        var video = new Video(id, session.ChannelId, snippet!["title"]!.GetValue<string>(), snippet["description"]?.GetValue<string>() ?? "",
            (snippet["tags"] as JsonArray)?.Select(t => t!.GetValue<string>()).ToList() ?? [], snippet["categoryId"]?.GetValue<string>() ?? "22",
            status?["privacyStatus"]?.GetValue<string>() ?? "public",
            status?["publishAt"] is { } at ? DateTimeOffset.Parse(at.GetValue<string>(), CultureInfo.InvariantCulture) : null,
            status?["selfDeclaredMadeForKids"]?.GetValue<bool>() ?? false, status?["containsSyntheticMedia"]?.GetValue<bool>() ?? false,
            session.Received, Convert.ToHexStringLower(session.Hash.GetHashAndReset()), session.Id, DateTimeOffset.UtcNow, valid);
        _videos[id] = video;
        session.VideoId = id;
        return video;
    }

    private IResult WatchPage(string id)
    {
        Video? video;
        lock (_lock) video = _videos.GetValueOrDefault(id);
        if (video is null || video.Privacy == "private") return Results.Content("<!doctype html><title>Video unavailable</title><h1>Video unavailable</h1>", "text/html", Encoding.UTF8, 404);
        return Results.Content($"<!doctype html><title>{System.Net.WebUtility.HtmlEncode(video.Title)} - YouTube</title><h1>{System.Net.WebUtility.HtmlEncode(video.Title)}</h1>",
            "text/html", Encoding.UTF8);
    }

    // A 1×1 grey PNG.
    private static readonly byte[] Avatar = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgYAAAAAMAASsJTYQAAAAASUVORK5CYII=");
}
