using Npgsql;

namespace FentaWeb.Domain.Identity;

/// <summary>Fixed one-minute request windows in PostgreSQL, so every API instance counts against the same budget.</summary>
public static class RateLimitWindows
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static DateTimeOffset WindowStart(DateTimeOffset now) => new(now.UtcTicks - now.UtcTicks % Window.Ticks, TimeSpan.Zero);

    /// <summary>Counts one request in every bucket at once (one atomic upsert) and returns each bucket's count in this window.</summary>
    public static async Task<IReadOnlyDictionary<string, int>> HitAsync(NpgsqlDataSource db, string[] buckets, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO rate_limit_windows (bucket, window_start, hits)
            SELECT b, $2, 1 FROM unnest($1::text[]) AS b
            ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limit_windows.hits + 1
            RETURNING bucket, hits
            """);
        cmd.Parameters.Add(new() { Value = buckets });
        cmd.Parameters.Add(new() { Value = WindowStart(now) });
        var counts = new Dictionary<string, int>(buckets.Length, StringComparer.Ordinal);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) counts[reader.GetString(0)] = reader.GetInt32(1);
        return counts;
    }

    /// <summary>Drops windows that ended before <paramref name="before"/> (the retention timer calls this).</summary>
    public static async Task<int> PruneAsync(NpgsqlDataSource db, DateTimeOffset before, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM rate_limit_windows WHERE window_start < $1");
        cmd.Parameters.Add(new() { Value = before - Window });
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}
