using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Publishing;

public sealed record Counters(long Views, long Likes, long Comments, long Shares);

public sealed record AnalyticsDay(DateOnly Date, long Views, long Likes, long Comments, long Shares, int Published);

/// <param name="Totals">The latest counters of every video published up to <c>to</c>.</param>
/// <param name="Gained">What they gained within the range (counters read within it, less those read before it).</param>
public sealed record AnalyticsOverview(DateTimeOffset From, DateTimeOffset To, int Videos, int PublishedInRange, Counters Totals, Counters Gained,
    IReadOnlyList<AnalyticsDay> Days);

public sealed record AnalyticsVideo(string TargetId, string PublicationId, string? JobId, string Platform, string? AccountName, string? Title, string? Url,
    DateTimeOffset? PublishedAt, Counters Counters, Counters Gained, DateTimeOffset? CountedAt);

public sealed record AnalyticsPlatform(string Platform, int Videos, Counters Totals, Counters Gained);

/// <summary>
/// What published videos did, from the counters the statistics timer reads from each platform: an overview with a
/// series per day, per video, per platform, each over a date range (<c>from</c>, <c>to</c>: ISO 8601; the last 30 days by default).
/// </summary>
[Tags("Analytics")]
public sealed class AnalyticsFunctions(NpgsqlDataSource db, TimeProvider clock)
{
    /// <summary>Each published target's latest counters up to $3, and those before $2 (the range's start): the base of every answer.</summary>
    private const string CountersSql = """
        WITH targets AS (
          SELECT t.id, t.publication_id, t.job_id, t.platform, t.published_at, t.url, t.request->>'title' AS title, i.account_name
          FROM publication_targets t JOIN integrations i ON i.id = t.integration_id
          WHERE t.org_id = $1 AND t.status = 'published' AND t.published_at <= $3),
        latest AS (
          SELECT DISTINCT ON (s.target_id) s.target_id, s.captured_at, s.views, s.likes, s.comments, s.shares
          FROM publication_stats s JOIN targets t ON t.id = s.target_id WHERE s.captured_at <= $3 ORDER BY s.target_id, s.captured_at DESC),
        before AS (
          SELECT DISTINCT ON (s.target_id) s.target_id, s.views, s.likes, s.comments, s.shares
          FROM publication_stats s JOIN targets t ON t.id = s.target_id WHERE s.captured_at < $2 ORDER BY s.target_id, s.captured_at DESC),
        counted AS (
          SELECT t.*, l.captured_at,
                 coalesce(l.views, 0) AS views, coalesce(l.likes, 0) AS likes, coalesce(l.comments, 0) AS comments, coalesce(l.shares, 0) AS shares,
                 coalesce(l.views, 0) - coalesce(b.views, 0) AS g_views, coalesce(l.likes, 0) - coalesce(b.likes, 0) AS g_likes,
                 coalesce(l.comments, 0) - coalesce(b.comments, 0) AS g_comments, coalesce(l.shares, 0) - coalesce(b.shares, 0) AS g_shares
          FROM targets t LEFT JOIN latest l ON l.target_id = t.id LEFT JOIN before b ON b.target_id = t.id)
        """;

    [Function(nameof(AnalyticsOverviewOf)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Published videos' views, likes, comments and shares: totals, what they gained in the range, and a series per day.")]
    public async Task<Ok<AnalyticsOverview>> AnalyticsOverviewOf([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/analytics/overview")] HttpRequest request,
        Caller caller, string? from, string? to, CancellationToken ct)
    {
        var (start, end) = Range(from, to);
        await using var cmd = db.CreateCommand(CountersSql + """
            SELECT count(*)::int, count(*) FILTER (WHERE published_at >= $2)::int,
                   coalesce(sum(views), 0)::bigint, coalesce(sum(likes), 0)::bigint, coalesce(sum(comments), 0)::bigint, coalesce(sum(shares), 0)::bigint,
                   coalesce(sum(g_views), 0)::bigint, coalesce(sum(g_likes), 0)::bigint, coalesce(sum(g_comments), 0)::bigint, coalesce(sum(g_shares), 0)::bigint
            FROM counted
            """);
        Bind(cmd, caller.OrgId, start, end);
        int videos, published;
        Counters totals, gained;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (videos, published) = (reader.GetInt32(0), reader.GetInt32(1));
            totals = new Counters(reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5));
            gained = new Counters(reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9));
        }
        return TypedResults.Ok(new AnalyticsOverview(start, end, videos, published, totals, gained, await DaysAsync(caller.OrgId, start, end, ct)));
    }

    [Function(nameof(AnalyticsVideos)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Each published video (up to 100, most viewed first) with its latest counters and what it gained in the range; filter by platform.")]
    public async Task<Ok<List<AnalyticsVideo>>> AnalyticsVideos([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/analytics/videos")] HttpRequest request,
        Caller caller, string? from, string? to, string? platform, CancellationToken ct)
    {
        var (start, end) = Range(from, to);
        await using var cmd = db.CreateCommand(CountersSql + """
            SELECT id, publication_id, job_id, platform, account_name, title, url, published_at, views, likes, comments, shares,
                   g_views, g_likes, g_comments, g_shares, captured_at
            FROM counted WHERE $4::text IS NULL OR platform = $4 ORDER BY views DESC, published_at DESC LIMIT 100
            """);
        Bind(cmd, caller.OrgId, start, end);
        cmd.Parameters.Add(new() { Value = platform ?? (object)DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var videos = new List<AnalyticsVideo>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            videos.Add(new AnalyticsVideo(reader.GetString(0), reader.GetString(1), Text(reader, 2), reader.GetString(3), Text(reader, 4), Text(reader, 5), Text(reader, 6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7),
                new Counters(reader.GetInt64(8), reader.GetInt64(9), reader.GetInt64(10), reader.GetInt64(11)),
                new Counters(reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14), reader.GetInt64(15)),
                reader.IsDBNull(16) ? null : reader.GetFieldValue<DateTimeOffset>(16)));
        return TypedResults.Ok(videos);
    }

    [Function(nameof(AnalyticsPlatforms)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Per platform: videos published, their latest counters and what they gained in the range.")]
    public async Task<Ok<List<AnalyticsPlatform>>> AnalyticsPlatforms([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/analytics/platforms")] HttpRequest request,
        Caller caller, string? from, string? to, CancellationToken ct)
    {
        var (start, end) = Range(from, to);
        await using var cmd = db.CreateCommand(CountersSql + """
            SELECT platform, count(*)::int, sum(views)::bigint, sum(likes)::bigint, sum(comments)::bigint, sum(shares)::bigint,
                   sum(g_views)::bigint, sum(g_likes)::bigint, sum(g_comments)::bigint, sum(g_shares)::bigint
            FROM counted GROUP BY platform ORDER BY platform
            """);
        Bind(cmd, caller.OrgId, start, end);
        var platforms = new List<AnalyticsPlatform>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            platforms.Add(new AnalyticsPlatform(reader.GetString(0), reader.GetInt32(1),
                new Counters(reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)),
                new Counters(reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetInt64(9))));
        return TypedResults.Ok(platforms);
    }

    /// <summary>Per day of the range: what the videos gained that day (each video's last reading of the day less its last before), and how many were published.</summary>
    private async Task<List<AnalyticsDay>> DaysAsync(string orgId, DateTimeOffset start, DateTimeOffset end, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            WITH daily AS (
              SELECT DISTINCT ON (s.target_id, (s.captured_at AT TIME ZONE 'UTC')::date) s.target_id, (s.captured_at AT TIME ZONE 'UTC')::date AS day,
                     s.views, s.likes, s.comments, s.shares
              FROM publication_stats s WHERE s.org_id = $1 AND s.captured_at <= $3
              ORDER BY s.target_id, (s.captured_at AT TIME ZONE 'UTC')::date, s.captured_at DESC),
            growth AS (
              SELECT day, coalesce(views, 0) - coalesce(lag(views) OVER w, 0) AS views, coalesce(likes, 0) - coalesce(lag(likes) OVER w, 0) AS likes,
                     coalesce(comments, 0) - coalesce(lag(comments) OVER w, 0) AS comments, coalesce(shares, 0) - coalesce(lag(shares) OVER w, 0) AS shares
              FROM daily WINDOW w AS (PARTITION BY target_id ORDER BY day)),
            days AS (SELECT generate_series(($2 AT TIME ZONE 'UTC')::date, ($3 AT TIME ZONE 'UTC')::date, interval '1 day')::date AS day)
            SELECT d.day, coalesce(sum(g.views), 0)::bigint, coalesce(sum(g.likes), 0)::bigint, coalesce(sum(g.comments), 0)::bigint, coalesce(sum(g.shares), 0)::bigint,
                   (SELECT count(*) FROM publication_targets t WHERE t.org_id = $1 AND t.status = 'published' AND (t.published_at AT TIME ZONE 'UTC')::date = d.day)::int
            FROM days d LEFT JOIN growth g ON g.day = d.day GROUP BY d.day ORDER BY d.day
            """);
        Bind(cmd, orgId, start, end);
        var days = new List<AnalyticsDay>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            days.Add(new AnalyticsDay(DateOnly.FromDateTime(reader.GetDateTime(0)), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt32(5)));
        return days;
    }

    /// <summary>The range asked for: at most a year, the last 30 days by default.</summary>
    private (DateTimeOffset Start, DateTimeOffset End) Range(string? from, string? to)
    {
        var errors = new FieldErrors();
        var end = InputText.Instant(to, "to", errors) ?? clock.GetUtcNow();
        var start = InputText.Instant(from, "from", errors) ?? end.AddDays(-30);
        if (!errors.Any && start >= end) errors.Add("from", "must be before to");
        if (!errors.Any && end - start > TimeSpan.FromDays(366)) errors.Add("from", "the range may span at most a year");
        errors.ThrowIfAny();
        return (start, end);
    }


    private static void Bind(NpgsqlCommand cmd, string orgId, DateTimeOffset start, DateTimeOffset end)
    {
        cmd.Parameters.Add(new() { Value = orgId });
        cmd.Parameters.Add(new() { Value = start, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = end, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    }

    private static string? Text(NpgsqlDataReader reader, int column) => reader.IsDBNull(column) ? null : reader.GetString(column);
}
