using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// TikTok's documented contracts for what the publishing adapter uses, strictly: Login Kit for Web (the consent page
/// auto-approves; PKCE S256 checked; codes single-use and short-lived; refresh tokens rotate and the spent one answers
/// invalid_grant; revocation), <c>/v2/user/info/</c> (fields by scope), the Content Posting API
/// (<c>creator_info/query</c>, direct post and inbox init with the chunk rules, ordered chunk PUTs with Content-Range,
/// <c>status/fetch</c> with its progression, the 6-a-minute init limit per token, the unaudited app's SELF_ONLY rule,
/// a daily post cap) and <c>/v2/video/query/</c> with statistics that grow with time. Every API answer is the
/// <c>{data, error: {code, message, log_id}}</c> envelope; OAuth errors are <c>{error, error_description, log_id}</c>.
/// Absolute URLs it hands out (upload_url) are built from the request's scheme and host, so it works in-process and
/// as a long-running sandbox.
/// </summary>
public sealed class TikTokSimulator : Simulator
{
    public const string ClientId = "sim-tiktok-client-key";
    public const string ClientSecret = "sim-tiktok-client-secret";

    /// <summary>The FENTA_TIKTOK_* settings that point the adapter here (client key and secret included; audited as <see cref="Audited"/> says).</summary>
    public IReadOnlyDictionary<string, string> Settings() => new Dictionary<string, string>
    {
        ["FENTA_TIKTOK_CLIENT_ID"] = ClientId, ["FENTA_TIKTOK_CLIENT_SECRET"] = ClientSecret,
        ["FENTA_TIKTOK_AUTH_URL"] = BaseAddress.AbsoluteUri, ["FENTA_TIKTOK_API_URL"] = BaseAddress.AbsoluteUri,
        ["FENTA_TIKTOK_AUDITED"] = Audited ? "true" : "false",
    };
    public const string OpenId = "sim-open-id-0001";
    public const long FiveMb = 5L * 1024 * 1024;
    public const long SixtyFourMb = 64L * 1024 * 1024;

    public static readonly IReadOnlyList<string> KnownScopes =
        ["user.info.basic", "user.info.profile", "user.info.stats", "video.list", "video.publish", "video.upload"];

    // ---- knobs ----

    /// <summary>Whether the app passed TikTok's audit: when false, a direct post other than SELF_ONLY is refused (unaudited_client_can_only_post_to_private_accounts).</summary>
    public bool Audited { get; set; }
    /// <summary>Init requests (direct and inbox together) a user access token may make in a rolling minute (TikTok: 6).</summary>
    public int InitsPerMinute { get; set; } = 6;
    /// <summary>Direct posts an account may make in a rolling 24 hours (spam_risk_too_many_posts beyond).</summary>
    public int DailyPostLimit { get; set; } = 15;
    /// <summary>How long a completed upload stays PROCESSING_UPLOAD before PUBLISH_COMPLETE / SEND_TO_USER_INBOX.</summary>
    public TimeSpan ProcessingTime { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>A wait before each chunk is taken (after its bytes arrived): a chunk whose request is aborted meanwhile is not received.</summary>
    public TimeSpan ChunkDelay { get; set; } = TimeSpan.Zero;
    public TimeSpan UploadUrlLifetime { get; set; } = TimeSpan.FromHours(1);
    /// <summary>TikTok's current token lifetimes: 2 hours and 180 days (expires_in / refresh_expires_in).</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(2);
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(180);
    public TimeSpan CodeLifetime { get; set; } = TimeSpan.FromMinutes(5);
    /// <summary>Redirect URIs registered for the app; empty: any absolute http(s) URI.</summary>
    public HashSet<string> RegisteredRedirectUris { get; } = [];
    /// <summary>Scopes the person unticks on the consent page (granted scopes are the asked ones minus these).</summary>
    public HashSet<string> WithheldScopes { get; } = [];
    /// <summary>What creator_info answers.</summary>
    public List<string> PrivacyLevelOptions { get; set; } = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"];
    public int MaxVideoPostDurationSec { get; set; } = 600;
    public bool CommentDisabled { get; set; }
    public bool DuetDisabled { get; set; }
    public bool StitchDisabled { get; set; }
    public string Username { get; set; } = "fenta.sim";
    public string DisplayName { get; set; } = "Fenta Simulator";
    /// <summary>Statistics: views = seconds since publication × this; likes, comments and shares follow from views.</summary>
    public double ViewsPerSecond { get; set; } = 5;

    // ---- what happened ----

    public sealed record SimVideo(
        string Id, string PublishId, string OpenId, string Mode, string? Title, string? PrivacyLevel, bool IsAigc,
        bool DisableComment, bool DisableDuet, bool DisableStitch, long Bytes, byte[] Content, DateTimeOffset CompletedAt);

    public sealed record ChunkRecord(int Index, long First, long Last, DateTimeOffset At);

    public sealed class UploadSession
    {
        public required string PublishId { get; init; }
        public required string UploadToken { get; init; }
        public required string OpenId { get; init; }
        public required string Mode { get; init; }
        public required JsonElement? PostInfo { get; init; }
        public required long VideoSize { get; init; }
        public required long ChunkSize { get; init; }
        public required int TotalChunks { get; init; }
        public required DateTimeOffset Created { get; init; }
        internal readonly MemoryStream Buffer = new();
        internal readonly object Gate = new();
        public ConcurrentQueue<ChunkRecord> Chunks { get; } = new();
        public long ReceivedBytes { get; internal set; }
        public DateTimeOffset? CompletedAt { get; internal set; }
        public string? VideoId { get; internal set; }
    }

    /// <summary>The published posts (direct) and inbox drafts, by id (the post id; a draft's id is its publish_id).</summary>
    public ConcurrentDictionary<string, SimVideo> Videos { get; } = new();
    /// <summary>Every init that was accepted, by publish_id, with the chunks received in order.</summary>
    public ConcurrentDictionary<string, UploadSession> Sessions { get; } = new();
    /// <summary>Init requests refused by the per-minute limit.</summary>
    public int RateLimitedInits => _rateLimited;

    // ---- grants ----

    private sealed class Grant(string openId, IReadOnlyList<string> scopes)
    {
        public string OpenId { get; } = openId;
        public IReadOnlyList<string> Scopes { get; } = scopes;
        public bool Revoked { get; set; }
    }

    private sealed record Code(string Value, string RedirectUri, IReadOnlyList<string> Scopes, string Challenge, DateTimeOffset Created)
    {
        public int Used;
        public Grant? Issued { get; set; }
    }

    private sealed record AccessToken(Grant Grant, DateTimeOffset Expires);

    private sealed record RefreshToken(Grant Grant, DateTimeOffset Expires)
    {
        public int Spent;
    }

    private readonly ConcurrentDictionary<string, Code> _codes = new();
    private readonly ConcurrentDictionary<string, AccessToken> _access = new();
    private readonly ConcurrentDictionary<string, RefreshToken> _refresh = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<DateTimeOffset>> _inits = new();
    private long _nextVideoId = 7_300_000_000_000_000_000;
    private int _rateLimited;

    /// <summary>The person removed the app in TikTok's settings: every access and refresh token stops working.</summary>
    public void RevokeAllGrants()
    {
        foreach (var token in _access.Values) token.Grant.Revoked = true;
        foreach (var token in _refresh.Values) token.Grant.Revoked = true;
    }

    /// <summary>Every access token issued so far has expired (refresh tokens still work).</summary>
    public void ExpireAccessTokens()
    {
        foreach (var (key, token) in _access) _access[key] = token with { Expires = DateTimeOffset.UtcNow.AddSeconds(-1) };
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/v2/auth/authorize/", (Delegate)Authorize);
        app.MapPost("/v2/oauth/token/", (Delegate)Token);
        app.MapPost("/v2/oauth/revoke/", (Delegate)Revoke);
        app.MapGet("/v2/user/info/", (Delegate)UserInfo);
        app.MapPost("/v2/post/publish/creator_info/query/", (Delegate)CreatorInfo);
        app.MapPost("/v2/post/publish/video/init/", (Delegate)((HttpContext http) => Init(http, "direct")));
        app.MapPost("/v2/post/publish/inbox/video/init/", (Delegate)((HttpContext http) => Init(http, "draft")));
        app.MapPut("/upload/video/", (Delegate)Upload);
        app.MapPost("/v2/post/publish/status/fetch/", (Delegate)StatusFetch);
        app.MapPost("/v2/video/query/", (Delegate)VideoQuery);
        app.MapGet("/@{username}/video/{id}", (string username, string id) => Videos.TryGetValue(id, out var v) && v.Mode == "direct" && username == Username
            ? Results.Content($"<!doctype html><title>{WebUtility(v.Title)}</title><p>{WebUtility(v.Title)}</p>", "text/html")
            : Results.NotFound());
    }

    private static string WebUtility(string? text) => System.Net.WebUtility.HtmlEncode(text ?? "");

    // ---- envelopes ----

    private static string LogId() => DateTime.UtcNow.ToString("yyyyMMddHHmmss") + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));

    private static IResult Ok(object data) => Results.Json(new { data, error = new { code = "ok", message = "", log_id = LogId() } });

    private static IResult Error(int status, string code, string message) =>
        Results.Json(new { data = new { }, error = new { code, message, log_id = LogId() } }, statusCode: status);

    private static IResult OAuthError(int status, string error, string description) =>
        Results.Json(new { error, error_description = description, log_id = LogId() }, statusCode: status);

    private static string Random(string prefix) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    /// <summary>The bearer token's grant, or the error TikTok answers: access_token_invalid (401) or scope_not_authorized (401).</summary>
    private (Grant? Grant, IResult? Error) Authenticate(HttpContext http, params string[] anyOfScopes)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal) || !_access.TryGetValue(header[7..].Trim(), out var token)
            || token.Grant.Revoked || token.Expires <= DateTimeOffset.UtcNow)
            return (null, Error(401, "access_token_invalid", "The access token is invalid or not found in the request."));
        if (anyOfScopes.Length > 0 && !anyOfScopes.Any(token.Grant.Scopes.Contains))
            return (null, Error(401, "scope_not_authorized", $"The user did not authorize the scope required for completing this request ({string.Join(" or ", anyOfScopes)})."));
        return (token.Grant, null);
    }

    private static async Task<JsonElement?> JsonBodyAsync(HttpContext http)
    {
        if (http.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true) return null;
        try
        {
            return (await JsonDocument.ParseAsync(http.Request.Body)).RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // ---- OAuth ----

    private IResult Authorize(HttpContext http)
    {
        var q = http.Request.Query;
        if (q["client_key"] != ClientId) return Results.BadRequest("client_key: unknown client");
        var redirect = q["redirect_uri"].ToString();
        if (!Uri.TryCreate(redirect, UriKind.Absolute, out var redirectUri) || redirectUri.Scheme is not ("http" or "https")
            || RegisteredRedirectUris.Count > 0 && !RegisteredRedirectUris.Contains(redirect))
            return Results.BadRequest("redirect_uri: not registered for this app");
        var state = q["state"].ToString();
        IResult Back(params (string Name, string Value)[] parameters) => Results.Redirect(redirect + (redirect.Contains('?') ? "&" : "?")
            + string.Join("&", parameters.Append((Name: "state", Value: state)).Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}")));
        if (q["response_type"] != "code") return Back(("error", "unsupported_response_type"), ("error_description", "response_type must be code"));
        var scopes = q["scope"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (scopes.Length == 0 || scopes.Any(s => !KnownScopes.Contains(s)))
            return Back(("error", "invalid_scope"), ("error_description", "The requested scope is invalid, unknown, or malformed."));
        var challenge = q["code_challenge"].ToString();
        if (challenge.Length is < 43 or > 128 || q["code_challenge_method"] != "S256")
            return Back(("error", "invalid_request"), ("error_description", "code_challenge with code_challenge_method=S256 is required."));
        var granted = scopes.Where(s => !WithheldScopes.Contains(s)).ToList();
        var code = new Code(Random("code."), redirect, granted, challenge, DateTimeOffset.UtcNow);
        _codes[code.Value] = code;
        return Back(("code", code.Value), ("scopes", string.Join(",", granted)));
    }

    private async Task<IResult> Token(HttpContext http)
    {
        if (!http.Request.HasFormContentType) return OAuthError(400, "invalid_request", "The request must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync();
        if (form["client_key"] != ClientId || form["client_secret"] != ClientSecret)
            return OAuthError(401, "invalid_client", "Client authentication failed.");
        switch (form["grant_type"].ToString())
        {
            case "authorization_code":
                if (!_codes.TryGetValue(form["code"].ToString(), out var code))
                    return OAuthError(400, "invalid_grant", "Authorization code is expired or invalid.");
                if (Interlocked.Exchange(ref code.Used, 1) == 1)
                {
                    // A code presented twice: refused, and what it granted is revoked (RFC 6749 4.1.2).
                    if (code.Issued is { } issued) issued.Revoked = true;
                    return OAuthError(400, "invalid_grant", "Authorization code has been used.");
                }
                if (DateTimeOffset.UtcNow - code.Created > CodeLifetime) return OAuthError(400, "invalid_grant", "Authorization code is expired.");
                if (form["redirect_uri"] != code.RedirectUri) return OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request.");
                var verifier = form["code_verifier"].ToString();
                if (verifier.Length is < 43 or > 128 || Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))) != code.Challenge)
                    return OAuthError(400, "invalid_grant", "code_verifier does not match the code_challenge.");
                var grant = new Grant(OpenId, code.Scopes);
                code.Issued = grant;
                return Issue(grant);
            case "refresh_token":
                if (!_refresh.TryGetValue(form["refresh_token"].ToString(), out var refresh) || refresh.Grant.Revoked
                    || refresh.Expires <= DateTimeOffset.UtcNow || Interlocked.Exchange(ref refresh.Spent, 1) == 1)
                    return OAuthError(400, "invalid_grant", "Refresh token is invalid or expired.");
                return Issue(refresh.Grant);
            default:
                return OAuthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
        }
    }

    private IResult Issue(Grant grant)
    {
        var access = Random("act.");
        var refresh = Random("rft.");
        _access[access] = new AccessToken(grant, DateTimeOffset.UtcNow + AccessTokenLifetime);
        _refresh[refresh] = new RefreshToken(grant, DateTimeOffset.UtcNow + RefreshTokenLifetime);
        return Results.Json(new
        {
            access_token = access, expires_in = (long)AccessTokenLifetime.TotalSeconds, open_id = grant.OpenId,
            refresh_expires_in = (long)RefreshTokenLifetime.TotalSeconds, refresh_token = refresh,
            scope = string.Join(",", grant.Scopes), token_type = "Bearer",
        });
    }

    private async Task<IResult> Revoke(HttpContext http)
    {
        if (!http.Request.HasFormContentType) return OAuthError(400, "invalid_request", "The request must be application/x-www-form-urlencoded.");
        var form = await http.Request.ReadFormAsync();
        if (form["client_key"] != ClientId || form["client_secret"] != ClientSecret)
            return OAuthError(401, "invalid_client", "Client authentication failed.");
        if (_access.TryGetValue(form["token"].ToString(), out var token)) token.Grant.Revoked = true;
        return Results.Json(new { });
    }

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    // ---- user and creator ----

    private static readonly Dictionary<string, string> UserFieldScopes = new()
    {
        ["open_id"] = "user.info.basic", ["union_id"] = "user.info.basic", ["avatar_url"] = "user.info.basic", ["avatar_url_100"] = "user.info.basic",
        ["avatar_large_url"] = "user.info.basic", ["display_name"] = "user.info.basic", ["username"] = "user.info.profile",
        ["bio_description"] = "user.info.profile", ["profile_deep_link"] = "user.info.profile", ["is_verified"] = "user.info.profile",
        ["follower_count"] = "user.info.stats", ["following_count"] = "user.info.stats", ["likes_count"] = "user.info.stats", ["video_count"] = "user.info.stats",
    };

    private IResult UserInfo(HttpContext http)
    {
        var (grant, error) = Authenticate(http);
        if (error is not null) return error;
        var fields = http.Request.Query["fields"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length == 0) return Error(400, "invalid_params", "fields is required.");
        if (fields.FirstOrDefault(f => !UserFieldScopes.ContainsKey(f)) is { } unknown) return Error(400, "invalid_params", $"Unknown field: {unknown}.");
        if (fields.Select(f => UserFieldScopes[f]).Distinct().FirstOrDefault(s => !grant!.Scopes.Contains(s)) is { } missing)
            return Error(401, "scope_not_authorized", $"The user did not authorize the scope required for the requested fields ({missing}).");
        var origin = $"{http.Request.Scheme}://{http.Request.Host}";
        var all = new Dictionary<string, object>
        {
            ["open_id"] = grant!.OpenId, ["union_id"] = "sim-union-0001", ["avatar_url"] = $"{origin}/avatars/{grant.OpenId}.jpg",
            ["avatar_url_100"] = $"{origin}/avatars/{grant.OpenId}-100.jpg", ["avatar_large_url"] = $"{origin}/avatars/{grant.OpenId}-large.jpg",
            ["display_name"] = DisplayName, ["username"] = Username, ["bio_description"] = "", ["profile_deep_link"] = $"{origin}/@{Username}",
            ["is_verified"] = false, ["follower_count"] = 0, ["following_count"] = 0, ["likes_count"] = 0, ["video_count"] = Videos.Count,
        };
        return Ok(new { user = fields.Distinct().ToDictionary(f => f, f => all[f]) });
    }

    private IResult CreatorInfo(HttpContext http)
    {
        var (grant, error) = Authenticate(http, "video.publish");
        if (error is not null) return error;
        var origin = $"{http.Request.Scheme}://{http.Request.Host}";
        return Ok(new
        {
            creator_avatar_url = $"{origin}/avatars/{grant!.OpenId}.jpg", creator_username = Username, creator_nickname = DisplayName,
            privacy_level_options = PrivacyLevelOptions, comment_disabled = CommentDisabled, duet_disabled = DuetDisabled,
            stitch_disabled = StitchDisabled, max_video_post_duration_sec = MaxVideoPostDurationSec,
        });
    }

    // ---- posting ----

    private async Task<IResult> Init(HttpContext http, string mode)
    {
        var (grant, error) = Authenticate(http, mode == "direct" ? "video.publish" : "video.upload");
        if (error is not null) return error;
        var token = http.Request.Headers.Authorization.ToString()[7..].Trim();
        var now = DateTimeOffset.UtcNow;
        var recent = _inits.GetOrAdd(token, _ => new());
        lock (recent)
        {
            while (recent.TryPeek(out var first) && now - first >= TimeSpan.FromMinutes(1)) recent.TryDequeue(out _);
            if (recent.Count >= InitsPerMinute)
            {
                Interlocked.Increment(ref _rateLimited);
                return Error(429, "rate_limit_exceeded", "The API rate limit was exceeded. Please try again later.");
            }
            recent.Enqueue(now);
        }

        var body = await JsonBodyAsync(http);
        if (body is not { ValueKind: JsonValueKind.Object } root) return Error(400, "invalid_params", "The body must be a JSON object.");
        if (!root.TryGetProperty("source_info", out var source) || source.ValueKind != JsonValueKind.Object)
            return Error(400, "invalid_params", "source_info is required.");
        if (Str(source, "source") != "FILE_UPLOAD")
            return Error(400, "invalid_params", "source_info.source must be FILE_UPLOAD (PULL_FROM_URL needs a verified domain).");
        if (Int64(source, "video_size") is not { } size || size <= 0 || Int64(source, "chunk_size") is not { } chunk || Int64(source, "total_chunk_count") is not { } count)
            return Error(400, "invalid_params", "video_size, chunk_size and total_chunk_count are required for FILE_UPLOAD.");
        if (ChunkRuleBroken(size, chunk, count) is { } rule) return Error(400, "invalid_params", rule);

        JsonElement? postInfo = null;
        if (mode == "direct")
        {
            if (!root.TryGetProperty("post_info", out var info) || info.ValueKind != JsonValueKind.Object)
                return Error(400, "invalid_params", "post_info is required.");
            if ((Str(info, "title") ?? "").Length > 2200) return Error(400, "invalid_params", "post_info.title is longer than 2200 characters.");
            var privacy = Str(info, "privacy_level");
            if (privacy is null || !PrivacyLevelOptions.Contains(privacy))
                return Error(400, "privacy_level_option_mismatch", "privacy_level is not one of the creator's privacy_level_options.");
            if (!Audited && privacy != "SELF_ONLY")
                return Error(403, "unaudited_client_can_only_post_to_private_accounts", "Unaudited clients can only post to private accounts (privacy_level SELF_ONLY).");
            var posted = Sessions.Values.Count(s => s.OpenId == grant!.OpenId && s.Mode == "direct" && now - s.Created < TimeSpan.FromDays(1));
            if (posted >= DailyPostLimit)
                return Error(403, "spam_risk_too_many_posts", "The user has reached the daily post limit for API clients.");
            postInfo = info.Clone();
        }

        var session = new UploadSession
        {
            PublishId = $"v_{(mode == "direct" ? "pub" : "inbox")}_file~v2-1.{Interlocked.Increment(ref _nextVideoId)}",
            UploadToken = Random(""), OpenId = grant!.OpenId, Mode = mode, PostInfo = postInfo, VideoSize = size, ChunkSize = chunk,
            TotalChunks = (int)count, Created = now,
        };
        Sessions[session.PublishId] = session;
        var uploadUrl = $"{http.Request.Scheme}://{http.Request.Host}/upload/video/?upload_id={Uri.EscapeDataString(session.PublishId)}&upload_token={session.UploadToken}";
        return Ok(new { publish_id = session.PublishId, upload_url = uploadUrl });
    }

    /// <summary>TikTok's chunk restrictions (media transfer guide), or null when the numbers keep them.</summary>
    public static string? ChunkRuleBroken(long size, long chunk, long count)
    {
        if (size < FiveMb)
            return chunk == size && count == 1 ? null : "A video under 5 MB must be uploaded whole: chunk_size equal to video_size and total_chunk_count 1.";
        if (chunk == size)
            return size > SixtyFourMb ? "A video over 64 MB must be uploaded in several chunks." : count == 1 ? null : "total_chunk_count must be 1 when chunk_size equals video_size.";
        if (chunk is < FiveMb or > SixtyFourMb) return "chunk_size must be between 5 MB and 64 MB.";
        if (count != size / chunk) return $"total_chunk_count must be video_size / chunk_size rounded down ({size / chunk}).";
        if (count is < 1 or > 1000) return "total_chunk_count must be between 1 and 1000.";
        if (size - (count - 1) * chunk > 2 * SixtyFourMb) return "The final chunk may not exceed 128 MB.";
        return null;
    }

    private async Task<IResult> Upload(HttpContext http)
    {
        var q = http.Request.Query;
        if (!Sessions.TryGetValue(q["upload_id"].ToString(), out var session) || session.UploadToken != q["upload_token"])
            return Error(404, "invalid_params", "The upload_url is not valid.");
        if (DateTimeOffset.UtcNow - session.Created > UploadUrlLifetime)
            return Error(403, "access_token_invalid", "The upload_url has expired.");
        if (http.Request.ContentType is not ("video/mp4" or "video/quicktime" or "video/webm"))
            return Error(400, "invalid_params", "Content-Type must be video/mp4, video/quicktime or video/webm.");
        var range = http.Request.Headers.ContentRange.ToString();
        var match = System.Text.RegularExpressions.Regex.Match(range, @"^bytes (\d+)-(\d+)/(\d+)$");
        if (!match.Success) return Error(400, "invalid_params", "Content-Range must be bytes {first}-{last}/{total}.");
        var (first, last, total) = (long.Parse(match.Groups[1].Value), long.Parse(match.Groups[2].Value), long.Parse(match.Groups[3].Value));
        if (total != session.VideoSize) return Error(400, "invalid_params", "The Content-Range total is not the video_size given at init.");
        if (http.Request.ContentLength != last - first + 1) return Error(400, "invalid_params", "Content-Length does not match the Content-Range.");

        var buffer = new MemoryStream();
        await http.Request.Body.CopyToAsync(buffer, http.RequestAborted);
        if (buffer.Length != last - first + 1) return Error(400, "invalid_params", "The body is not as long as the Content-Range says.");
        if (ChunkDelay > TimeSpan.Zero) await Task.Delay(ChunkDelay, http.RequestAborted);
        http.RequestAborted.ThrowIfCancellationRequested();

        lock (session.Gate)
        {
            var index = session.Chunks.Count;
            if (session.CompletedAt is not null) return Error(416, "invalid_params", "All chunks of this upload were received already.");
            var expectedFirst = index * session.ChunkSize;
            var expectedLast = index == session.TotalChunks - 1 ? session.VideoSize - 1 : expectedFirst + session.ChunkSize - 1;
            if (first != expectedFirst || last != expectedLast)
                return Error(416, "invalid_params", $"Chunks must be uploaded in order: expected bytes {expectedFirst}-{expectedLast}/{session.VideoSize}.");
            buffer.Position = 0;
            buffer.CopyTo(session.Buffer);
            session.Chunks.Enqueue(new ChunkRecord(index, first, last, DateTimeOffset.UtcNow));
            session.ReceivedBytes = last + 1;
            if (session.Chunks.Count < session.TotalChunks) return Results.StatusCode(206);
            session.CompletedAt = DateTimeOffset.UtcNow;
            Complete(session);
            return Results.StatusCode(201);
        }
    }

    private void Complete(UploadSession session)
    {
        var content = session.Buffer.ToArray();
        var info = session.PostInfo;
        bool Flag(string name) => info is { } i && i.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
        var id = session.Mode == "direct" ? Interlocked.Increment(ref _nextVideoId).ToString() : session.PublishId;
        session.VideoId = id;
        Videos[id] = new SimVideo(id, session.PublishId, session.OpenId, session.Mode,
            info is { } p ? Str(p, "title") : null, info is { } q ? Str(q, "privacy_level") : null, Flag("is_aigc"),
            Flag("disable_comment"), Flag("disable_duet"), Flag("disable_stitch"), content.LongLength, content, session.CompletedAt!.Value);
    }

    private static bool IsMp4(byte[] content) => content.Length >= 12 && Encoding.ASCII.GetString(content, 4, 4) == "ftyp";

    private async Task<IResult> StatusFetch(HttpContext http)
    {
        var (grant, error) = Authenticate(http, "video.upload", "video.publish");
        if (error is not null) return error;
        var body = await JsonBodyAsync(http);
        var publishId = body is { ValueKind: JsonValueKind.Object } b ? Str(b, "publish_id") : null;
        if (publishId is null || !Sessions.TryGetValue(publishId, out var session) || session.OpenId != grant!.OpenId)
            return Error(400, "invalid_params", "publish_id does not exist.");
        if (session.CompletedAt is not { } completed || DateTimeOffset.UtcNow - completed < ProcessingTime)
            return Ok(new { status = "PROCESSING_UPLOAD", uploaded_bytes = session.ReceivedBytes });
        var video = Videos[session.VideoId!];
        if (!IsMp4(video.Content))
            return Ok(new { status = "FAILED", fail_reason = "file_format_check_failed", uploaded_bytes = session.ReceivedBytes });
        return session.Mode == "draft"
            ? Ok(new { status = "SEND_TO_USER_INBOX", uploaded_bytes = session.ReceivedBytes })
            // TikTok's spelling; ids are int64 numbers.
            : Ok(new { status = "PUBLISH_COMPLETE", publicaly_available_post_id = new[] { long.Parse(video.Id) }, uploaded_bytes = session.ReceivedBytes });
    }

    // ---- statistics ----

    /// <summary>A video's counters now: they grow with the seconds since it was published.</summary>
    public (long Views, long Likes, long Comments, long Shares) Counters(SimVideo video)
    {
        var views = (long)(Math.Max(0, (DateTimeOffset.UtcNow - video.CompletedAt).TotalSeconds) * ViewsPerSecond);
        return (views, views / 10, views / 50, views / 100);
    }

    private static readonly HashSet<string> VideoFields =
        ["id", "create_time", "cover_image_url", "share_url", "video_description", "duration", "height", "width", "title", "embed_html", "embed_link",
         "like_count", "comment_count", "share_count", "view_count"];

    private async Task<IResult> VideoQuery(HttpContext http)
    {
        var (grant, error) = Authenticate(http, "video.list");
        if (error is not null) return error;
        var fields = http.Request.Query["fields"].ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (fields.Length == 0 || fields.Any(f => !VideoFields.Contains(f))) return Error(400, "invalid_params", "fields is missing or names an unknown field.");
        var body = await JsonBodyAsync(http);
        if (body is not { ValueKind: JsonValueKind.Object } root || !root.TryGetProperty("filters", out var filters)
            || !filters.TryGetProperty("video_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
            return Error(400, "invalid_params", "filters.video_ids is required.");
        if (ids.GetArrayLength() is 0 or > 20) return Error(400, "invalid_params", "filters.video_ids must hold 1 to 20 ids.");
        var origin = $"{http.Request.Scheme}://{http.Request.Host}";
        var videos = ids.EnumerateArray().Select(i => i.ValueKind == JsonValueKind.String ? i.GetString() : i.GetRawText())
            .Select(id => id is not null && Videos.TryGetValue(id, out var v) && v.Mode == "direct" && v.OpenId == grant!.OpenId ? v : null)
            .OfType<SimVideo>()
            .Select(v =>
            {
                var (views, likes, comments, shares) = Counters(v);
                var all = new Dictionary<string, object?>
                {
                    ["id"] = v.Id, ["create_time"] = v.CompletedAt.ToUnixTimeSeconds(), ["cover_image_url"] = $"{origin}/covers/{v.Id}.jpg",
                    ["share_url"] = $"{origin}/@{Username}/video/{v.Id}", ["video_description"] = v.Title, ["duration"] = 0, ["height"] = 0, ["width"] = 0,
                    ["title"] = v.Title, ["embed_html"] = "", ["embed_link"] = $"{origin}/embed/v2/{v.Id}",
                    ["like_count"] = likes, ["comment_count"] = comments, ["share_count"] = shares, ["view_count"] = views,
                };
                return fields.Distinct().ToDictionary(f => f, f => all[f]);
            })
            .ToList();
        return Ok(new { videos, cursor = 0, has_more = false });
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long? Int64(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
}
