using FentaWeb.Domain.Publishing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Integrations.Instagram;

/// <summary>
/// Instagram Reels over the Instagram API with Instagram Login (Business Login for Instagram; professional accounts,
/// no Facebook Page): OAuth 2.0 authorization code with PKCE at <c>oauth/authorize</c> and <c>oauth/access_token</c>,
/// the short-lived token exchanged at once for a long-lived one (60 days) that <c>refresh_access_token</c> extends.
/// Instagram has no separate refresh token: the long-lived token is <see cref="TokenGrant.RefreshToken"/> as well as
/// the access token. There is no revocation endpoint for this flow (<see cref="RevokeAsync"/> answers false; the person
/// removes the app in Instagram's settings).
/// <para>
/// Publishing is Instagram's container protocol: the video is not uploaded by us but fetched by Instagram from a
/// short-lived read link (<see cref="VideoFile.ReadLinkAsync"/>). <c>POST /{ig-user-id}/media</c> (REELS) makes a
/// container whose id goes into the checkpoint at once; its <c>status_code</c> is polled (IN_PROGRESS, FINISHED, ERROR,
/// EXPIRED, PUBLISHED); a FINISHED container is published once with <c>media_publish</c> and the media id saved; a
/// container already PUBLISHED (an answer lost after Instagram published) is looked up among the account's media,
/// never published again. The publishing limit (<c>content_publishing_limit</c>, 100 posts in a moving 24 h) is read
/// before a container is made and a spent limit refused clearly; rate limits (Graph codes 4, 17, 32, 613, 80002) are
/// <see cref="PublishStep.RetryLater"/>. Tokens go in the Authorization header on Graph calls and never into messages.
/// </para>
/// </summary>
public sealed class InstagramClient(HttpClient http, InstagramOptions options, TimeProvider? clock = null) : IPublishingPlatform
{
    public const string RateLimitedCode = "INSTAGRAM_RATE_LIMITED";
    public const string PublishingLimitCode = "INSTAGRAM_PUBLISHING_LIMIT";
    public const string NotProfessionalCode = "INSTAGRAM_NOT_PROFESSIONAL";

    /// <summary>Where a rate-limited call may be made again (in a <see cref="PublishingException"/>'s Data).</summary>
    public const string RetryAtKey = "retry_at";

    private static readonly TimeSpan DefaultRateLimitWait = TimeSpan.FromMinutes(15);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public string Name => Platforms.Instagram;

    public string? MissingSetting =>
        options.ClientId is null ? InstagramOptions.ClientIdSetting : options.ClientSecret is null ? InstagramOptions.ClientSecretSetting : null;

    public IReadOnlyList<string> Scopes { get; } =
        ["instagram_business_basic", "instagram_business_content_publish", "instagram_business_manage_insights"];

    /// <summary>
    /// Reels as the content publishing reference gives them: MP4/MOV, H.264 or HEVC with AAC, 3 s to 15 min, up to
    /// 300 MB, aspect 0.01:1 to 10:1 (9:16 recommended, and what the Reels tab shows), at most 1920 px wide, 23 to 60 fps.
    /// </summary>
    public VideoConstraints Constraints { get; } = new(
        TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(15), 300_000_000, 0.01, 10.0, ["h264", "hevc"], ["aac"], 1920, 60);

    /// <summary>Insights calls count against the account's 200 calls an hour; one read an hour per video is plenty.</summary>
    public TimeSpan StatisticsInterval => TimeSpan.FromHours(1);

    /// <summary>
    /// A long-lived token (60 days) can only be refreshed while it is valid and a day old, and there is no refresh token to
    /// fall back on: it is refreshed in its last week, whenever the account is used then (publishing, the hourly statistics).
    /// </summary>
    public TimeSpan RefreshAhead => TimeSpan.FromDays(7);

    private DateTimeOffset Now => _clock.GetUtcNow();

    public Uri AuthorizationUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var (clientId, _) = Credentials();
        var query = Query(
            ("client_id", clientId), ("redirect_uri", redirectUri.ToString()), ("response_type", "code"),
            ("scope", string.Join(',', Scopes)), ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", "S256"));
        return new Uri(options.AuthUrl, "oauth/authorize?" + query);
    }

    public async Task<TokenGrant> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken ct)
    {
        var (clientId, secret) = Credentials();
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.ApiUrl, "oauth/access_token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["client_id"] = clientId, ["client_secret"] = secret, ["grant_type"] = "authorization_code",
                ["redirect_uri"] = redirectUri.ToString(), ["code"] = code, ["code_verifier"] = codeVerifier,
            }),
        };
        var answer = await SendAsync(request, "the authorization code", ct);
        // Business Login documents {data:[{access_token, user_id, permissions}]}; the older shape is flat. Both are read.
        var grant = answer.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array && data.GetArrayLength() > 0 ? data[0] : answer;
        var shortLived = Text(grant, "access_token") ?? throw BadResponse("the token exchange");
        var userId = grant.TryGetProperty("user_id", out var id) ? id.ValueKind == JsonValueKind.Number ? id.GetRawText() : id.GetString() : null;
        List<string> scopes = grant.TryGetProperty("permissions", out var p)
            ? p.ValueKind == JsonValueKind.Array ? [.. p.EnumerateArray().Select(s => s.GetString()).OfType<string>()]
                : [.. (p.GetString() ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [.. Scopes];

        // The short-lived token lasts an hour: it is exchanged for the long-lived one (60 days) straight away.
        using var exchange = new HttpRequestMessage(HttpMethod.Get, new Uri(options.GraphUrl,
            "access_token?" + Query(("grant_type", "ig_exchange_token"), ("client_secret", secret), ("access_token", shortLived))));
        var longLived = await SendAsync(exchange, "the long-lived token exchange", ct);
        return Grant(longLived, scopes, userId);
    }

    /// <summary>
    /// <c>refresh_access_token</c> with the long-lived token (kept as the refresh token too): another 60 days from now.
    /// Instagram refreshes only a token at least 24 hours old and not yet expired; an expired or revoked one is
    /// <see cref="PublishFailure.ReconnectRequired"/>. The answer carries no scopes: the returned grant's are empty (unchanged).
    /// </summary>
    public async Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(options.GraphUrl,
            "refresh_access_token?" + Query(("grant_type", "ig_refresh_token"), ("access_token", refreshToken))));
        return Grant(await SendAsync(request, "the token refresh", ct), [], null);
    }

    private TokenGrant Grant(JsonElement answer, IReadOnlyList<string> scopes, string? userId)
    {
        var token = Text(answer, "access_token") ?? throw BadResponse("the token answer");
        DateTimeOffset? expires = answer.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var seconds) ? Now.AddSeconds(seconds) : null;
        return new TokenGrant(token, token, expires, expires, scopes, userId);
    }

    /// <summary>The professional account; a personal account cannot publish through the API and is refused here.</summary>
    public async Task<PlatformAccount> AccountAsync(TokenGrant grant, CancellationToken ct)
    {
        var me = await GraphAsync(HttpMethod.Get, "me?fields=user_id,username,name,account_type,profile_picture_url", grant.AccessToken, null, "the account", ct);
        var accountType = Text(me, "account_type");
        if (accountType is not ("BUSINESS" or "MEDIA_CREATOR"))
            throw new PublishingException(NotProfessionalCode,
                $"The Instagram account @{Text(me, "username")} is a {(accountType ?? "personal").ToLowerInvariant()} account: only professional accounts " +
                "(Business or Creator) can publish through Instagram's API. Switch it to a professional account in Instagram's settings, then connect again.",
                PublishFailure.Permanent);
        // user_id is the professional account's id, the one /{ig-user-id}/media takes (id is only app-scoped).
        var id = Text(me, "user_id") ?? (me.TryGetProperty("user_id", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetRawText() : null)
            ?? grant.PlatformUserId ?? throw BadResponse("the account");
        var username = Text(me, "username");
        return new PlatformAccount(id, Text(me, "name") is { Length: > 0 } name ? name : username ?? id, Text(me, "profile_picture_url"), username);
    }

    /// <summary>The Instagram API with Instagram Login has no endpoint to revoke a token: false (the person removes the app in Instagram).</summary>
    public Task<bool> RevokeAsync(TokenGrant grant, CancellationToken ct) => Task.FromResult(false);

    /// <summary>Professional accounts are public and Reels post directly; there is no draft or privacy choice.</summary>
    public Task<CreatorOptions> CreatorOptionsAsync(string accessToken, PlatformAccount account, CancellationToken ct) =>
        Task.FromResult(new CreatorOptions(["public"], Constraints.MaxDuration, ["direct"]));

    public async Task<PublishStep> PublishAsync(PublishContext context, CancellationToken ct)
    {
        try
        {
            return await PublishStepAsync(context, ct);
        }
        catch (PublishingException e) when (e.Code == RateLimitedCode)
        {
            return new PublishStep.RetryLater(e.Data[RetryAtKey] is DateTimeOffset at ? at : Now + DefaultRateLimitWait, e.Code, e.Message);
        }
    }

    private async Task<PublishStep> PublishStepAsync(PublishContext context, CancellationToken ct)
    {
        var data = context.Checkpoint.Data;
        var token = context.AccessToken;
        var user = context.Account.Id;
        if (Text(data, "media_id") is { } published) return await PublishedAsync(token, published, ct);

        var caption = Caption(context.Request);
        if (Text(data, "container_id") is not { } containerId)
        {
            await EnsurePublishingSlotAsync(token, user, ct);
            var link = await context.Video.ReadLinkAsync(ct);
            var created = await GraphAsync(HttpMethod.Post, $"{Uri.EscapeDataString(user)}/media", token, new Dictionary<string, string>
            {
                ["media_type"] = "REELS", ["video_url"] = link.ToString(), ["caption"] = caption, ["share_to_feed"] = "true",
            }, "the Reel", ct);
            containerId = Text(created, "id") ?? throw BadResponse("the media container");
            // Saved before anything else: a later call (after a crash) follows this container instead of making another.
            data["container_id"] = containerId;
            data["container_created_at"] = Now.ToUnixTimeSeconds();
            data["phase"] = "processing";
            await context.Checkpoint.SaveAsync(ct);
        }

        var container = await GraphAsync(HttpMethod.Get, $"{Uri.EscapeDataString(containerId)}?fields=status_code,status", token, null, "the media container", ct);
        var status = Text(container, "status");
        switch (Text(container, "status_code"))
        {
            case "FINISHED":
                break;
            case "PUBLISHED":
                // Instagram published it but its answer was lost: find the media, never publish again.
                var found = await FindPublishedAsync(token, user, caption, data, ct);
                return await SavePublishedAsync(context, found, ct);
            case "ERROR":
                throw new PublishingException("INSTAGRAM_CONTAINER_ERROR",
                    $"Instagram could not process the video{(status is { Length: > 0 } ? $": {status}" : ".")}", PublishFailure.Permanent);
            case "EXPIRED":
                throw new PublishingException("INSTAGRAM_CONTAINER_EXPIRED",
                    "Instagram's media container expired before it was published (containers last 24 hours); publish again.", PublishFailure.Permanent);
            default:
                return new PublishStep.Processing(options.PollInterval, "processing");
        }

        var answer = await GraphAsync(HttpMethod.Post, $"{Uri.EscapeDataString(user)}/media_publish", token,
            new Dictionary<string, string> { ["creation_id"] = containerId }, "the Reel", ct);
        return await SavePublishedAsync(context, Text(answer, "id") ?? throw BadResponse("media_publish"), ct);
    }

    private async Task<PublishStep> SavePublishedAsync(PublishContext context, string mediaId, CancellationToken ct)
    {
        context.Checkpoint.Data["media_id"] = mediaId;
        context.Checkpoint.Data["phase"] = "published";
        await context.Checkpoint.SaveAsync(ct);
        return await PublishedAsync(context.AccessToken, mediaId, ct);
    }

    private async Task<PublishStep> PublishedAsync(string token, string mediaId, CancellationToken ct)
    {
        var media = await GraphAsync(HttpMethod.Get, $"{Uri.EscapeDataString(mediaId)}?fields=id,permalink", token, null, "the published Reel", ct);
        return new PublishStep.Published(mediaId, Text(media, "permalink") ?? $"https://www.instagram.com/");
    }

    /// <summary>The media a PUBLISHED container became: the account's media with this caption, published after the container was made.</summary>
    private async Task<string> FindPublishedAsync(string token, string user, string caption, JsonObject data, CancellationToken ct)
    {
        var since = data["container_created_at"] is JsonValue v && v.TryGetValue<long>(out var s) ? DateTimeOffset.FromUnixTimeSeconds(s) : DateTimeOffset.MinValue;
        var list = await GraphAsync(HttpMethod.Get, $"{Uri.EscapeDataString(user)}/media?fields=id,caption,timestamp&limit=50", token, null, "the account's media", ct);
        var match = list.TryGetProperty("data", out var items) && items.ValueKind == JsonValueKind.Array
            ? items.EnumerateArray()
                .Where(m => (Text(m, "caption") ?? "") == caption)
                .Select(m => (Id: Text(m, "id"), At: DateTimeOffset.TryParse(Text(m, "timestamp"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at : DateTimeOffset.MinValue))
                .Where(m => m.Id is not null && m.At >= since.AddMinutes(-1))
                .OrderBy(m => m.At)
                .Select(m => m.Id)
                .FirstOrDefault()
            : null;
        return match ?? throw new PublishingException("INSTAGRAM_PUBLISHED_NOT_LISTED",
            "Instagram reports the Reel published, but it is not among the account's media yet.", PublishFailure.Transient);
    }

    /// <summary>
    /// Refuses clearly when the account has spent its API posts of the last 24 hours, naming the limit and, as near as
    /// <c>since</c> lets us find the oldest post in the window, when a slot frees.
    /// </summary>
    private async Task EnsurePublishingSlotAsync(string token, string user, CancellationToken ct)
    {
        var (usage, total, duration) = await PublishingLimitAsync(token, user, null, ct);
        if (total is not { } limit || usage < limit) return;
        var window = TimeSpan.FromSeconds(duration ?? 86400);
        DateTimeOffset? freesAt = null;
        try
        {
            // usage(since) falls as since passes the oldest post of the window: bisect for it (to about 11 minutes).
            var lo = Now - window + TimeSpan.FromMinutes(1);
            var hi = Now;
            if ((await PublishingLimitAsync(token, user, lo, ct)).Usage >= usage)
            {
                for (var i = 0; i < 7; i++)
                {
                    var mid = lo + (hi - lo) / 2;
                    if ((await PublishingLimitAsync(token, user, mid, ct)).Usage >= usage) lo = mid; else hi = mid;
                }
                freesAt = hi + window;
            }
        }
        catch (PublishingException)
        {
            // The refusal stands without the time.
        }
        throw new PublishingException(PublishingLimitCode,
            $"The Instagram account has published {usage} of the {limit} posts Instagram allows through its API in a moving {window.TotalHours:0.#} hours" +
            (freesAt is { } at ? $"; the next slot frees at about {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC." : "; a slot frees 24 hours after the oldest of them.") +
            " Publish again then.", PublishFailure.Permanent);
    }

    private async Task<(long Usage, long? Total, long? Duration)> PublishingLimitAsync(string token, string user, DateTimeOffset? since, CancellationToken ct)
    {
        var answer = await GraphAsync(HttpMethod.Get,
            $"{Uri.EscapeDataString(user)}/content_publishing_limit?fields=config,quota_usage{(since is { } s ? $"&since={s.ToUnixTimeSeconds()}" : "")}",
            token, null, "the publishing limit", ct);
        var row = answer.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array && d.GetArrayLength() > 0 ? d[0] : answer;
        var usage = row.TryGetProperty("quota_usage", out var u) && u.TryGetInt64(out var used) ? used : 0;
        long? total = null, duration = null;
        if (row.TryGetProperty("config", out var config) && config.ValueKind == JsonValueKind.Object)
        {
            if (config.TryGetProperty("quota_total", out var t) && t.TryGetInt64(out var tv)) total = tv;
            if (config.TryGetProperty("quota_duration", out var q) && q.TryGetInt64(out var qv)) duration = qv;
        }
        return (usage, total, duration);
    }

    /// <summary>views, likes, comments and shares from each media's insights (views replaced plays in 2025).</summary>
    public async Task<IReadOnlyList<VideoStatistics>> StatisticsAsync(string accessToken, PlatformAccount account, IReadOnlyList<string> videoIds, CancellationToken ct)
    {
        List<VideoStatistics> all = [];
        foreach (var id in videoIds)
        {
            JsonElement answer;
            try
            {
                answer = await GraphAsync(HttpMethod.Get, $"{Uri.EscapeDataString(id)}/insights?metric=views,likes,comments,shares", accessToken, null, "the Reel's insights", ct);
            }
            catch (PublishingException e) when (e.Code == "INSTAGRAM_NOT_FOUND")
            {
                continue; // deleted on Instagram: nothing to count
            }
            Dictionary<string, long> values = [];
            if (answer.TryGetProperty("data", out var metrics) && metrics.ValueKind == JsonValueKind.Array)
                foreach (var metric in metrics.EnumerateArray())
                    if (Text(metric, "name") is { } name && MetricValue(metric) is { } value) values[name] = value;
            all.Add(new VideoStatistics(id, values.TryGetValue("views", out var views) ? views : null, values.TryGetValue("likes", out var likes) ? likes : null,
                values.TryGetValue("comments", out var comments) ? comments : null, values.TryGetValue("shares", out var shares) ? shares : null));
        }
        return all;
    }

    private static long? MetricValue(JsonElement metric)
    {
        if (metric.TryGetProperty("total_value", out var total) && total.TryGetProperty("value", out var t) && t.TryGetInt64(out var tv)) return tv;
        if (metric.TryGetProperty("values", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0
            && values[values.GetArrayLength() - 1].TryGetProperty("value", out var v) && v.TryGetInt64(out var vv)) return vv;
        return null;
    }

    /// <summary>Instagram has no title: the caption is the description (or the title without one) and the hashtags.</summary>
    public static string Caption(PublishRequest request)
    {
        var text = (string.IsNullOrWhiteSpace(request.Description) ? request.Title : request.Description).Trim();
        var tags = string.Join(' ', request.Hashtags.Select(h => h.Trim().TrimStart('#')).Where(h => h.Length > 0).Select(h => "#" + h.Replace(" ", "")));
        return tags.Length == 0 ? text : text.Length == 0 ? tags : $"{text}\n\n{tags}";
    }

    private (string ClientId, string Secret) Credentials() => options is { ClientId: { } id, ClientSecret: { } secret }
        ? (id, secret)
        : throw new PublishingException("INSTAGRAM_NOT_CONFIGURED", $"Instagram is not configured: set {MissingSetting}.", PublishFailure.Permanent);

    /// <summary>A versioned Graph call with the token in the Authorization header (never in the URL, so never in a log line).</summary>
    private async Task<JsonElement> GraphAsync(HttpMethod method, string path, string token, Dictionary<string, string>? form, string what, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(options.GraphUrl, $"{options.ApiVersion}/{path}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (form is not null) request.Content = new FormUrlEncodedContent(form);
        return await SendAsync(request, what, ct);
    }

    private async Task<JsonElement> SendAsync(HttpRequestMessage request, string what, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendToProviderAsync(request, HttpCompletionOption.ResponseContentRead, "INSTAGRAM", "Instagram", options.Timeout, ct);
        }
        catch (ProviderException e)
        {
            throw new PublishingException(e.Code, e.Message, PublishFailure.Transient);
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonElement body = default;
            try
            {
                if (text.Length > 0) body = JsonDocument.Parse(text).RootElement.Clone();
            }
            catch (JsonException)
            {
            }
            if (response.IsSuccessStatusCode && body.ValueKind == JsonValueKind.Object && !body.TryGetProperty("error", out _) && !body.TryGetProperty("error_type", out _))
                return body;
            throw ErrorOf(response, body, what);
        }
    }

    /// <summary>
    /// Graph's <c>{error:{message,type,code,error_subcode,is_transient,fbtrace_id}}</c> (and the token endpoint's
    /// <c>{error_type,code,error_message}</c>) as a <see cref="PublishingException"/>.
    /// </summary>
    private PublishingException ErrorOf(HttpResponseMessage response, JsonElement body, string what)
    {
        var status = (int)response.StatusCode;
        if (body.ValueKind != JsonValueKind.Object)
            return status >= 500 || status == 408 || response.IsSuccessStatusCode
                ? new PublishingException("INSTAGRAM_UNAVAILABLE", $"Instagram failed on {what} ({status}).", PublishFailure.Transient)
                : status == 401
                    ? new PublishingException("INSTAGRAM_RECONNECT", "Instagram no longer accepts this connection; connect the account again.", PublishFailure.ReconnectRequired)
                    : new PublishingException("INSTAGRAM_REFUSED", $"Instagram refused {what} ({status}).", PublishFailure.Permanent);

        if (body.TryGetProperty("error_type", out _) || Text(body, "error_message") is not null)
        {
            // The code exchange's own shape: a code that is wrong, used or expired, a bad verifier or redirect_uri, or bad credentials.
            var message = Text(body, "error_message") ?? "the request was refused";
            return new PublishingException("INSTAGRAM_CODE_REJECTED", $"Instagram refused {what}: {message}", PublishFailure.Permanent);
        }

        var error = body.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : body;
        var code = error.TryGetProperty("code", out var c) && c.TryGetInt32(out var ci) ? ci : 0;
        var subcode = error.TryGetProperty("error_subcode", out var sc) && sc.TryGetInt32(out var sci) ? sci : 0;
        var text = Text(error, "error_user_msg") ?? Text(error, "message") ?? "no reason given";
        var reference = $" (code {code}{(subcode != 0 ? $"/{subcode}" : "")}{(Text(error, "fbtrace_id") is { } trace ? $", fbtrace_id {trace}" : "")})";
        var transient = error.TryGetProperty("is_transient", out var t) && t.ValueKind == JsonValueKind.True;

        if (code is 4 or 17 or 32 or 613 or 80002)
        {
            var limited = new PublishingException(RateLimitedCode, $"Instagram is rate limiting this account or app: {text}{reference}", PublishFailure.Transient);
            limited.Data[RetryAtKey] = Now + RegainAccessIn(response);
            return limited;
        }
        if (code == 9 && subcode == 2207042)
            return new PublishingException(PublishingLimitCode,
                $"The Instagram account has reached the number of posts Instagram allows through its API in 24 hours: {text}{reference}", PublishFailure.Permanent);
        if (code is 190 or 102 or 463 or 467 || status == 401)
            return new PublishingException("INSTAGRAM_RECONNECT",
                $"Instagram no longer accepts this connection (expired or removed); connect the account again.{reference}", PublishFailure.ReconnectRequired);
        if (code == 10 && text.Contains("Not enough viewers", StringComparison.OrdinalIgnoreCase))
            return new PublishingException("INSTAGRAM_NOT_FOUND", $"Instagram has no insights for this Reel yet: {text}{reference}", PublishFailure.Permanent);
        if (code is 10 or (>= 200 and <= 299))
            return new PublishingException("INSTAGRAM_PERMISSION_MISSING",
                $"The Instagram connection lacks a permission {what} needs; connect the account again and grant it: {text}{reference}", PublishFailure.ReconnectRequired);
        if (code == 100 && subcode == 33)
            return new PublishingException("INSTAGRAM_NOT_FOUND", $"Instagram does not know {what}: {text}{reference}", PublishFailure.Permanent);
        // Code 1 is "unknown error", but as an OAuthException it is a refused credential ("Error validating client secret.").
        if (transient || code == 2 || code == 1 && Text(error, "type") != "OAuthException" || status >= 500)
            return new PublishingException("INSTAGRAM_UNAVAILABLE", $"Instagram failed on {what}: {text}{reference}", PublishFailure.Transient);
        return new PublishingException("INSTAGRAM_REFUSED", $"Instagram refused {what}: {text}{reference}", PublishFailure.Permanent);
    }

    /// <summary>
    /// The wait Graph names in its usage headers (<c>X-Business-Use-Case-Usage</c> / <c>X-App-Usage</c>:
    /// <c>estimated_time_to_regain_access</c> in minutes), else Retry-After, else 15 minutes.
    /// </summary>
    private static TimeSpan RegainAccessIn(HttpResponseMessage response)
    {
        foreach (var header in new[] { "X-Business-Use-Case-Usage", "X-App-Usage" })
        {
            if (!response.Headers.TryGetValues(header, out var values)) continue;
            foreach (var value in values)
            {
                try
                {
                    using var doc = JsonDocument.Parse(value);
                    var minutes = Minutes(doc.RootElement);
                    if (minutes > 0) return TimeSpan.FromMinutes(minutes);
                }
                catch (JsonException)
                {
                }
            }
        }
        return ProviderException.RetryAfterOf(response, DefaultRateLimitWait);

        static long Minutes(JsonElement e) => e.ValueKind switch
        {
            JsonValueKind.Object => e.EnumerateObject()
                .Select(p => p.Name == "estimated_time_to_regain_access" && p.Value.TryGetInt64(out var m) ? m : Minutes(p.Value)).DefaultIfEmpty(0).Max(),
            JsonValueKind.Array => e.EnumerateArray().Select(Minutes).DefaultIfEmpty(0).Max(),
            _ => 0,
        };
    }

    private static PublishingException BadResponse(string what) =>
        new("INSTAGRAM_BAD_RESPONSE", $"Instagram answered {what} without the fields it documents.", PublishFailure.Transient);

    private static string Query(params (string Name, string Value)[] parameters) =>
        string.Join('&', parameters.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}

public static class InstagramRegistration
{
    /// <summary>
    /// The Instagram adapter as a typed HttpClient with the providers' pipeline (reads retried; a POST that makes a
    /// container or publishes one only when it never reached Instagram), also resolvable as an <see cref="IPublishingPlatform"/>.
    /// No long upload timeout is needed: Instagram fetches the video itself.
    /// </summary>
    public static IServiceCollection AddInstagramPublishing(this IServiceCollection services, InstagramOptions options)
    {
        var http = services.AddHttpClient(nameof(InstagramClient));
        http.AddProviderResilience(options.Timeout, postsCreateNothing: false);
        http.AddTypedClient((client, sp) => new InstagramClient(client, options, sp.GetService<TimeProvider>()));
        // Transient like the typed client, so the factory's handler rotation still applies.
        services.AddTransient<IPublishingPlatform>(sp => sp.GetRequiredService<InstagramClient>());
        return services;
    }
}
