namespace FentaWeb.Domain.Common;

/// <summary>
/// FENTA_PUBLIC_URL: where people and services outside reach the API (links in mails, KIE's callbacks), with a trailing
/// slash. Read here only, so every host agrees on it; never derived from a request's Host.
/// </summary>
public static class PublicUrl
{
    public const string SettingName = "FENTA_PUBLIC_URL";

    /// <summary>The local API when unset (./run.sh serves it there).</summary>
    public static readonly Uri Local = new("http://127.0.0.1:8080/");

    public static Uri FromSettings(Func<string, string?> setting) => setting(SettingName) is not { Length: > 0 } text ? Local
        : Uri.TryCreate(text.TrimEnd('/') + "/", UriKind.Absolute, out var url) && url.Scheme is "http" or "https" ? url
        : throw new InvalidOperationException($"{SettingName} must be an absolute http(s) URL, not '{text}'.");
}
