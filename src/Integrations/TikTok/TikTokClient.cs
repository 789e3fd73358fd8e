using FentaWeb.Domain.Publishing;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using FentaWeb.Integrations.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Integrations.TikTok;

/// <summary>
/// TikTok over its documented contracts: Login Kit for Web (OAuth 2.0 v2 with PKCE S256, refresh tokens that rotate,
/// revocation), the user info endpoint, and the Content Posting API: <c>creator_info/query</c> first, then a direct post
/// (<c>/v2/post/publish/video/init/</c>, scope video.publish) or an upload to the person's inbox as a draft
/// (<c>/v2/post/publish/inbox/video/init/</c>, video.upload), <c>FILE_UPLOAD</c> in ordered chunks of 5–64 MB to the
/// upload_url, and <c>status/fetch</c> until PUBLISH_COMPLETE or SEND_TO_USER_INBOX. Statistics come from
/// <c>/v2/video/query/</c> (video.list). Every answer is the <c>{data, error: {code, message, log_id}}</c> envelope
/// (OAuth: <c>{error, error_description, log_id}</c>); no token, secret or code ever goes into a message.
/// </summary>
public sealed class TikTokClient(HttpClient http, HttpClient upload, TikTokOptions options) : IPublishingPlatform
{
    /// <summary>An upload_url is valid for an hour after the init; a little is kept in hand.</summary>
    public static readonly TimeSpan UploadUrlLifetime = TimeSpan.FromMinutes(55);

    /// <summary>TikTok's caption (post_info.title) limit, in UTF-16 code units.</summary>
    public const int MaxCaption = 2200;

    public string Name => Platforms.TikTok;

    public string? MissingSetting => options.ClientId is null ? "FENTA_TIKTOK_CLIENT_ID" : options.ClientSecret is null ? "FENTA_TIKTOK_CLIENT_SECRET" : null;

    /// <summary>user.info.profile is what TikTok requires for the username (the post's URL is built from it).</summary>
    public IReadOnlyList<string> Scopes { get; } = ["user.info.basic", "user.info.profile", "video.publish", "video.upload", "video.list"];

    /// <summary>
    /// TikTok's media transfer guide: MP4/MOV/WebM with H.264, H.265, VP8 or VP9, 23–60 fps, sides of 360–4096 px, at
    /// most 4 GB; at most 10 minutes (the account's max_video_post_duration_sec may be less). The aspect range is 9:16
    /// to 16:9, what TikTok displays without bars; at least 3 s.
    /// </summary>
    public VideoConstraints Constraints { get; } = new(
        TimeSpan.FromSeconds(3), TimeSpan.FromMinutes(10), 4L * 1024 * 1024 * 1024, 9.0 / 16, 16.0 / 9,
        ["h264", "hevc", "vp8", "vp9"], ["aac", "mp3", "opus"], 4096, 60);

    /// <summary>video/query is limited per token; an hourly read keeps a busy account well inside it.</summary>
    public TimeSpan StatisticsInterval => TimeSpan.FromHours(1);

    public Uri AuthorizationUrl(string state, string codeChallenge, Uri redirectUri)
    {
        var query = string.Join("&", new (string Name, string Value)[]
        {
            ("client_key", Configured().Id), ("scope", string.Join(",", Scopes)), ("response_type", "code"),
            ("redirect_uri", redirectUri.ToString()), ("state", state), ("code_challenge", codeChallenge), ("code_challenge_method", "S256"),
        }.Select(p => $"{p.Name}={Uri.EscapeDataString(p.Value)}"));
        return new Uri(options.AuthUrl, $"v2/auth/authorize/?{query}");
    }

    public Task<TokenGrant> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken ct) =>
        TokenAsync([("code", code), ("grant_type", "authorization_code"), ("redirect_uri", redirectUri.ToString()), ("code_verifier", codeVerifier)], ct);

    public Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct) =>
        TokenAsync([("grant_type", "refresh_token"), ("refresh_token", refreshToken)], ct);

    public async Task<PlatformAccount> AccountAsync(TokenGrant grant, CancellationToken ct)
    {
        JsonElement data;
        try
        {
            data = await CallAsync(HttpMethod.Get, "v2/user/info/?fields=open_id,avatar_url,display_name,username", grant.AccessToken, null, ct);
        }
        catch (TikTokError e)
        {
            throw Map(e);
        }
        var user = data.TryGetProperty("user", out var u) ? u : default;
        var id = Text(user, "open_id") ?? grant.PlatformUserId ?? throw BadResponse("user info carried no open_id");
        return new PlatformAccount(id, Text(user, "display_name") ?? Text(user, "username") ?? id, Text(user, "avatar_url"), Text(user, "username"));
    }

    public async Task<bool> RevokeAsync(TokenGrant grant, CancellationToken ct)
    {
        var (id, secret) = Configured();
        await OAuthAsync("v2/oauth/revoke/", [("client_key", id), ("client_secret", secret), ("token", grant.AccessToken)], ct);
        return true;
    }

    public async Task<CreatorOptions> CreatorOptionsAsync(string accessToken, PlatformAccount account, CancellationToken ct)
    {
        Creator creator;
        try
        {
            creator = await CreatorInfoAsync(accessToken, ct);
        }
        catch (TikTokError e)
        {
            throw Map(e);
        }
        if (options.Audited)
            return new CreatorOptions(creator.PrivacyOptions, creator.MaxDuration, ["direct", "draft"], creator.CommentDisabled, creator.DuetDisabled, creator.StitchDisabled);
        return new CreatorOptions(["SELF_ONLY"], creator.MaxDuration, ["direct", "draft"], creator.CommentDisabled, creator.DuetDisabled, creator.StitchDisabled,
            "This TikTok app has not passed TikTok's content posting audit (FENTA_TIKTOK_AUDITED is off), so TikTok only accepts " +
            "private posts (SELF_ONLY): the video is visible to its owner only until the app is audited.");
    }

    public async Task<PublishStep> PublishAsync(PublishContext context, CancellationToken ct)
    {
        try
        {
            return await PublishStepAsync(context, ct);
        }
        catch (TikTokError e) when (e.Code is "rate_limit_exceeded" || e.Status == 429)
        {
            return new PublishStep.RetryLater(DateTimeOffset.UtcNow + (e.RetryAfter ?? TimeSpan.FromMinutes(1)), "TIKTOK_RATE_LIMITED",
                "TikTok allows 6 upload starts a minute per account (and 30 status reads): waiting a minute.");
        }
        catch (TikTokError e) when (e.Code is "spam_risk_too_many_posts" or "spam_risk_too_many_pending_share")
        {
            return new PublishStep.RetryLater(DateTimeOffset.UtcNow + TimeSpan.FromHours(1), "TIKTOK_POSTING_LIMIT",
                e.Code == "spam_risk_too_many_posts"
                    ? "The TikTok account reached TikTok's daily posting limit; trying again in an hour."
                    : "The TikTok account has too many drafts waiting in its inbox; trying again in an hour.");
        }
        catch (TikTokError e)
        {
            throw Map(e);
        }
    }

    private async Task<PublishStep> PublishStepAsync(PublishContext context, CancellationToken ct)
    {
        var request = context.Request;
        var mode = request.Mode ?? "direct";
        if (mode is not ("direct" or "draft"))
            throw new PublishingException("TIKTOK_BAD_MODE", $"A TikTok post is \"direct\" or \"draft\", not \"{mode}\".", PublishFailure.Permanent);
        var cp = context.Checkpoint.Data;
        var token = context.AccessToken;

        if (Text(cp, "result_id") is { } doneId)
            return new PublishStep.Published(doneId, Text(cp, "result_url") ?? ProfileUrl(context.Account.Handle ?? context.Account.Id));

        if (Text(cp, "publish_id") is { } existing && !Flag(cp, "uploaded"))
        {
            // Where does the upload stand at TikTok? uploaded_bytes is what it acknowledged, whatever the checkpoint says.
            var status = await StatusAsync(token, existing, ct);
            if (status.State == "FAILED")
            {
                if (!Expired(cp)) throw Failed(status);
                Clear(cp); // The upload lapsed before it completed: no post exists, so starting again posts once.
            }
            else if (status.State != "PROCESSING_UPLOAD" || status.UploadedBytes >= Long(cp, "video_size"))
                cp["uploaded"] = true;
            else if (Expired(cp) || Flag(cp, "upload_lost"))
                Clear(cp);
            else
                cp["acked_bytes"] = status.UploadedBytes ?? Long(cp, "acked_bytes");
            await context.Checkpoint.SaveAsync(ct);
        }

        if (Text(cp, "publish_id") is null)
            await InitAsync(context, mode, ct);

        if (!Flag(cp, "uploaded"))
        {
            var outcome = await UploadAsync(context, ct);
            if (outcome is not null) return outcome;
        }

        var publishId = Text(cp, "publish_id")!;
        var after = await StatusAsync(token, publishId, ct);
        switch (after.State)
        {
            case "FAILED":
                throw Failed(after);
            case "SEND_TO_USER_INBOX":
                // A draft has no public post: the person finishes it from the inbox notification in the TikTok app.
                return await DoneAsync(context, publishId, ProfileUrl(await HandleAsync(context, ct)), ct);
            case "PUBLISH_COMPLETE":
                var handle = await HandleAsync(context, ct);
                return after.PostId is { } postId
                    ? await DoneAsync(context, postId, new Uri(options.AuthUrl, $"@{Uri.EscapeDataString(handle)}/video/{postId}").ToString(), ct)
                    : await DoneAsync(context, publishId, ProfileUrl(handle), ct);
            default:
                return new PublishStep.Processing(TimeSpan.FromSeconds(5), after.State == "PROCESSING_UPLOAD" ? "processing" : after.State.ToLowerInvariant());
        }
    }

    private async Task InitAsync(PublishContext context, string mode, CancellationToken ct)
    {
        var (request, video, cp) = (context.Request, context.Video, context.Checkpoint.Data);
        var (chunk, count) = Chunking(video.Length, options.ChunkBytes);
        var source = new JsonObject
        {
            ["source"] = "FILE_UPLOAD", ["video_size"] = video.Length, ["chunk_size"] = chunk, ["total_chunk_count"] = count,
        };
        JsonObject body;
        string path;
        if (mode == "draft")
        {
            path = "v2/post/publish/inbox/video/init/";
            body = new JsonObject { ["source_info"] = source };
        }
        else
        {
            // creator_info first, as TikTok requires: the privacy level must be one it offers, the video within the account's limit.
            var creator = await CreatorInfoAsync(context.AccessToken, ct);
            if (!creator.PrivacyOptions.Contains(request.Privacy))
                throw new PublishingException("TIKTOK_PRIVACY_NOT_OFFERED",
                    $"TikTok does not offer the privacy level \"{request.Privacy}\" for this account; it offers {string.Join(", ", creator.PrivacyOptions)}.", PublishFailure.Permanent);
            if (video.Duration > creator.MaxDuration)
                throw new PublishingException("TIKTOK_TOO_LONG",
                    $"This TikTok account may post videos of at most {creator.MaxDuration.TotalSeconds:0} s; the video lasts {video.Duration.TotalSeconds:0.#} s.", PublishFailure.Permanent);
            if (creator.Username is { } username) cp["username"] = username;
            path = "v2/post/publish/video/init/";
            body = new JsonObject
            {
                ["post_info"] = new JsonObject
                {
                    ["title"] = Caption(request), ["privacy_level"] = request.Privacy,
                    ["disable_duet"] = creator.DuetDisabled, ["disable_comment"] = creator.CommentDisabled, ["disable_stitch"] = creator.StitchDisabled,
                    ["video_cover_timestamp_ms"] = 1000, ["is_aigc"] = request.AiGenerated,
                },
                ["source_info"] = source,
            };
        }
        var data = await CallAsync(HttpMethod.Post, path, context.AccessToken, body, ct);
        cp["publish_id"] = Text(data, "publish_id") ?? throw BadResponse("the init answer carried no publish_id");
        cp["upload_url"] = Text(data, "upload_url") ?? throw BadResponse("the init answer carried no upload_url");
        cp["mode"] = mode;
        cp["initiated_at"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        cp["video_size"] = video.Length;
        cp["chunk_size"] = chunk;
        cp["total_chunks"] = count;
        cp["acked_bytes"] = 0L;
        cp["uploaded"] = false;
        cp.Remove("upload_lost");
        // Saved before a byte goes out: a worker that dies now resumes this publish_id, never a second post.
        await context.Checkpoint.SaveAsync(ct);
    }

    /// <summary>Sends the chunks from the acknowledged byte, in order, saving the acknowledged byte after each; null when all are in.</summary>
    private async Task<PublishStep?> UploadAsync(PublishContext context, CancellationToken ct)
    {
        var cp = context.Checkpoint.Data;
        var url = new Uri(Text(cp, "upload_url")!);
        var size = Long(cp, "video_size");
        var chunk = Long(cp, "chunk_size");
        var count = Long(cp, "total_chunks");
        var acked = Long(cp, "acked_bytes");
        if (size != context.Video.Length)
            throw new PublishingException("TIKTOK_VIDEO_CHANGED", "The video file differs from the one this upload started with.", PublishFailure.Permanent);
        if (acked % chunk != 0 && acked != size)
            throw new PublishingException("TIKTOK_UPLOAD_OUT_OF_STEP", $"TikTok acknowledged {acked} bytes, which is not a chunk boundary.", PublishFailure.Transient);

        await using var file = new FileStream(context.Video.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        for (var index = acked / chunk; index < count; index++)
        {
            var first = index * chunk;
            var last = index == count - 1 ? size - 1 : first + chunk - 1;
            var bytes = new byte[last - first + 1];
            file.Position = first;
            await file.ReadExactlyAsync(bytes, ct);
            using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(bytes) };
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("video/mp4");
            put.Content.Headers.ContentLength = bytes.Length;
            put.Content.Headers.ContentRange = new ContentRangeHeaderValue(first, last, size);
            using var response = await SendAsync(upload, put, options.UploadTimeout, ct);
            switch (response.StatusCode)
            {
                case HttpStatusCode.Created or HttpStatusCode.PartialContent or HttpStatusCode.OK:
                    cp["acked_bytes"] = last + 1;
                    if (response.StatusCode != HttpStatusCode.PartialContent || last + 1 == size) cp["uploaded"] = true;
                    await context.Checkpoint.SaveAsync(ct);
                    break;
                case HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Gone:
                    // The upload_url lapsed (an hour) or TikTok dropped the session: no post exists; the next call starts again.
                    cp["upload_lost"] = true;
                    await context.Checkpoint.SaveAsync(ct);
                    return new PublishStep.Processing(TimeSpan.Zero, "upload expired; starting again");
                default:
                    var detail = await ErrorOfAsync(response, ct);
                    throw (int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable
                        // Out of step (a chunk acknowledged but its answer lost): the next call asks TikTok where it stands.
                        ? new PublishingException("TIKTOK_UPLOAD_FAILED", $"TikTok did not take chunk {index + 1} of {count} ({(int)response.StatusCode}): {detail.Message}", PublishFailure.Transient)
                        : new PublishingException("TIKTOK_UPLOAD_REJECTED", $"TikTok refused chunk {index + 1} of {count} ({(int)response.StatusCode}): {detail.Message}", PublishFailure.Permanent);
            }
        }
        return null;
    }

    private async Task<PublishStep> DoneAsync(PublishContext context, string id, string url, CancellationToken ct)
    {
        context.Checkpoint.Data["result_id"] = id;
        context.Checkpoint.Data["result_url"] = url;
        await context.Checkpoint.SaveAsync(ct);
        return new PublishStep.Published(id, url);
    }

    private async Task<string> HandleAsync(PublishContext context, CancellationToken ct) =>
        context.Account.Handle ?? Text(context.Checkpoint.Data, "username") ?? (await CreatorInfoAsync(context.AccessToken, ct)).Username ?? context.Account.Id;

    private string ProfileUrl(string handle) => new Uri(options.AuthUrl, $"@{Uri.EscapeDataString(handle)}").ToString();

    public async Task<IReadOnlyList<VideoStatistics>> StatisticsAsync(string accessToken, PlatformAccount account, IReadOnlyList<string> videoIds, CancellationToken ct)
    {
        List<VideoStatistics> all = [];
        foreach (var batch in videoIds.Distinct().Chunk(20))
        {
            var body = new JsonObject { ["filters"] = new JsonObject { ["video_ids"] = new JsonArray([.. batch.Select(id => (JsonNode)id)]) } };
            try
            {
                var data = await CallAsync(HttpMethod.Post, "v2/video/query/?fields=id,view_count,like_count,comment_count,share_count", accessToken, body, ct);
                if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("videos", out var videos) && videos.ValueKind == JsonValueKind.Array)
                    all.AddRange(videos.EnumerateArray().Select(v => new VideoStatistics(
                        Text(v, "id") ?? (v.TryGetProperty("id", out var n) ? n.ToString() : ""),
                        Number(v, "view_count"), Number(v, "like_count"), Number(v, "comment_count"), Number(v, "share_count"))));
            }
            catch (TikTokError e)
            {
                throw Map(e);
            }
        }
        return all;
    }

    // ---- the creator's options ----

    private sealed record Creator(IReadOnlyList<string> PrivacyOptions, TimeSpan MaxDuration, bool CommentDisabled, bool DuetDisabled, bool StitchDisabled, string? Username);

    private async Task<Creator> CreatorInfoAsync(string accessToken, CancellationToken ct)
    {
        JsonElement data;
        try
        {
            data = await CallAsync(HttpMethod.Post, "v2/post/publish/creator_info/query/", accessToken, new JsonObject(), ct);
        }
        catch (TikTokError e) when (e.Code is "spam_risk_too_many_posts" or "spam_risk_user_banned_from_posting" or "reached_active_user_cap")
        {
            throw new PublishingException("TIKTOK_CANNOT_POST", $"TikTok does not let this account post now ({e.Code}): {e.Message}", PublishFailure.Permanent);
        }
        catch (TikTokError e) when (e.Code != "rate_limit_exceeded")
        {
            throw Map(e);
        }
        var privacy = data.TryGetProperty("privacy_level_options", out var p) && p.ValueKind == JsonValueKind.Array
            ? p.EnumerateArray().Select(o => o.GetString()).OfType<string>().ToList() : [];
        var max = Number(data, "max_video_post_duration_sec") ?? 600;
        return new Creator(privacy, TimeSpan.FromSeconds(max), Bool(data, "comment_disabled"), Bool(data, "duet_disabled"), Bool(data, "stitch_disabled"),
            Text(data, "creator_username"));
    }

    private sealed record Status(string State, long? UploadedBytes, string? PostId, string? FailReason);

    private async Task<Status> StatusAsync(string accessToken, string publishId, CancellationToken ct)
    {
        var data = await CallAsync(HttpMethod.Post, "v2/post/publish/status/fetch/", accessToken, new JsonObject { ["publish_id"] = publishId }, ct);
        // TikTok spells it publicaly_available_post_id: a list of int64 ids.
        string? postId = null;
        if (data.TryGetProperty("publicaly_available_post_id", out var ids) && ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0)
            postId = ids[0].ValueKind == JsonValueKind.String ? ids[0].GetString() : ids[0].GetRawText();
        return new Status(Text(data, "status") ?? throw BadResponse("the status answer carried no status"), Number(data, "uploaded_bytes"), postId, Text(data, "fail_reason"));
    }

    private static PublishingException Failed(Status status) => new("TIKTOK_PUBLISH_FAILED",
        $"TikTok could not publish the video: {status.FailReason ?? "no reason given"}.", PublishFailure.Permanent);

    // ---- chunks and captions ----

    /// <summary>
    /// TikTok's chunk rules: a video under 5 MB (or within one chunk) goes whole; otherwise chunks of
    /// <paramref name="chunkBytes"/>, total_chunk_count = floor(size / chunk), the last chunk taking the remainder.
    /// </summary>
    public static (long ChunkSize, long Count) Chunking(long videoSize, long chunkBytes)
    {
        if (videoSize <= chunkBytes) return (videoSize, 1);
        return (chunkBytes, videoSize / chunkBytes);
    }

    /// <summary>The caption TikTok shows: the title, the description, then the hashtags; the description is shortened to fit 2200.</summary>
    public static string Caption(PublishRequest request)
    {
        var tags = string.Join(" ", request.Hashtags.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => "#" + t.Trim().TrimStart('#')));
        var title = request.Title.Trim();
        var description = request.Description.Trim();
        string Join(string d) => string.Join("\n\n", new[] { title, d, tags }.Where(s => s.Length > 0));
        var caption = Join(description);
        if (caption.Length <= MaxCaption) return caption;
        var room = description.Length - (caption.Length - MaxCaption) - 1;
        caption = Join(room > 0 ? description[..room].TrimEnd() + "…" : "");
        return caption.Length <= MaxCaption ? caption : caption[..MaxCaption];
    }

    // ---- HTTP ----

    private (string Id, string Secret) Configured() =>
        options.ClientId is { } id && options.ClientSecret is { } secret ? (id, secret)
            : throw new PublishingException("TIKTOK_NOT_CONFIGURED", $"TikTok is not configured: set {MissingSetting}.", PublishFailure.Permanent);

    private async Task<TokenGrant> TokenAsync(IEnumerable<(string, string)> fields, CancellationToken ct)
    {
        var (id, secret) = Configured();
        var data = await OAuthAsync("v2/oauth/token/", [("client_key", id), ("client_secret", secret), .. fields], ct);
        var now = DateTimeOffset.UtcNow;
        var access = Text(data, "access_token") ?? throw BadResponse("the token answer carried no access_token");
        return new TokenGrant(access, Text(data, "refresh_token"),
            Number(data, "expires_in") is { } expires ? now.AddSeconds(expires) : null,
            Number(data, "refresh_expires_in") is { } refresh ? now.AddSeconds(refresh) : null,
            (Text(data, "scope") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Text(data, "open_id"));
    }

    /// <summary>An OAuth call: form in, <c>{…}</c> or <c>{error, error_description, log_id}</c> out (TikTok may answer an error with 200).</summary>
    private async Task<JsonElement> OAuthAsync(string path, IEnumerable<(string Name, string Value)> form, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(options.ApiUrl, path))
        {
            Content = new FormUrlEncodedContent(form.Select(f => KeyValuePair.Create(f.Name, f.Value))),
        };
        using var response = await SendAsync(http, request, options.Timeout, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        JsonElement body = default;
        try
        {
            if (text.Length > 0) body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
        }
        var error = Text(body, "error");
        if (response.IsSuccessStatusCode && string.IsNullOrEmpty(error)) return body;
        var description = Text(body, "error_description") ?? response.ReasonPhrase ?? "";
        if ((int)response.StatusCode >= 500)
            throw new PublishingException("TIKTOK_UNAVAILABLE", $"TikTok's OAuth service failed ({(int)response.StatusCode}).", PublishFailure.Transient);
        throw error switch
        {
            "invalid_grant" or "access_denied" => new PublishingException("TIKTOK_GRANT_INVALID",
                $"TikTok no longer accepts this account's authorization (it was revoked or has expired): connect the account again. ({description})", PublishFailure.ReconnectRequired),
            "invalid_client" or "unauthorized_client" => new PublishingException("TIKTOK_CLIENT_REFUSED",
                $"TikTok refused the app's credentials (FENTA_TIKTOK_CLIENT_ID / FENTA_TIKTOK_CLIENT_SECRET): {description}", PublishFailure.Permanent),
            _ => new PublishingException("TIKTOK_OAUTH_ERROR", $"TikTok refused the authorization request ({error ?? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)}): {description}", PublishFailure.Permanent),
        };
    }

    /// <summary>An Open API call with the user's token: the envelope's data, or a <see cref="TikTokError"/>.</summary>
    private async Task<JsonElement> CallAsync(HttpMethod method, string path, string accessToken, JsonObject? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, new Uri(options.ApiUrl, path));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var response = await SendAsync(http, request, options.Timeout, ct);
        var error = await ErrorOfAsync(response, ct);
        if (response.IsSuccessStatusCode && error.Code is "ok" or null)
            return error.Data;
        throw new TikTokError((int)response.StatusCode, error.Code ?? "http_" + (int)response.StatusCode, error.Message,
            response.StatusCode == HttpStatusCode.TooManyRequests ? ProviderException.RetryAfterOf(response, TimeSpan.FromMinutes(1)) : null);
    }

    private sealed record Envelope(JsonElement Data, string? Code, string Message);

    private static async Task<Envelope> ErrorOfAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var text = await response.Content.ReadAsStringAsync(ct);
        try
        {
            var root = text.Length > 0 ? JsonDocument.Parse(text).RootElement.Clone() : default;
            var error = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var e) ? e : default;
            var data = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var d) ? d : default;
            return new Envelope(data, Text(error, "code"), Text(error, "message") ?? response.ReasonPhrase ?? "");
        }
        catch (JsonException)
        {
            if (response.IsSuccessStatusCode) throw BadResponse("TikTok answered with something that is not JSON");
            return new Envelope(default, null, response.ReasonPhrase ?? "");
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, TimeSpan timeout, CancellationToken ct)
    {
        try
        {
            return await client.SendToProviderAsync(request, HttpCompletionOption.ResponseContentRead, "TIKTOK", "TikTok", timeout, ct);
        }
        catch (ProviderException e)
        {
            throw new PublishingException(e.Code, e.Message, PublishFailure.Transient);
        }
    }

    /// <summary>TikTok's v2 error codes as the product treats them.</summary>
    private static PublishingException Map(TikTokError e) => e.Code switch
    {
        "access_token_invalid" => new("TIKTOK_ACCESS_TOKEN_INVALID", "TikTok no longer accepts this account's access token: connect the account again.", PublishFailure.ReconnectRequired),
        "scope_not_authorized" or "scope_permission_missed" => new("TIKTOK_SCOPE_MISSING",
            $"The TikTok account did not grant a permission this needs: connect it again and allow every permission asked. ({e.Message})", PublishFailure.ReconnectRequired),
        "unaudited_client_can_only_post_to_private_accounts" => new("TIKTOK_UNAUDITED_APP",
            "This TikTok app has not passed TikTok's audit, so it may only post privately (SELF_ONLY).", PublishFailure.Permanent),
        "privacy_level_option_mismatch" => new("TIKTOK_PRIVACY_NOT_OFFERED", $"TikTok does not offer this privacy level for the account: {e.Message}", PublishFailure.Permanent),
        "spam_risk_user_banned_from_posting" => new("TIKTOK_CANNOT_POST", $"TikTok has banned this account from posting: {e.Message}", PublishFailure.Permanent),
        "rate_limit_exceeded" => new("TIKTOK_RATE_LIMITED", "TikTok is rate limiting this account; try again in a minute.", PublishFailure.Transient),
        _ when e.Status == 401 => new("TIKTOK_ACCESS_TOKEN_INVALID", "TikTok no longer accepts this account's access token: connect the account again.", PublishFailure.ReconnectRequired),
        _ when e.Status >= 500 || e.Status == 408 => new("TIKTOK_UNAVAILABLE", $"TikTok failed ({e.Status} {e.Code}): {e.Message}", PublishFailure.Transient),
        _ => new("TIKTOK_REFUSED", $"TikTok refused the request ({e.Code}): {e.Message}", PublishFailure.Permanent),
    };

    private sealed class TikTokError(int status, string code, string message, TimeSpan? retryAfter) : Exception(message)
    {
        public int Status { get; } = status;
        public string Code { get; } = code;
        public TimeSpan? RetryAfter { get; } = retryAfter;
    }

    private static PublishingException BadResponse(string what) => new("TIKTOK_BAD_RESPONSE", $"TikTok's answer was not as documented: {what}.", PublishFailure.Transient);

    // ---- JSON and checkpoint helpers ----

    private static bool Expired(JsonObject cp) =>
        Text(cp, "initiated_at") is { } at && DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var started)
        && DateTimeOffset.UtcNow - started > UploadUrlLifetime;

    private static void Clear(JsonObject cp)
    {
        foreach (var key in new[] { "publish_id", "upload_url", "initiated_at", "acked_bytes", "uploaded", "upload_lost", "chunk_size", "total_chunks" })
            cp.Remove(key);
    }

    private static string? Text(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    private static bool Flag(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;
    private static long Long(JsonObject o, string name) =>
        o[name] is JsonValue v ? v.TryGetValue<long>(out var l) ? l : v.TryGetValue<int>(out var i) ? i : v.TryGetValue<double>(out var d) ? (long)d
            : v.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out var n) ? n : 0 : 0;

    private static string? Text(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    private static long? Number(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
    private static bool Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}

public static class TikTokRegistration
{
    /// <summary>The HttpClient name of the chunk uploads (a long attempt timeout; a PUT is never sent again blindly).</summary>
    public const string UploadClient = "TikTokUpload";

    /// <summary>
    /// The TikTok adapter, always registered (an unconfigured one names its missing setting): API calls with the
    /// providers' pipeline (POSTs that create something, an init or a token exchange, are never sent again once they
    /// reached TikTok), chunk uploads on a client of their own with a long attempt timeout.
    /// </summary>
    public static IServiceCollection AddTikTokPublishing(this IServiceCollection services, TikTokOptions options)
    {
        services.AddHttpClient(UploadClient).AddProviderResilience(options.UploadTimeout, postsCreateNothing: false);
        var api = services.AddHttpClient(nameof(TikTokClient));
        api.AddProviderResilience(options.Timeout, postsCreateNothing: false);
        api.AddTypedClient((client, sp) => new TikTokClient(client, sp.GetRequiredService<IHttpClientFactory>().CreateClient(UploadClient), options));
        services.AddTransient<IPublishingPlatform>(sp => sp.GetRequiredService<TikTokClient>());
        return services;
    }
}
