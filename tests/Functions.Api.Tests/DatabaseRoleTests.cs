using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>
/// In Azure only the API migrates; the orchestrations app and the render job sign in as roles that read and write the
/// product's tables and own nothing. (The role itself is made by Azure's pgaadauth function, which exists only there: here
/// the role is made beforehand, as that call would have, and the API grants it.)
/// </summary>
public class DatabaseRoleTests(DatabaseRoleTests.Host host) : IClassFixture<DatabaseRoleTests.Host>
{
    public sealed class Host : ApiHost
    {
        public string Role { get; } = "id_orch_" + Guid.NewGuid().ToString("N")[..8];

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_DB_READWRITE_PRINCIPALS"] = $"{Role}=3f9c1b7e-2d4a-4c8e-9b61-0a5e7d2c4f18",
        };

        protected override async Task BeforeStartAsync() => await (await PostgresServer.SharedAsync()).ExecAsync("postgres", $"CREATE ROLE {Role} LOGIN");
    }

    [Fact]
    public async Task TheOtherAppsRolesReadAndWriteEveryTableButCannotCreateOrDropAny()
    {
        foreach (var table in await host.StringsAsync("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'"))
            foreach (var privilege in new[] { "SELECT", "INSERT", "UPDATE", "DELETE" })
                Assert.True((bool)(await host.ScalarAsync("SELECT has_table_privilege($1, $2, $3)", host.Role, "public." + table, privilege))!, $"{privilege} on {table}");
        Assert.False((bool)(await host.ScalarAsync("SELECT has_table_privilege($1, 'public.jobs', 'TRUNCATE')", host.Role))!);
        Assert.False((bool)(await host.ScalarAsync("SELECT has_schema_privilege($1, 'public', 'CREATE')", host.Role))!);
        // A table a later migration adds is covered too (default privileges of the migrating role).
        await using (var create = host.Db.CreateCommand("CREATE TABLE later_migration (id int)")) await create.ExecuteNonQueryAsync();
        Assert.True((bool)(await host.ScalarAsync("SELECT has_table_privilege($1, 'public.later_migration', 'INSERT')", host.Role))!);
    }
}
