using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace FentaWeb.Runs;

/// <summary>
/// The runtime storage account: the render queues and their request blobs (and, locally, the task hub). Named the way
/// the Functions host names a connection, so the queue trigger and this code read the same settings: <c>FENTA_STORAGE</c>
/// as a connection string (Azurite), or identity-based <c>FENTA_STORAGE__queueServiceUri</c> and
/// <c>FENTA_STORAGE__blobServiceUri</c>, with <c>FENTA_STORAGE__clientId</c> naming a user-assigned identity (no key).
/// </summary>
public sealed record RuntimeStorage(string? ConnectionString, Uri? QueueServiceUri, Uri? BlobServiceUri, string? ClientId)
{
    public const string SettingName = "FENTA_STORAGE";

    /// <summary>Reads the settings through configuration, where <c>FENTA_STORAGE__x</c> in the environment is <c>FENTA_STORAGE:x</c>.</summary>
    public static RuntimeStorage FromSettings(Func<string, string?> setting)
    {
        static Uri? UriOf(string? text) => string.IsNullOrWhiteSpace(text) ? null : new Uri(text);
        var storage = new RuntimeStorage(setting(SettingName) is { Length: > 0 } connection ? connection : null,
            UriOf(setting($"{SettingName}:queueServiceUri")), UriOf(setting($"{SettingName}:blobServiceUri")), setting($"{SettingName}:clientId"));
        return storage.ConnectionString is not null || (storage.QueueServiceUri is not null && storage.BlobServiceUri is not null) ? storage
            : throw new InvalidOperationException($"{SettingName} is not set: give an Azure Storage connection string (./run.sh starts Azurite and sets one), " +
                $"or {SettingName}__queueServiceUri and {SettingName}__blobServiceUri for the managed identity.");
    }

    public QueueServiceClient Queues(QueueClientOptions options) =>
        ConnectionString is not null ? new QueueServiceClient(ConnectionString, options) : new QueueServiceClient(QueueServiceUri, Credential(), options);

    public BlobServiceClient Blobs() => ConnectionString is not null ? new BlobServiceClient(ConnectionString) : new BlobServiceClient(BlobServiceUri, Credential());

    private TokenCredential Credential() => new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = ClientId });
}
