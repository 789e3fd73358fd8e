using Microsoft.Extensions.DependencyInjection;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;

namespace FentaWeb.Integrations.Blob;

/// <summary>A time-limited URL straight to a blob (a user delegation SAS): no other credential is needed to use it.</summary>
public sealed record SignedLink(Uri Url, DateTimeOffset ExpiresAt);

/// <summary>
/// Asset bytes in their Blob container, through the Azure SDK with an Entra ID credential (see
/// <see cref="AssetStorageOptions"/>). Keys are blob names such as <c>org_…/asset_….mp4</c>; direct uploads land under
/// <see cref="StagingPrefix"/> first. Links are user delegation SAS for one blob each: read-only for downloads,
/// create-only for uploads. Local copies for ffmpeg come from <see cref="Cache"/>.
/// </summary>
public sealed class AssetBlobs
{
    /// <summary>Where direct uploads land before they are checked; nothing reads an asset from here.</summary>
    public const string StagingPrefix = "staging/";

    /// <summary>A storage account issues delegation keys valid for at most seven days; a little less leaves room for clock skew.</summary>
    private static readonly TimeSpan MaxKeyLifetime = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(10);
    /// <summary>A cached delegation key is renewed for a longer link only once it is this old, so a run of 7-day links does not fetch one each.</summary>
    private static readonly TimeSpan KeyRenewalAge = TimeSpan.FromHours(1);

    private readonly BlobServiceClient _service;
    private readonly SemaphoreSlim _keyGate = new(1, 1);
    private readonly SemaphoreSlim _containerGate = new(1, 1);
    private UserDelegationKey? _key;
    private DateTimeOffset _keyFetchedAt;
    private bool _containerReady;

    public AssetBlobs(AssetStorageOptions options)
    {
        Options = options;
        var address = new BlobUriBuilder(options.ContainerUrl);
        if (string.IsNullOrEmpty(address.BlobContainerName) || !string.IsNullOrEmpty(address.BlobName))
            throw new InvalidOperationException($"FENTA_AZURE_BLOB_URL must name a container (…/assets), not '{options.ContainerUrl}'.");
        var containerName = address.BlobContainerName;
        address.BlobContainerName = "";
        _service = new BlobServiceClient(address.ToUri(), options.Credential);
        Container = _service.GetBlobContainerClient(containerName);
        Cache = new BlobFileCache(options.CacheFolder, options.CacheLimitBytes);
    }

    public AssetStorageOptions Options { get; }

    public BlobContainerClient Container { get; }

    public BlobFileCache Cache { get; }

    public BlobClient Blob(string key) => Container.GetBlobClient(key);

    /// <summary>Stores a local file under <paramref name="key"/>, replacing what was there.</summary>
    public async Task UploadFileAsync(string key, string path, string? contentType, CancellationToken ct)
    {
        await EnsureContainerAsync(ct);
        await Blob(key).UploadAsync(path, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, ct);
    }

    /// <summary>The blob's properties, or null when there is no such blob.</summary>
    public async Task<BlobProperties?> PropertiesAsync(string key, CancellationToken ct)
    {
        try
        {
            return (await Blob(key).GetPropertiesAsync(cancellationToken: ct)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Writes the blob to <paramref name="path"/>; with <paramref name="ifMatch"/>, only that version of it (else a 412).</summary>
    public async Task DownloadToAsync(string key, string path, ETag? ifMatch, CancellationToken ct) =>
        await Blob(key).DownloadToAsync(path, new BlobDownloadToOptions { Conditions = new BlobRequestConditions { IfMatch = ifMatch } }, ct);

    /// <summary>A local copy of the blob from the cache (downloaded when this machine has none), kept while the handle is undisposed.</summary>
    public Task<CachedFile> LocalCopyAsync(string key, CancellationToken ct) =>
        Cache.GetAsync(key, (path, token) => DownloadToAsync(key, path, null, token), ct);

    /// <summary>
    /// Copies one blob of the container to another on the service's side, from exactly the version
    /// <paramref name="sourceETag"/> names (a changed source fails with 412), and gives the copy its content type.
    /// </summary>
    /// <remarks>
    /// Copy Blob may answer before the copy is done (status pending: large blobs, a busy account), so this polls until it
    /// ends and then checks on the destination that the copy which ended is this one and succeeded. It does not read the
    /// operation's value, which the SDK throws on ("has not completed yet") when the copy ended any other way.
    /// </remarks>
    public async Task CopyAsync(string sourceKey, string destinationKey, ETag sourceETag, string? contentType, CancellationToken ct)
    {
        var destination = Blob(destinationKey);
        var copy = await destination.StartCopyFromUriAsync(Blob(sourceKey).Uri,
            new BlobCopyFromUriOptions { SourceConditions = new BlobRequestConditions { IfMatch = sourceETag } }, ct);
        if (!copy.HasCompleted) await copy.WaitForCompletionResponseAsync(CopyPollInterval, ct);
        var copied = (await destination.GetPropertiesAsync(cancellationToken: ct)).Value;
        if (copied.CopyId != copy.Id || copied.CopyStatus != CopyStatus.Success)
            throw new InvalidOperationException(
                $"The copy of {sourceKey} to {destinationKey} did not succeed: copy {copied.CopyId} is {copied.CopyStatus} ({copied.CopyStatusDescription}), ours was {copy.Id}.");
        await destination.SetHttpHeadersAsync(new BlobHttpHeaders { ContentType = contentType }, cancellationToken: ct);
    }

    private static readonly TimeSpan CopyPollInterval = TimeSpan.FromMilliseconds(500);

    public async Task DeleteAsync(string key, CancellationToken ct) =>
        await Blob(key).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: ct);

    /// <summary>
    /// Media types a browser only ever shows as media, never runs: what ffmpeg accepts from uploads and what jobs produce.
    /// Anything else (SVG, HTML, XML, text, a type with parameters) is served as <see cref="OpaqueContentType"/>.
    /// </summary>
    public static readonly IReadOnlySet<string> PassiveMediaTypes = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "image/bmp", "image/tiff",
        "video/mp4", "video/webm", "video/quicktime", "video/x-matroska", "video/x-msvideo", "video/mpeg", "video/ogg",
        "audio/mpeg", "audio/mp4", "audio/aac", "audio/wav", "audio/x-wav", "audio/wave", "audio/ogg", "audio/webm", "audio/flac", "audio/x-flac", "audio/opus",
    };

    public const string OpaqueContentType = "application/octet-stream";

    /// <summary>
    /// A read-only link to one blob, served as a download named <paramref name="downloadName"/> with this content type when
    /// it is passive media. Blob serves HTTP Range requests on it.
    /// </summary>
    /// <remarks>
    /// Links are opened on the storage account's origin, so an uploaded SVG or HTML page served under its own type would
    /// run its script there. Blob Storage cannot add <c>X-Content-Type-Options: nosniff</c> to a SAS response (only
    /// the rsct/rscd/rsce/rscl/rscc headers can be overridden), so the type itself is made safe instead: anything not in
    /// <see cref="PassiveMediaTypes"/> is served as application/octet-stream and as an attachment, which browsers
    /// neither sniff into a document nor render.
    /// </remarks>
    public Task<SignedLink> ReadLinkAsync(string key, TimeSpan lifetime, string? contentType, string? downloadName, CancellationToken ct) =>
        SignAsync(key, BlobSasPermissions.Read, lifetime, sas =>
        {
            var passive = contentType is not null && PassiveMediaTypes.Contains(contentType);
            sas.ContentType = passive ? contentType : OpaqueContentType;
            if (downloadName is null && passive) return;
            var disposition = new System.Net.Http.Headers.ContentDispositionHeaderValue("attachment");
            if (downloadName is not null)
            {
                // filename for old clients (ASCII, quoted as needed), filename* (RFC 6266, UTF-8) for everyone else.
                disposition.FileName = new string(downloadName.Select(c => char.IsAscii(c) && !char.IsControl(c) ? c : '_').ToArray());
                disposition.FileNameStar = downloadName;
            }
            sas.ContentDisposition = disposition.ToString();
        }, ct);

    /// <summary>
    /// A create-only link to one blob that does not exist yet: it can write that blob once (a single Put Blob) and
    /// cannot read, replace or delete it, nor touch any other blob. It writes nothing while any blob is at that name
    /// (Azure's Create permission is for a new blob only; Azurite refuses too), which is how <see cref="SealAsync"/>
    /// ends it early.
    /// </summary>
    public async Task<SignedLink> CreateLinkAsync(string key, TimeSpan lifetime, CancellationToken ct)
    {
        await EnsureContainerAsync(ct);
        return await SignAsync(key, BlobSasPermissions.Create, lifetime, null, ct);
    }

    /// <summary>Metadata of a seal: when the last link that could write to its name expires (ISO 8601).</summary>
    private const string SealedUntilMetadata = "fenta_link_expires_at";

    /// <summary>
    /// Puts an empty blob at <paramref name="key"/>, replacing whatever is there. A create-only link to that name can then
    /// write nothing more (Create permits a new blob only), so this ends an upload link's use before it expires.
    /// <paramref name="linkExpiresBy"/>, when the link expires at the latest, travels with the seal so that the sweep
    /// keeps it that long even where its own setting of the link lifetime is shorter.
    /// </summary>
    public async Task SealAsync(string key, DateTimeOffset linkExpiresBy, CancellationToken ct)
    {
        await EnsureContainerAsync(ct);
        var metadata = new Dictionary<string, string> { [SealedUntilMetadata] = linkExpiresBy.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture) };
        await Blob(key).UploadAsync(BinaryData.Empty, new BlobUploadOptions { Metadata = metadata }, ct);
    }

    /// <summary>
    /// The names of staged uploads (files, or the empty blobs that seal a name) last written before <paramref name="cutoff"/>,
    /// leaving out seals whose link may not have expired by then.
    /// </summary>
    public async Task<List<string>> StagedBeforeAsync(DateTimeOffset cutoff, CancellationToken ct)
    {
        await EnsureContainerAsync(ct);
        var names = new List<string>();
        await foreach (var item in Container.GetBlobsAsync(BlobTraits.Metadata, BlobStates.None, StagingPrefix, ct))
        {
            if (item.Properties.LastModified is not { } modified || modified >= cutoff) continue;
            if (item.Metadata.TryGetValue(SealedUntilMetadata, out var text) &&
                DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var until) &&
                until >= cutoff) continue;
            names.Add(item.Name);
        }
        return names;
    }

    private async Task<SignedLink> SignAsync(string key, BlobSasPermissions permissions, TimeSpan lifetime, Action<BlobSasBuilder>? configure, CancellationToken ct)
    {
        // The storage service checks expiry by its own clock, so links are timed by the real clock, never an injected one.
        var now = DateTimeOffset.UtcNow;
        var delegation = await DelegationKeyAsync(now + lifetime, ct);
        var expires = WholeSeconds(now + lifetime) is var wanted && wanted < delegation.SignedExpiresOn ? wanted : delegation.SignedExpiresOn;
        // No start time: valid at once by the service's clock, whatever the skew with ours.
        var sas = new BlobSasBuilder(permissions, expires)
        {
            BlobContainerName = Container.Name,
            BlobName = key,
            Resource = "b",
            Protocol = SasProtocol.Https,
        };
        configure?.Invoke(sas);
        var url = new BlobUriBuilder(Blob(key).Uri) { Sas = sas.ToSasQueryParameters(delegation, _service.AccountName) }.ToUri();
        return new SignedLink(url, expires);
    }

    /// <summary>The user delegation key that signs links, fetched with the Entra ID credential and reused while it covers them.</summary>
    private async Task<UserDelegationKey> DelegationKeyAsync(DateTimeOffset neededUntil, CancellationToken ct)
    {
        await _keyGate.WaitAsync(ct);
        try
        {
            var now = DateTimeOffset.UtcNow;
            if (_key is { } cached && cached.SignedExpiresOn > now.AddMinutes(5) && (cached.SignedExpiresOn >= neededUntil || now - _keyFetchedAt < KeyRenewalAge))
                return cached;
            // Whole seconds: the key's times travel as text and are signed again into every SAS; fractions would not round-trip.
            _key = (await _service.GetUserDelegationKeyAsync(WholeSeconds(now.AddMinutes(-5)), WholeSeconds(now.AddMinutes(-5) + MaxKeyLifetime), ct)).Value;
            _keyFetchedAt = now;
            return _key;
        }
        finally
        {
            _keyGate.Release();
        }
    }

    private async Task EnsureContainerAsync(CancellationToken ct)
    {
        if (_containerReady) return;
        await _containerGate.WaitAsync(ct);
        try
        {
            if (!_containerReady) await Container.CreateIfNotExistsAsync(cancellationToken: ct);
            _containerReady = true;
        }
        finally
        {
            _containerGate.Release();
        }
    }

    private static DateTimeOffset WholeSeconds(DateTimeOffset time) => DateTimeOffset.FromUnixTimeSeconds(time.ToUnixTimeSeconds());
}

public static class AssetBlobRegistration
{
    /// <summary>The asset container, one client per process (it caches its user delegation key and the container check).</summary>
    public static IServiceCollection AddAssetBlobs(this IServiceCollection services, AssetStorageOptions options) =>
        services.AddSingleton(new AssetBlobs(options));
}
