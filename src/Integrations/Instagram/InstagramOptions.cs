using System.Globalization;

namespace FentaWeb.Integrations.Instagram;

/// <summary>
/// The Instagram API with Instagram Login (Business Login for Instagram: no Facebook Page needed): the app's id and
/// secret, the three hosts it uses, and the Graph API version.
/// </summary>
/// <param name="AuthUrl">Where the consent window is (https://www.instagram.com/: <c>oauth/authorize</c>).</param>
/// <param name="ApiUrl">Where codes are exchanged (https://api.instagram.com/: <c>oauth/access_token</c>).</param>
/// <param name="GraphUrl">The Graph host (https://graph.instagram.com/): long-lived tokens, refresh, and the versioned API.</param>
/// <param name="ApiVersion">The Graph API version the versioned calls name (v26.0 as of 2026-07).</param>
/// <param name="PollInterval">How long to wait before asking again about a container Instagram is still processing.</param>
public sealed record InstagramOptions(
    string? ClientId, string? ClientSecret, Uri AuthUrl, Uri ApiUrl, Uri GraphUrl, string ApiVersion, TimeSpan Timeout, TimeSpan PollInterval)
{
    public const string ClientIdSetting = "FENTA_INSTAGRAM_CLIENT_ID";
    public const string ClientSecretSetting = "FENTA_INSTAGRAM_CLIENT_SECRET";
    public const string DefaultApiVersion = "v26.0";

    /// <summary>
    /// FENTA_INSTAGRAM_CLIENT_ID (the Instagram app id), FENTA_INSTAGRAM_CLIENT_SECRET (the Instagram app secret),
    /// FENTA_INSTAGRAM_AUTH_URL, FENTA_INSTAGRAM_API_URL, FENTA_INSTAGRAM_GRAPH_URL (the hosts, defaulting to the real
    /// ones), FENTA_INSTAGRAM_API_VERSION (v26.0) and FENTA_INSTAGRAM_POLL_SECONDS (30). All optional: without an id and
    /// secret the adapter is still registered and names the missing setting.
    /// </summary>
    public static InstagramOptions FromSettings(Func<string, string?> setting) => new(
        Text(setting(ClientIdSetting)), Text(setting(ClientSecretSetting)),
        Url(setting("FENTA_INSTAGRAM_AUTH_URL"), "https://www.instagram.com/"),
        Url(setting("FENTA_INSTAGRAM_API_URL"), "https://api.instagram.com/"),
        Url(setting("FENTA_INSTAGRAM_GRAPH_URL"), "https://graph.instagram.com/"),
        Text(setting("FENTA_INSTAGRAM_API_VERSION")) is { } version ? version.Trim('/') : DefaultApiVersion,
        TimeSpan.FromSeconds(30),
        TimeSpan.FromSeconds(double.TryParse(setting("FENTA_INSTAGRAM_POLL_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30));

    private static string? Text(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    // A base URL always ends in '/', so relative paths are appended rather than replacing its last segment.
    private static Uri Url(string? value, string fallback) => new((Text(value) ?? fallback).TrimEnd('/') + "/");
}
