using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Xml.Linq;
using Azure.Storage.Blobs;
using FentaWeb.Integrations.Publishing;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Runs.Publishing;

/// <summary>
/// The platforms' tokens at rest: ASP.NET Core Data Protection (authenticated encryption, keys rotated every 90 days),
/// its key ring kept in Blob Storage, never in the database whose rows it protects: the container FENTA_KEY_RING_URL
/// (reached with the managed identity AZURE_CLIENT_ID names), or locally <c>fenta-key-ring</c> in the runtime storage
/// account (FENTA_STORAGE); and the ring itself encrypted with the certificate FENTA_KEY_RING_CERTIFICATE
/// (base64 PKCS#12; in Azure a Key Vault certificate, given to both apps as a Key Vault reference). Locally, without a
/// certificate, the ring is kept unencrypted in Azurite. The API (connect, disconnect) and the orchestrations (refresh,
/// upload) share the ring and the application name, so either reads what the other wrote.
/// </summary>
public static class TokenProtection
{
    public const string ApplicationName = "FentaWeb";
    public const string ContainerSetting = "FENTA_KEY_RING_URL";
    public const string CertificateSetting = "FENTA_KEY_RING_CERTIFICATE";

    public static IServiceCollection AddTokenProtection(this IServiceCollection services, Func<string, string?> setting)
    {
        // Reached on first use, so a host that never protects anything (the build writing the OpenAPI document) needs no storage.
        var container = new Lazy<BlobContainerClient>(() => setting(ContainerSetting) is { Length: > 0 } url
            ? new BlobContainerClient(new Uri(url), new Azure.Identity.DefaultAzureCredential(
                new Azure.Identity.DefaultAzureCredentialOptions { ManagedIdentityClientId = setting("AZURE_CLIENT_ID") }))
            : RuntimeStorage.FromSettings(setting).Blobs().GetBlobContainerClient("fenta-key-ring"));
        var protection = services.AddDataProtection().SetApplicationName(ApplicationName)
            .AddKeyManagementOptions(o => o.XmlRepository = new BlobKeyRing(container));
        if (setting(CertificateSetting) is { Length: > 0 } pfx)
        {
            X509Certificate2 certificate;
            try
            {
                certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(pfx), null);
            }
            catch (Exception e) when (e is FormatException or System.Security.Cryptography.CryptographicException)
            {
                throw new InvalidOperationException($"{CertificateSetting} must be a base64 PKCS#12 certificate with its private key: {e.Message}");
            }
            // Both: new keys are encrypted to it, and keys it encrypted are read with it (not looked up in a machine store).
            protection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }
        services.AddSingleton<TokenVault>();
        return services;
    }
}

/// <summary>The key ring as one blob per key (keys are only ever added), so processes writing at once never overwrite each other.</summary>
internal sealed class BlobKeyRing(Lazy<BlobContainerClient> lazyContainer) : IXmlRepository
{
    private const string Prefix = "keys/";
    private bool _created;

    private BlobContainerClient container => lazyContainer.Value;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        EnsureContainer();
        return [.. container.GetBlobs(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, Prefix, CancellationToken.None).Select(blob => XElement.Parse(container.GetBlobClient(blob.Name).DownloadContent().Value.Content.ToString()))];
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        EnsureContainer();
        container.GetBlobClient($"{Prefix}{friendlyName}.xml").Upload(BinaryData.FromString(element.ToString(SaveOptions.DisableFormatting)), overwrite: false);
    }

    private void EnsureContainer()
    {
        if (_created) return;
        container.CreateIfNotExists();
        _created = true;
    }
}

/// <summary>A connected account's tokens as they are kept (one protected payload).</summary>
public sealed record StoredTokens(string AccessToken, string? RefreshToken);

/// <summary>Protects and reads the tokens and PKCE verifiers; each under its own purpose, so one cannot be passed off as the other.</summary>
public sealed class TokenVault(IDataProtectionProvider provider)
{
    private readonly IDataProtector _tokens = provider.CreateProtector("FentaWeb.Integrations.Tokens.v1");
    private readonly IDataProtector _verifiers = provider.CreateProtector("FentaWeb.Integrations.PkceVerifier.v1");

    public string Protect(TokenGrant grant) => _tokens.Protect(JsonSerializer.Serialize(new StoredTokens(grant.AccessToken, grant.RefreshToken)));

    public StoredTokens Unprotect(string payload) => JsonSerializer.Deserialize<StoredTokens>(_tokens.Unprotect(payload))!;

    public string ProtectVerifier(string verifier) => _verifiers.Protect(verifier);

    public string UnprotectVerifier(string payload) => _verifiers.Unprotect(payload);
}
