using System.Globalization;

namespace FentaWeb.Integrations.YouTube;

/// <summary>
/// The YouTube adapter's settings. The client id and secret are optional (the adapter is always registered and
/// <see cref="YouTubeClient.MissingSetting"/> names what is missing); the base URLs default to Google's hosts, so a
/// simulator (or any other implementation of the contract) can stand in.
/// </summary>
/// <param name="AuthUrl">Google's consent host (<c>/o/oauth2/v2/auth</c>).</param>
/// <param name="OAuthUrl">Google's token host (<c>/token</c>, <c>/revoke</c>).</param>
/// <param name="ApiUrl">The YouTube Data API host (<c>/youtube/v3/...</c> and <c>/upload/youtube/v3/videos</c>).</param>
/// <param name="WatchUrl">Where published videos are watched (<c>/shorts/{id}</c>, <c>/watch?v={id}</c>).</param>
/// <param name="ChunkBytes">Bytes per resumable-upload request: a multiple of 256 KiB.</param>
/// <param name="CategoryId">The video category uploads get (22: People &amp; Blogs).</param>
/// <param name="Timeout">One try of an API call (token, channel, statistics, session start, status query).</param>
/// <param name="UploadTimeout">One try of a chunk upload.</param>
public sealed record YouTubeOptions(
    string? ClientId, string? ClientSecret, Uri AuthUrl, Uri OAuthUrl, Uri ApiUrl, Uri WatchUrl, int ChunkBytes, string CategoryId,
    TimeSpan Timeout, TimeSpan UploadTimeout)
{
    public const string ClientIdSetting = "FENTA_YOUTUBE_CLIENT_ID";
    public const string ClientSecretSetting = "FENTA_YOUTUBE_CLIENT_SECRET";

    /// <summary>The resumable protocol's unit: every chunk but the last is a multiple of it.</summary>
    public const int ChunkUnit = 256 * 1024;

    public const int DefaultChunkBytes = 8 * 1024 * 1024;

    /// <summary>
    /// FENTA_YOUTUBE_CLIENT_ID, FENTA_YOUTUBE_CLIENT_SECRET, FENTA_YOUTUBE_AUTH_URL (https://accounts.google.com/),
    /// FENTA_YOUTUBE_OAUTH_URL (https://oauth2.googleapis.com/), FENTA_YOUTUBE_API_URL (https://www.googleapis.com/),
    /// FENTA_YOUTUBE_WATCH_URL (https://www.youtube.com/), FENTA_YOUTUBE_CHUNK_BYTES (8 MiB; rounded down to a multiple
    /// of 256 KiB, at least 256 KiB), FENTA_YOUTUBE_CATEGORY_ID (22).
    /// </summary>
    public static YouTubeOptions FromSettings(Func<string, string?> setting) => new(
        NonEmpty(setting(ClientIdSetting)), NonEmpty(setting(ClientSecretSetting)),
        Url(setting("FENTA_YOUTUBE_AUTH_URL"), "https://accounts.google.com/"),
        Url(setting("FENTA_YOUTUBE_OAUTH_URL"), "https://oauth2.googleapis.com/"),
        Url(setting("FENTA_YOUTUBE_API_URL"), "https://www.googleapis.com/"),
        Url(setting("FENTA_YOUTUBE_WATCH_URL"), "https://www.youtube.com/"),
        Chunk(setting("FENTA_YOUTUBE_CHUNK_BYTES")),
        NonEmpty(setting("FENTA_YOUTUBE_CATEGORY_ID")) ?? "22",
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10));

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    // Relative paths are resolved against these, so each ends with a slash.
    private static Uri Url(string? text, string fallback)
    {
        var url = NonEmpty(text) ?? fallback;
        return new Uri(url.EndsWith('/') ? url : url + "/");
    }

    private static int Chunk(string? text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var bytes) && bytes > 0
            ? (int)Math.Clamp(bytes / ChunkUnit * ChunkUnit, ChunkUnit, 1024L * ChunkUnit)
            : DefaultChunkBytes;
}
