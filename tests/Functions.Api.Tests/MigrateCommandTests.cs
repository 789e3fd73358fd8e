using System.Diagnostics;
using FentaWeb.Domain.Persistence;
using FentaWeb.Testing;
using Npgsql;

namespace FentaWeb.Api.Tests;

/// <summary>
/// In Azure the apps do not migrate: the migrate job runs the API's build with <c>migrate</c>, signed in as the identity
/// that owns the schema, and the apps start with FENTA_MIGRATE_ON_START=false. Here the command runs as that job would (a
/// process of its own, settings from its environment) against an empty database an API is already serving.
/// </summary>
public class MigrateCommandTests(MigrateCommandTests.Host host) : IClassFixture<MigrateCommandTests.Host>
{
    public sealed class Host : ApiHost
    {
        public string Role { get; } = "id_api_" + Guid.NewGuid().ToString("N")[..8];
        public string EmptyDatabase { get; private set; } = null!;

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_DB"] = EmptyDatabase,
            ["FENTA_MIGRATE_ON_START"] = "false",
        };

        protected override async Task BeforeStartAsync()
        {
            var server = await PostgresServer.SharedAsync();
            EmptyDatabase = await server.CreateEmptyDatabaseAsync("migrate_command");
            await server.ExecAsync("postgres", $"CREATE ROLE {Role} LOGIN");
        }
    }

    private static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "FentaWeb.Functions.Api.dll");

    private static async Task<(int ExitCode, string Output)> MigrateAsync(IReadOnlyDictionary<string, string> settings)
    {
        var start = new ProcessStartInfo("dotnet", [ApiDll, "migrate"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in settings) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(2));
        return (process.ExitCode, await output + await errors);
    }

    private async Task<object?> ScalarAsync(string sql, params object[] args)
    {
        await using var db = NpgsqlDataSource.Create(host.EmptyDatabase);
        await using var cmd = db.CreateCommand(sql);
        foreach (var arg in args) cmd.Parameters.Add(new NpgsqlParameter { Value = arg });
        return await cmd.ExecuteScalarAsync();
    }

    [Fact]
    public async Task TheApiWaitsNotReadyUntilTheMigrateCommandBringsTheSchemaAndGrantsItsRole()
    {
        // Started without migrating: serving, but not ready, and nothing was created.
        var before = await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(503);
        Assert.Equal("migrations are not all applied", before.GetProperty("reason").GetString());
        Assert.Equal(false, await ScalarAsync("SELECT to_regclass('public.jobs') IS NOT NULL"));

        // A malformed setting is refused, naming it, before anything is applied.
        var refused = await MigrateAsync(new Dictionary<string, string> { ["FENTA_DB"] = host.EmptyDatabase, ["FENTA_DB_READWRITE_PRINCIPALS"] = $"{host.Role}=not-an-object-id" });
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("FENTA_DB_READWRITE_PRINCIPALS", refused.Output);
        Assert.Equal(false, await ScalarAsync("SELECT to_regclass('public.schema_migrations') IS NOT NULL"));

        // So is a Key Vault reference the platform left unresolved: its text is no connection string.
        var unresolved = await MigrateAsync(new Dictionary<string, string> { ["FENTA_DB"] = "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db)" });
        Assert.Equal(1, unresolved.ExitCode);
        Assert.Contains("FENTA_DB", unresolved.Output);

        var settings = new Dictionary<string, string> { ["FENTA_DB"] = host.EmptyDatabase, ["FENTA_DB_READWRITE_PRINCIPALS"] = $"{host.Role}=3f9c1b7e-2d4a-4c8e-9b61-0a5e7d2c4f18" };
        var migrated = await MigrateAsync(settings);
        Assert.True(migrated.ExitCode == 0, migrated.Output);
        Assert.Contains($"{Migrator.All.Count} new of {Migrator.All.Count} migrations applied", migrated.Output);
        Assert.Equal((long)Migrator.All.Count, await ScalarAsync("SELECT count(*) FROM schema_migrations"));
        // The tables belong to the migrating identity; the app's role reads and writes them and owns none.
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1", host.Role));
        Assert.Equal(true, await ScalarAsync("SELECT has_table_privilege($1, 'public.jobs', 'INSERT')", host.Role));
        Assert.Equal(false, await ScalarAsync("SELECT has_schema_privilege($1, 'public', 'CREATE')", host.Role));

        var ready = await (await host.Client().GetAsync("/readyz")).ReadJsonAsync(200);
        Assert.Equal("ready", ready.GetProperty("status").GetString());

        // A second run (every deployment starts the job) has nothing to apply and succeeds.
        var again = await MigrateAsync(settings);
        Assert.True(again.ExitCode == 0, again.Output);
        Assert.Contains($"0 new of {Migrator.All.Count} migrations applied", again.Output);
    }
}
