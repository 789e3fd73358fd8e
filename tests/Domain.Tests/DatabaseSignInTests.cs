using Azure.Core;
using FentaWeb.Domain.Persistence;
using FentaWeb.Runs;
using FentaWeb.Testing;
using Microsoft.Extensions.Configuration;

namespace FentaWeb.Domain.Tests;

public class DatabaseSignInTests
{
    /// <summary>Hands out numbered tokens and records the scopes asked for.</summary>
    private sealed class CountingCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext request, CancellationToken ct) => GetTokenAsync(request, ct).AsTask().Result;

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext request, CancellationToken ct)
        {
            lock (Scopes) Scopes.AddRange(request.Scopes);
            return ValueTask.FromResult(new AccessToken($"token-{Scopes.Count}", DateTimeOffset.UtcNow.AddHours(1)));
        }
    }

    [Fact]
    public async Task WithEntraAuthenticationTheDataSourceSignsInWithATokenForAzureDatabaseForPostgreSql()
    {
        var server = await PostgresServer.SharedAsync();
        var credential = new CountingCredential();
        // The test cluster trusts loopback, so what is checked is that the token is asked for, for the right resource, and the
        // connection opens with it; Azure's server checks the token itself.
        await using var dataSource = FentaDb.CreateDataSource(await server.CreateDatabaseAsync("entra"), credential);
        await using (var cmd = dataSource.CreateCommand("SELECT 1")) Assert.Equal(1, await cmd.ExecuteScalarAsync());
        Assert.Equal([FentaDb.EntraScope], credential.Scopes.Distinct());
        Assert.Equal("https://ossrdbms-aad.database.windows.net/.default", FentaDb.EntraScope);
    }

    [Fact]
    public void AnUnknownSignInMethodIsAStartupErrorNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FentaDb.CreateDataSource("Host=127.0.0.1", "kerberos"));
        Assert.Contains("FENTA_DB_AUTH", error.Message);
    }

    [Fact]
    public void TheRuntimeStorageIsReachedByIdentityFromTheSettingsTheFunctionsHostReads()
    {
        // Environment variables as App Service sets them: FENTA_STORAGE__x is configuration key FENTA_STORAGE:x.
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["FENTA_STORAGE:queueServiceUri"] = "https://stfentaacme.queue.core.windows.net",
            ["FENTA_STORAGE:blobServiceUri"] = "https://stfentaacme.blob.core.windows.net",
            ["FENTA_STORAGE:clientId"] = "7a3b0c2e-9d41-4f6a-8e25-1c0f3d9b7e64",
        }).Build();
        var storage = RuntimeStorage.FromSettings(key => config[key]);

        Assert.Null(storage.ConnectionString);
        Assert.Equal("7a3b0c2e-9d41-4f6a-8e25-1c0f3d9b7e64", storage.ClientId);
        Assert.Equal("stfentaacme", storage.Queues(new()).AccountName);
        Assert.Equal(new Uri("https://stfentaacme.blob.core.windows.net/"), storage.Blobs().Uri);
        Assert.Throws<InvalidOperationException>(() => RuntimeStorage.FromSettings(_ => null));
    }
}
