using Npgsql;

namespace FentaWeb.Domain.Persistence;

/// <summary>What one database setup did: migrations applied now, and the roles given read and write.</summary>
public sealed record DatabaseSetupResult(int Applied, IReadOnlyList<string> ReadWriteRoles);

/// <summary>
/// Brings a database to this build: the migrations, then the read-write roles of the identities that use the tables but
/// own none. Locally the hosts do it on start; in Azure only the migrate job does it, signed in as an identity of its own
/// (the database's Entra administrator), and the apps start with FENTA_MIGRATE_ON_START=false (docs/deployment.md).
/// </summary>
public static class DatabaseSetup
{
    /// <summary>FENTA_MIGRATE_ON_START: whether a host migrates as it starts (default) or leaves it to the migrate job.</summary>
    public static bool MigratesOnStart(Func<string, string?> setting) => setting("FENTA_MIGRATE_ON_START") switch
    {
        null or "" or "true" => true,
        "false" => false,
        var other => throw new InvalidOperationException($"FENTA_MIGRATE_ON_START must be 'true' or 'false', not '{other}'."),
    };

    /// <summary>
    /// FENTA_DB_READWRITE_PRINCIPALS, <c>name=objectId,…</c>: the managed identities (the apps, the render job) that read and
    /// write the product's tables but own nothing; the migrating identity makes their roles and grants them.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ReadWritePrincipals(Func<string, string?> setting) =>
        (setting("FENTA_DB_READWRITE_PRINCIPALS") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2, StringSplitOptions.TrimEntries))
            .ToDictionary(p => p.Length == 2 && p[0].Length > 0 && Guid.TryParse(p[1], out _) ? p[0]
                : throw new InvalidOperationException($"FENTA_DB_READWRITE_PRINCIPALS takes name=objectId pairs, not '{string.Join('=', p)}'."), p => p[1]);

    public static async Task<DatabaseSetupResult> ApplyAsync(NpgsqlDataSource dataSource, IReadOnlyDictionary<string, string> readWritePrincipals,
        CancellationToken ct = default)
    {
        var applied = await Migrator.ApplyAsync(dataSource, ct);
        foreach (var (name, objectId) in readWritePrincipals) await GrantReadWriteAsync(dataSource, name, objectId, ct);
        return new DatabaseSetupResult(applied, [.. readWritePrincipals.Keys]);
    }

    /// <summary>
    /// A role that reads and writes the product's tables, now and after later migrations, but owns nothing and creates
    /// nothing. In Azure Database for PostgreSQL, pgaadauth_create_principal_with_oid maps the identity's service principal
    /// to the role, which the migrating identity (an Entra administrator) may call; a role that exists already is kept.
    /// </summary>
    private static async Task GrantReadWriteAsync(NpgsqlDataSource dataSource, string name, string objectId, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var exists = new NpgsqlCommand("SELECT count(*) FROM pg_roles WHERE rolname = $1", conn))
        {
            exists.Parameters.Add(new() { Value = name });
            if ((long)(await exists.ExecuteScalarAsync(ct))! == 0)
            {
                await using var create = new NpgsqlCommand("SELECT pgaadauth_create_principal_with_oid($1, $2, 'service', false, false)", conn);
                create.Parameters.Add(new() { Value = name });
                create.Parameters.Add(new() { Value = objectId });
                await create.ExecuteNonQueryAsync(ct);
            }
        }
        var role = "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using var grant = new NpgsqlCommand($"""
            GRANT USAGE ON SCHEMA public TO {role};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};
            ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role};
            """, conn);
        await grant.ExecuteNonQueryAsync(ct);
    }
}
