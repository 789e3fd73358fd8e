using Npgsql;

namespace FentaWeb.Domain.Identity;

/// <summary>The rows mail leaves behind: hourly send counts per address and the single-use links of <see cref="EmailToken"/>.</summary>
public static class MailRecords
{
    public static readonly TimeSpan SendWindow = TimeSpan.FromHours(1);

    /// <summary>Counts one mail to <paramref name="address"/> in this hour's window (one atomic upsert) and returns the window's count.</summary>
    public static async Task<int> CountSendAsync(NpgsqlDataSource db, string address, DateTimeOffset now, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO mail_send_windows (address, window_start, sent) VALUES ($1, $2, 1)
            ON CONFLICT (address, window_start) DO UPDATE SET sent = mail_send_windows.sent + 1
            RETURNING sent
            """);
        cmd.Parameters.Add(new() { Value = address });
        cmd.Parameters.Add(new() { Value = new DateTimeOffset(now.UtcTicks - now.UtcTicks % SendWindow.Ticks, TimeSpan.Zero) });
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(ct));
    }

    /// <summary>
    /// Drops finished send windows and links that expired more than a day ago (the retention timer calls this); a day's
    /// grace keeps an expired link answering "expired" rather than "unknown" for a while, which is all it can still do.
    /// </summary>
    public static async Task PruneAsync(NpgsqlDataSource db, DateTimeOffset now, CancellationToken ct)
    {
        await using var batch = db.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM mail_send_windows WHERE window_start < $1") { Parameters = { new() { Value = now - SendWindow } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("DELETE FROM email_tokens WHERE expires_at < $1") { Parameters = { new() { Value = now - TimeSpan.FromDays(1) } } });
        await batch.ExecuteNonQueryAsync(ct);
    }
}
