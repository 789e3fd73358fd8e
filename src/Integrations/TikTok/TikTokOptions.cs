using System.Globalization;

namespace FentaWeb.Integrations.TikTok;

/// <summary>
/// TikTok (Login Kit for Web, Content Posting API, Display API) as the settings describe it.
/// </summary>
/// <param name="ClientId">TikTok's client key (FENTA_TIKTOK_CLIENT_ID); null: not configured.</param>
/// <param name="ClientSecret">FENTA_TIKTOK_CLIENT_SECRET; null: not configured.</param>
/// <param name="AuthUrl">Where the consent page is (FENTA_TIKTOK_AUTH_URL, default https://www.tiktok.com/).</param>
/// <param name="ApiUrl">The Open API host: OAuth tokens, user info, posting, video queries (FENTA_TIKTOK_API_URL, default https://open.tiktokapis.com/).</param>
/// <param name="Audited">Whether TikTok audited the app (FENTA_TIKTOK_AUDITED): an unaudited app may only post SELF_ONLY.</param>
/// <param name="ChunkBytes">The upload chunk (FENTA_TIKTOK_CHUNK_MB, 5–64 MB as TikTok allows; default 10 MB).</param>
/// <param name="Timeout">One API call's attempt timeout.</param>
/// <param name="UploadTimeout">One chunk PUT's attempt timeout.</param>
public sealed record TikTokOptions(
    string? ClientId, string? ClientSecret, Uri AuthUrl, Uri ApiUrl, bool Audited, long ChunkBytes, TimeSpan Timeout, TimeSpan UploadTimeout)
{
    public const long MinChunkBytes = 5L * 1024 * 1024;
    public const long MaxChunkBytes = 64L * 1024 * 1024;

    public static TikTokOptions FromSettings(Func<string, string?> setting)
    {
        var chunkMb = double.TryParse(setting("FENTA_TIKTOK_CHUNK_MB"), NumberStyles.Float, CultureInfo.InvariantCulture, out var mb) && mb > 0 ? mb : 10;
        return new TikTokOptions(
            Text(setting("FENTA_TIKTOK_CLIENT_ID")), Text(setting("FENTA_TIKTOK_CLIENT_SECRET")),
            new Uri(Text(setting("FENTA_TIKTOK_AUTH_URL")) ?? "https://www.tiktok.com/"),
            new Uri(Text(setting("FENTA_TIKTOK_API_URL")) ?? "https://open.tiktokapis.com/"),
            setting("FENTA_TIKTOK_AUDITED") is { } audited && (audited.Equals("true", StringComparison.OrdinalIgnoreCase) || audited == "1"),
            Math.Clamp((long)(chunkMb * 1024 * 1024), MinChunkBytes, MaxChunkBytes),
            TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(10));
    }

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
