using System.Net;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Identity;

namespace FentaWeb.Domain.Assets;

/// <summary>
/// FENTA_AZURE_BLOB_*: the container's URL (https://acct.blob.core.windows.net/fenta, or Azurite's path-style URL) and
/// either the account and its key (Shared Key, as Azurite and connection strings use) or, without a key, an Entra ID
/// credential — in Azure the app's managed identity (DefaultAzureCredential reads AZURE_CLIENT_ID for a user-assigned one).
/// </summary>
public sealed record AzureBlobOptions(Uri ContainerUrl, string? AccountName, byte[]? AccountKey, TokenCredential? Credential, string CacheFolder, TimeSpan Timeout)
{
    /// <summary>From FENTA_AZURE_BLOB_URL, _ACCOUNT, _KEY and FENTA_BLOB_CACHE_DIR, looked up with <paramref name="setting"/>; null when no URL is set.</summary>
    public static AzureBlobOptions? FromSettings(Func<string, string?> setting)
    {
        var (key, account, cacheFolder) = (setting("FENTA_AZURE_BLOB_KEY"), setting("FENTA_AZURE_BLOB_ACCOUNT"), setting("FENTA_BLOB_CACHE_DIR"));
        if (setting("FENTA_AZURE_BLOB_URL") is not { Length: > 0 } url) return null;
        var cache = Path.GetFullPath(cacheFolder is { Length: > 0 } ? cacheFolder : Path.Combine(Path.GetTempPath(), "fenta-blob-cache"));
        return key is { Length: > 0 }
            ? new AzureBlobOptions(new Uri(url.TrimEnd('/') + "/"), account is { Length: > 0 } ? account : throw new InvalidOperationException(
                "FENTA_AZURE_BLOB_KEY needs FENTA_AZURE_BLOB_ACCOUNT (the storage account's name)."), Convert.FromBase64String(key), null, cache, TimeSpan.FromMinutes(5))
            : new AzureBlobOptions(new Uri(url.TrimEnd('/') + "/"), account, null, new DefaultAzureCredential(), cache, TimeSpan.FromMinutes(5));
    }
}

/// <summary>
/// Asset bytes in an Azure Blob Storage container, over the documented REST API (Put Blob, Get Blob, Get Blob
/// Properties, Delete Blob, Create Container) with Shared Key or Entra ID (bearer) authorization — the Azure SDK's Blob
/// package does not restore here. ffmpeg needs files, so blobs are kept in a local cache: written through on put, fetched on first use.
/// </summary>
public sealed class AzureBlobStore(HttpClient http, AzureBlobOptions options) : IBlobStore
{
    public const string HttpClientName = "azure-blob";

    private const string ApiVersion = "2023-11-03";
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    private bool _containerReady;

    public string Provider => "azure";

    public async Task<long> PutAsync(string key, Stream content, CancellationToken ct)
    {
        // Put Blob needs the length up front: the bytes land in the cache first, then go up from there.
        var cached = CachePath(key);
        await LocalBlobStore.WriteFileAsync(cached, content, ct);
        await EnsureContainerAsync(ct);
        var upload = File.OpenRead(cached);
        var length = upload.Length;
        var request = new HttpRequestMessage(HttpMethod.Put, BlobUri(key)) { Content = new StreamContent(upload) }; // disposed (with the file) by SendAsync
        request.Content.Headers.ContentLength = length;
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        request.Headers.Add("x-ms-blob-type", "BlockBlob");
        using var response = await SendAsync(request, ct);
        await EnsureAsync(response, "put", key, ct);
        return length;
    }

    public async Task<Stream?> OpenReadAsync(string key, CancellationToken ct)
    {
        var path = await LocalPathAsync(key, ct);
        return File.Exists(path) ? File.OpenRead(path) : null;
    }

    public async Task<long?> SizeAsync(string key, CancellationToken ct)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Head, BlobUri(key)), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        await EnsureAsync(response, "read the size of", key, ct);
        return response.Content.Headers.ContentLength;
    }

    /// <summary>The cached copy, downloaded first if this process has not seen the blob; a missing blob gives a path that does not exist.</summary>
    public async Task<string> LocalPathAsync(string key, CancellationToken ct)
    {
        var cached = CachePath(key);
        if (File.Exists(cached)) return cached;
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, BlobUri(key)), ct, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.NotFound) return cached;
        await EnsureAsync(response, "download", key, ct);
        await using (var body = await response.Content.ReadAsStreamAsync(ct)) await LocalBlobStore.WriteFileAsync(cached, body, ct);
        return cached;
    }

    public async Task DeleteAsync(string key, CancellationToken ct)
    {
        File.Delete(CachePath(key));
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Delete, BlobUri(key)), ct);
        if (response.StatusCode != HttpStatusCode.NotFound) await EnsureAsync(response, "delete", key, ct);
    }

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_containerReady) return;
        await _containerGate.WaitAsync(ct);
        try
        {
            if (_containerReady) return;
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Put, new Uri(options.ContainerUrl.ToString().TrimEnd('/') + "?restype=container")), ct);
            if (response.StatusCode != HttpStatusCode.Conflict) await EnsureAsync(response, "create the container for", "", ct); // 409: it exists
            _containerReady = true;
        }
        finally
        {
            _containerGate.Release();
        }
    }

    private Uri BlobUri(string key) => new(options.ContainerUrl, string.Join('/', key.Split('/').Select(Uri.EscapeDataString)));

    private string CachePath(string key)
    {
        var path = Path.GetFullPath(Path.Combine(options.CacheFolder, key));
        if (!path.StartsWith(options.CacheFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new ArgumentException($"Blob key '{key}' points outside the store.", nameof(key));
        return path;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using (request)
        {
            request.Headers.Add("x-ms-date", DateTimeOffset.UtcNow.ToString("R"));
            request.Headers.Add("x-ms-version", ApiVersion);
            if (options.Credential is { } credential)
            {
                // The credential caches its token and renews it before it expires.
                var token = await credential.GetTokenAsync(new TokenRequestContext(["https://storage.azure.com/.default"]), ct);
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Token);
            }
            else request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {options.AccountName}:{Signature(request)}");
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(options.Timeout);
            try
            {
                return await http.SendAsync(request, completion, deadline.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new IOException($"Azure Blob Storage did not answer within {options.Timeout.TotalSeconds:0} s ({request.Method} {request.RequestUri?.AbsolutePath}).");
            }
        }
    }

    /// <summary>Shared Key: HMAC-SHA256 with the account key over the verb, the standard headers, the x-ms-* headers and the resource.</summary>
    private string Signature(HttpRequestMessage request)
    {
        var content = request.Content?.Headers;
        var length = content?.ContentLength is > 0 and var n ? n.ToString() : "";
        var headers = request.Headers.Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => $"{h.Key.ToLowerInvariant()}:{string.Join(",", h.Value).Trim()}").Order(StringComparer.Ordinal);
        var uri = request.RequestUri!;
        var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
        var resource = new StringBuilder($"/{options.AccountName}{uri.AbsolutePath}");
        foreach (var name in query.AllKeys.OfType<string>().Order(StringComparer.Ordinal)) resource.Append($"\n{name.ToLowerInvariant()}:{query[name]}");
        var toSign = string.Join("\n", request.Method.Method, content?.ContentEncoding.FirstOrDefault() ?? "", content?.ContentLanguage.FirstOrDefault() ?? "", length,
            "", content?.ContentType?.ToString() ?? "", "", "", "", "", "", "") + "\n" + string.Concat(headers.Select(h => h + "\n")) + resource;
        return Convert.ToBase64String(HMACSHA256.HashData(options.AccountKey!, Encoding.UTF8.GetBytes(toSign)));
    }

    private static async Task EnsureAsync(HttpResponseMessage response, string action, string key, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(ct);
        var code = response.Headers.TryGetValues("x-ms-error-code", out var codes) ? codes.First() : response.StatusCode.ToString();
        throw new IOException($"Azure Blob Storage refused to {action} '{key}': {(int)response.StatusCode} {code} {(body.Length > 300 ? body[..300] : body)}");
    }
}
