using System.Text.Json;
using Azure.Core;

namespace FentaWeb.Integrations.Blob;

/// <summary>
/// Entra ID-shaped access tokens for the local storage emulator, Azurite, and for nothing else.
/// Why it exists: upload and download links are user delegation SAS, and a storage account (Azurite too) hands out the
/// user delegation key that signs them only to a caller authenticated with an Entra ID bearer token, never to an account
/// key. A developer machine has no Entra ID tenant to get one from. Azurite started with <c>--oauth basic</c> (over HTTPS,
/// as ./run.sh and the tests start it) checks a token's audience, issuer and lifetime but not its signature, so the
/// app mints one here and runs the same code path as in Azure. Azure Storage refuses these tokens (they are not signed);
/// in Azure the app uses DefaultAzureCredential, i.e. its managed identity (FENTA_AZURE_BLOB_CREDENTIAL=default).
/// </summary>
public sealed class AzuriteCredential : TokenCredential
{
    /// <summary>A fixed development tenant and principal: the delegation keys Azurite derives from them stay valid across restarts.</summary>
    private const string Tenant = "f3a7d6c2-0b1e-4c39-9a55-6e7f10d0fe7a";
    private const string Principal = "5b0e4a8d-7c21-4f63-8d94-2a1c3e5f7b90";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var issued = now.AddMinutes(-1).ToUnixTimeSeconds(); // a little early, in case the emulator's clock reads slightly behind
        var claims = new
        {
            aud = "https://storage.azure.com",
            iss = $"https://sts.windows.net/{Tenant}/",
            iat = issued,
            nbf = issued,
            exp = now.Add(Lifetime).ToUnixTimeSeconds(),
            oid = Principal,
            tid = Tenant,
        };
        // An unsecured JWT (alg "none", empty signature): Azurite decodes it without verifying, and nothing else accepts it.
        var token = $"{Base64Url(new { alg = "none", typ = "JWT" })}.{Base64Url(claims)}.";
        return new AccessToken(token, now.Add(Lifetime));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(GetToken(requestContext, cancellationToken));

    private static string Base64Url(object value) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(value)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
