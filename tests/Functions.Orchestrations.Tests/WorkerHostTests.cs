using FentaWeb.Domain.Persistence;
using FentaWeb.Orchestrations;
using FentaWeb.Testing;
using Microsoft.Extensions.Hosting;

namespace FentaWeb.Orchestrations.Tests;

public class WorkerHostTests
{
    [Fact]
    public async Task WorkersStartingTogetherMigrateAnEmptyDatabaseOnce()
    {
        var server = await PostgresServer.SharedAsync();
        var connectionString = await server.CreateEmptyDatabaseAsync("worker");
        var settings = new Dictionary<string, string?>(await TaskHubs.SettingsAsync(nameof(WorkerHostTests)))
        {
            ["FENTA_DB"] = connectionString,
            ["Logging:LogLevel:Default"] = "Warning",
        };
        using var first = WorkerHost.Build([], settings);
        using var second = WorkerHost.Build([], settings);

        await Task.WhenAll(first.StartAsync(), second.StartAsync());

        await using var dataSource = FentaDb.CreateDataSource(connectionString);
        Assert.True(await Migrator.IsUpToDateAsync(dataSource));
        await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal((long)Migrator.All.Count, await cmd.ExecuteScalarAsync());
        await Task.WhenAll(first.StopAsync(), second.StopAsync());
    }

    [Fact]
    public void MissingDatabaseSettingIsAClearStartupError()
    {
        var error = Assert.Throws<InvalidOperationException>(() => WorkerHost.Build([], new Dictionary<string, string?> { ["FENTA_DB"] = "" }));
        Assert.Contains("FENTA_DB", error.Message);
    }

    [Fact]
    public void AnUnresolvedKeyVaultReferenceIsAStartupErrorNamingTheSetting()
    {
        // What App Service hands the app when it cannot resolve the reference: its own text, which would go to KIE as the key.
        var error = Assert.Throws<InvalidOperationException>(() => WorkerHost.Build([], new Dictionary<string, string?>
        {
            ["FENTA_DB"] = "Host=127.0.0.1;Port=1;Database=never_opened",
            ["FENTA_KIE_API_KEY"] = "@Microsoft.KeyVault(VaultName=kv-test;SecretName=kie-api-key)",
        }));
        Assert.StartsWith("FENTA_KIE_API_KEY still holds a reference to Key Vault", error.Message);
        Assert.DoesNotContain("kv-test", error.Message);
    }
}
