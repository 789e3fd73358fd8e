using FentaWeb.Domain.Persistence;
using FentaWeb.Testing;
using Npgsql;

namespace FentaWeb.Domain.Tests;

public class MigratorTests
{
    [Fact]
    public async Task MigrationsAppliedConcurrentlyRunOnceEach()
    {
        var server = await PostgresServer.SharedAsync();
        await using var dataSource = FentaDb.CreateDataSource(await server.CreateEmptyDatabaseAsync("concurrent"));

        var applied = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Migrator.ApplyAsync(dataSource))));

        Assert.Equal(Migrator.All.Count, applied.Sum());
        Assert.True(await Migrator.IsUpToDateAsync(dataSource));
        await using var cmd = dataSource.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal((long)Migrator.All.Count, await cmd.ExecuteScalarAsync());
        Assert.Equal(0, await Migrator.ApplyAsync(dataSource));
    }

    [Fact]
    public async Task ChangedAppliedMigrationIsAStartupError()
    {
        var server = await PostgresServer.SharedAsync();
        await using var dataSource = FentaDb.CreateDataSource(await server.CreateDatabaseAsync("tampered"));
        await using (var tamper = dataSource.CreateCommand("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"))
            await tamper.ExecuteNonQueryAsync();

        var error = await Assert.ThrowsAsync<MigrationException>(() => Migrator.ApplyAsync(dataSource));
        Assert.Contains("0001_foundation was changed", error.Message);
        Assert.False(await Migrator.IsUpToDateAsync(dataSource));
    }

    [Fact]
    public async Task EmptyDatabaseIsNotUpToDate()
    {
        var server = await PostgresServer.SharedAsync();
        await using var dataSource = NpgsqlDataSource.Create(await server.CreateEmptyDatabaseAsync("empty"));
        Assert.False(await Migrator.IsUpToDateAsync(dataSource));
    }
}
