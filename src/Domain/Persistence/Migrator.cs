using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace FentaWeb.Domain.Persistence;

/// <summary>One embedded SQL migration: <c>NNNN_name.sql</c>.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql.ReplaceLineEndings("\n"))));
}

public sealed class MigrationException(string message) : Exception(message);

/// <summary>
/// Applies the embedded, checksummed SQL migrations in order under a PostgreSQL advisory lock, so any
/// number of instances may start at once. Editing a migration that is already applied is refused.
/// </summary>
public static class Migrator
{
    // An arbitrary constant shared by every FentaWeb process: "FENTAMIG".
    private const long AdvisoryLockKey = 0x46454E54414D4947;

    public static IReadOnlyList<Migration> All { get; } = Load();

    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Exec(conn, $"SELECT pg_advisory_lock({AdvisoryLockKey})", ct);
        try
        {
            await Exec(conn, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                  version integer PRIMARY KEY,
                  name text NOT NULL,
                  checksum text NOT NULL,
                  applied_at timestamptz NOT NULL DEFAULT now())
                """, ct);
            var applied = await ReadAppliedAsync(conn, ct);
            var count = 0;
            foreach (var migration in All)
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                        throw new MigrationException(
                            $"Migration {migration.Version:D4}_{migration.Name} was changed after it was applied " +
                            $"(database checksum {checksum}, code checksum {migration.Checksum}). Add a new migration instead.");
                    continue;
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                await Exec(conn, migration.Sql, ct, tx);
                await using (var insert = new NpgsqlCommand(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", conn, tx))
                {
                    insert.Parameters.Add(new() { Value = migration.Version });
                    insert.Parameters.Add(new() { Value = migration.Name });
                    insert.Parameters.Add(new() { Value = migration.Checksum });
                    await insert.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                count++;
            }
            return count;
        }
        finally
        {
            await Exec(conn, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    /// <summary>True when every migration this build knows is applied with the same checksum.</summary>
    public static async Task<bool> IsUpToDateAsync(NpgsqlDataSource dataSource, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT to_regclass('schema_migrations') IS NOT NULL", conn);
        if (!(bool)(await exists.ExecuteScalarAsync(ct))!) return false;
        var applied = await ReadAppliedAsync(conn, ct);
        return All.All(m => applied.TryGetValue(m.Version, out var c) && c == m.Checksum);
    }

    private static async Task<Dictionary<int, string>> ReadAppliedAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var applied = new Dictionary<int, string>();
        await using var cmd = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", conn);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) applied[reader.GetInt32(0)] = reader.GetString(1);
        return applied;
    }

    private static async Task Exec(NpgsqlConnection conn, string sql, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("migrations/", StringComparison.Ordinal)))
        {
            var file = resource["migrations/".Length..^".sql".Length];
            var underscore = file.IndexOf('_');
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(file[..underscore]), file[(underscore + 1)..], reader.ReadToEnd()));
        }
        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        if (migrations.Select(m => m.Version).Distinct().Count() != migrations.Count)
            throw new MigrationException("Two embedded migrations share a version number.");
        return migrations;
    }
}
