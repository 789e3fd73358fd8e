using System.Text.Json.Nodes;

namespace FentaWeb.Integrations.Publishing;

/// <summary>What a platform granted: tokens (secrets: never logged, never answered), when they lapse, and the scopes.</summary>
/// <param name="PlatformUserId">The account's id where the token answer carries it (TikTok's open_id, Instagram's user_id).</param>
public sealed record TokenGrant(
    string AccessToken, string? RefreshToken, DateTimeOffset? ExpiresAt, DateTimeOffset? RefreshExpiresAt,
    IReadOnlyList<string> Scopes, string? PlatformUserId = null);

/// <summary>The connected account as the platform describes it.</summary>
public sealed record PlatformAccount(string Id, string Name, string? AvatarUrl, string? Handle);

/// <summary>
/// What a video must be for the platform to take it: checked before an upload starts, so a misfit is a 400 naming what
/// does not fit rather than a failed upload.
/// </summary>
/// <param name="MinAspect">width / height, inclusive.</param>
public sealed record VideoConstraints(
    TimeSpan MinDuration, TimeSpan MaxDuration, long MaxBytes, double MinAspect, double MaxAspect,
    IReadOnlyList<string> VideoCodecs, IReadOnlyList<string> AudioCodecs, int MaxWidth, int MaxFrameRate);

/// <summary>What the account may post right now (TikTok's creator_info; the others answer from their rules).</summary>
/// <param name="PrivacyOptions">The privacy levels a post may take: the publish form offers only these.</param>
/// <param name="MaxDuration">The longest video this account may post.</param>
/// <param name="Modes">"direct" (posted at once) and/or "draft" (sent to the account's inbox or drafts to finish there).</param>
/// <param name="Notice">Something the person publishing must know (an unaudited TikTok app posts SELF_ONLY only).</param>
public sealed record CreatorOptions(
    IReadOnlyList<string> PrivacyOptions, TimeSpan MaxDuration, IReadOnlyList<string> Modes,
    bool CommentsDisabled = false, bool DuetDisabled = false, bool StitchDisabled = false, string? Notice = null);

/// <summary>The finished video to publish: a local copy to read bytes from, what ffprobe found, and a short-lived read link for platforms that fetch it themselves (Instagram).</summary>
public sealed record VideoFile(
    string Path, long Length, TimeSpan Duration, int Width, int Height, double FrameRate, string VideoCodec, string? AudioCodec,
    Func<CancellationToken, Task<Uri>> ReadLinkAsync);

/// <summary>The post as the person described it.</summary>
/// <param name="Privacy">One of the platform's privacy levels (YouTube: public, unlisted, private; TikTok: what creator_info offers).</param>
/// <param name="PublishAt">YouTube: a scheduled publication (the video is uploaded private and goes public then).</param>
/// <param name="AiGenerated">The AI content disclosure (YouTube containsSyntheticMedia, TikTok is_aigc).</param>
/// <param name="Mode">"direct" or "draft" (TikTok inbox upload); null: direct.</param>
public sealed record PublishRequest(
    string Title, string Description, IReadOnlyList<string> Hashtags, string Privacy, DateTimeOffset? PublishAt,
    bool AiGenerated, bool MadeForKids, string? Mode);

/// <summary>
/// One publication target's progress as the platform adapter keeps it between calls: the upload session (YouTube's
/// session URI, TikTok's publish_id and upload_url, Instagram's container id), the last byte or chunk the platform
/// acknowledged, the phase. Saved (<see cref="SaveAsync"/>) in the target's row after every acknowledged step, so an
/// adapter called again after a crash continues where the platform is, never starting a second post.
/// </summary>
public sealed class UploadCheckpoint(JsonObject data, Func<JsonObject, CancellationToken, Task> save)
{
    public JsonObject Data { get; } = data;

    /// <summary>Persists <see cref="Data"/>; call it as soon as the platform acknowledges something.</summary>
    public Task SaveAsync(CancellationToken ct) => save(Data, ct);
}

/// <summary>Everything an adapter needs for one call of <see cref="IPublishingPlatform.PublishAsync"/>.</summary>
public sealed record PublishContext(string AccessToken, PlatformAccount Account, PublishRequest Request, VideoFile Video, UploadCheckpoint Checkpoint);

/// <summary>Where a publication target stands after one call of <see cref="IPublishingPlatform.PublishAsync"/>.</summary>
public abstract record PublishStep
{
    /// <summary>The platform has the post: its id and public (or owner-visible) URL.</summary>
    public sealed record Published(string VideoId, string Url) : PublishStep;

    /// <summary>The platform is processing; call again after <paramref name="After"/>.</summary>
    public sealed record Processing(TimeSpan After, string Phase) : PublishStep;

    /// <summary>A quota or rate limit: not a failure; call again at <paramref name="At"/>.</summary>
    public sealed record RetryLater(DateTimeOffset At, string Code, string Message) : PublishStep;
}

/// <summary>How a call that threw should be treated.</summary>
public enum PublishFailure
{
    /// <summary>Another try may succeed (a 5xx, a dropped connection).</summary>
    Transient,
    /// <summary>It will not work as asked (the platform refused the video or the post, a limit that is spent).</summary>
    Permanent,
    /// <summary>The grant is revoked or expired: the integration needs the person to connect again.</summary>
    ReconnectRequired,
}

/// <summary>A platform's refusal, with a stable code (SCREAMING_SNAKE, prefixed by the platform: YOUTUBE_QUOTA) and a message a person can act on.</summary>
public sealed class PublishingException(string code, string message, PublishFailure failure) : Exception(message)
{
    public string Code { get; } = code;
    public PublishFailure Failure { get; } = failure;
}

/// <summary>A published video's counters as the platform reports them now (null: the platform does not count it).</summary>
public sealed record VideoStatistics(string VideoId, long? Views, long? Likes, long? Comments, long? Shares);

/// <summary>
/// One publishing platform's adapter: OAuth 2.0 authorization code with PKCE (S256), the account, the publish protocol
/// and the statistics, over the platform's documented contract at base URLs that are settings (so the simulators,
/// or any other implementation, can stand in). Each lives in its own folder (YouTube/, TikTok/, Instagram/) with its
/// options and registration.
/// </summary>
public interface IPublishingPlatform
{
    /// <summary>The platform's name (<see cref="Domain.Publishing.Platforms"/>).</summary>
    string Name { get; }

    /// <summary>null when the client id and secret are set; otherwise the name of the setting that is missing.</summary>
    string? MissingSetting { get; }

    /// <summary>The scopes the authorization asks for.</summary>
    IReadOnlyList<string> Scopes { get; }

    VideoConstraints Constraints { get; }

    /// <summary>How often one video's statistics may be read without straining the platform's quota.</summary>
    TimeSpan StatisticsInterval { get; }

    /// <summary>How long before it lapses an access token is refreshed (when next used): by default shortly before.</summary>
    TimeSpan RefreshAhead => TimeSpan.FromMinutes(10);

    /// <summary>Where the person's browser goes to consent: the platform's authorization endpoint with the client id, scopes, state and the S256 code challenge.</summary>
    Uri AuthorizationUrl(string state, string codeChallenge, Uri redirectUri);

    Task<TokenGrant> ExchangeCodeAsync(string code, string codeVerifier, Uri redirectUri, CancellationToken ct);

    /// <summary>A new grant from the refresh token; the platform may rotate the refresh token (use the one returned). A revoked or expired grant throws <see cref="PublishFailure.ReconnectRequired"/>.</summary>
    Task<TokenGrant> RefreshAsync(string refreshToken, CancellationToken ct);

    Task<PlatformAccount> AccountAsync(TokenGrant grant, CancellationToken ct);

    /// <summary>Revokes the grant at the platform where it offers that; false where it does not.</summary>
    Task<bool> RevokeAsync(TokenGrant grant, CancellationToken ct);

    Task<CreatorOptions> CreatorOptionsAsync(string accessToken, PlatformAccount account, CancellationToken ct);

    /// <summary>
    /// Takes the post as far as it can go now: starts or resumes the upload from <see cref="PublishContext.Checkpoint"/>,
    /// and checks on processing. Idempotent across crashes: whatever the platform acknowledged is in the checkpoint
    /// before the next byte is sent, and a post the platform already has is never started again.
    /// </summary>
    Task<PublishStep> PublishAsync(PublishContext context, CancellationToken ct);

    /// <summary>The counters of videos this account published.</summary>
    Task<IReadOnlyList<VideoStatistics>> StatisticsAsync(string accessToken, PlatformAccount account, IReadOnlyList<string> videoIds, CancellationToken ct);
}
