using Cronos;

namespace FentaWeb.Domain.Scheduling;

/// <summary>
/// A standard five-field cron expression (<c>minute hour day-of-month month day-of-week</c>, Sunday = 0 or 7)
/// evaluated in an IANA time zone, by Cronos. Across a daylight-saving change a daily time the clocks skip runs at the
/// moment they jump, one they repeat runs once, and a repeating expression (<c>*/15</c>, every hour) keeps its pace
/// through the repeated hour.
/// </summary>
public sealed partial class CronSchedule
{
    private readonly CronExpression _cron;
    private readonly TimeZoneInfo _zone;

    private CronSchedule(string expression, CronExpression cron, TimeZoneInfo zone)
    {
        Expression = expression;
        _cron = cron;
        _zone = zone;
    }

    public string Expression { get; }

    /// <summary>The next run strictly after <paramref name="instant"/>, in UTC (as <c>timestamptz</c> columns take it).</summary>
    public DateTimeOffset? NextAfter(DateTimeOffset instant) => _cron.GetNextOccurrence(instant, _zone)?.ToUniversalTime();

    public static bool TryParse(string expression, string timeZone, out CronSchedule? schedule, out string? error)
    {
        schedule = null;
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var zone))
        {
            error = $"unknown time zone '{timeZone}' (use an IANA name such as Europe/Berlin)";
            return false;
        }
        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = "must have five fields: minute hour day-of-month month day-of-week";
            return false;
        }
        if (fields.FirstOrDefault(f => ZeroStep().IsMatch(f)) is { } zero)
        {
            error = $"'{zero}' steps by 0, which never advances: use a step of 1 or more";
            return false;
        }
        // Cron runs on either day when both are restricted, Cronos only on days that are both: refused rather than
        // read either way.
        if (fields[2] != "*" && fields[4] != "*")
        {
            error = "restrict day-of-month or day-of-week, not both";
            return false;
        }
        try
        {
            var cron = CronExpression.Parse(string.Join(' ', fields), CronFormat.Standard);
            // A valid expression can still name a day that never comes (February 31st): enabled, it would never run.
            if (cron.GetNextOccurrence(DateTimeOffset.UtcNow, zone) is not { } next || next > DateTimeOffset.UtcNow.AddYears(8))
            {
                error = "never fires: no such date comes (for example February 30th or 31st)";
                return false;
            }
            schedule = new CronSchedule(expression, cron, zone);
            error = null;
            return true;
        }
        // H (Jenkins' hashed times) parses only with a seed, which a schedule does not have: not cron either.
        catch (Exception e) when (e is FormatException or MissingSeedException)
        {
            error = $"is not a valid cron expression: {e.Message}";
            return false;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/0+(?!\d)")]
    private static partial System.Text.RegularExpressions.Regex ZeroStep();
}
