using System.Globalization;
using Azure.Core;
using Azure.Identity;

namespace FentaWeb.Integrations.Blob;

/// <summary>
/// Where asset bytes live and how long signed links last. The container is an Azure Blob Storage container (Azurite
/// locally), reached with an Entra ID credential — never an account key — because user delegation keys, which sign the
/// upload and download links, are only issued to Entra ID callers.
/// </summary>
/// <param name="ContainerUrl">FENTA_AZURE_BLOB_URL: <c>https://acct.blob.core.windows.net/assets</c>, or Azurite's path-style URL.</param>
/// <param name="Credential">FENTA_AZURE_BLOB_CREDENTIAL: <c>default</c> (DefaultAzureCredential: the managed identity in Azure) or <c>azurite</c>.</param>
/// <param name="CacheFolder">FENTA_BLOB_CACHE_DIR: local copies of blobs for ffmpeg and ffprobe.</param>
/// <param name="CacheLimitBytes">FENTA_BLOB_CACHE_MB: past this, the least recently used copies are deleted.</param>
/// <param name="UploadLinkLifetime">FENTA_UPLOAD_LINK_SECONDS: how long a direct upload's link may be used.</param>
/// <param name="DownloadLinkLifetime">FENTA_DOWNLOAD_LINK_SECONDS: the lifetime of an asset's download link unless the caller asks for another.</param>
public sealed record AssetStorageOptions(
    Uri ContainerUrl,
    TokenCredential Credential,
    string CacheFolder,
    long CacheLimitBytes,
    TimeSpan UploadLinkLifetime,
    TimeSpan DownloadLinkLifetime)
{
    public const string DefaultCredential = "default";
    public const string AzuriteCredentialName = "azurite";

    public static AssetStorageOptions FromSettings(Func<string, string?> setting)
    {
        if (setting("FENTA_AZURE_BLOB_URL") is not { Length: > 0 } url || !Uri.TryCreate(url.TrimEnd('/'), UriKind.Absolute, out var container))
            throw new InvalidOperationException(
                "FENTA_AZURE_BLOB_URL must be the asset container's URL, e.g. https://acct.blob.core.windows.net/assets (./run.sh sets Azurite's).");
        TokenCredential credential = setting("FENTA_AZURE_BLOB_CREDENTIAL") switch
        {
            null or "" or DefaultCredential => new DefaultAzureCredential(),
            AzuriteCredentialName => new AzuriteCredential(),
            var other => throw new InvalidOperationException($"FENTA_AZURE_BLOB_CREDENTIAL must be '{DefaultCredential}' or '{AzuriteCredentialName}', not '{other}'."),
        };
        var cache = setting("FENTA_BLOB_CACHE_DIR") is { Length: > 0 } folder ? folder : Path.Combine(Path.GetTempPath(), "fenta-blob-cache");
        return new AssetStorageOptions(container, credential, Path.GetFullPath(cache),
            (long)Positive(setting, "FENTA_BLOB_CACHE_MB", 1024) * 1024 * 1024,
            TimeSpan.FromSeconds(Positive(setting, "FENTA_UPLOAD_LINK_SECONDS", 15 * 60)),
            TimeSpan.FromSeconds(Positive(setting, "FENTA_DOWNLOAD_LINK_SECONDS", 3600)));
    }

    private static int Positive(Func<string, string?> setting, string key, int fallback) =>
        setting(key) is { Length: > 0 } text
            ? int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value > 0 ? value : throw new InvalidOperationException($"{key} must be a positive whole number, not '{text}'.")
            : fallback;
}
