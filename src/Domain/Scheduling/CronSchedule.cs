using Quartz;

namespace FentaWeb.Domain.Scheduling;

/// <summary>
/// A standard five-field cron expression (<c>minute hour day-of-month month day-of-week</c>, Sunday = 0 or 7)
/// evaluated in an IANA time zone. Quartz's evaluator wants six fields, 1-based weekdays and a <c>?</c> in one
/// of the two day fields, so the expression is translated once here.
/// </summary>
public sealed partial class CronSchedule
{
    private readonly CronExpression _quartz;

    private CronSchedule(string expression, CronExpression quartz)
    {
        Expression = expression;
        _quartz = quartz;
    }

    public string Expression { get; }

    public DateTimeOffset? NextAfter(DateTimeOffset instant) => _quartz.GetNextValidTimeAfter(instant);

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
        var (dom, dow) = (fields[2], fields[4]);
        if (dom != "*" && dow != "*")
        {
            error = "restrict day-of-month or day-of-week, not both";
            return false;
        }
        if (dow == "*") dow = "?"; else dom = "?";
        var quartz = $"0 {fields[0]} {fields[1]} {dom} {fields[3]} {ToQuartzWeekdays(dow)}";
        try
        {
            var cron = new CronExpression(quartz) { TimeZone = zone };
            // A valid expression can still name a day that never comes (February 31st): enabled, it would never run.
            if (cron.GetNextValidTimeAfter(DateTimeOffset.UtcNow) is not { } next || next > DateTimeOffset.UtcNow.AddYears(8))
            {
                error = "never fires: no such date comes (for example February 30th or 31st)";
                return false;
            }
            schedule = new CronSchedule(expression, cron);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            error = $"is not a valid cron expression: {e.Message}";
            return false;
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"/0+(?!\d)")]
    private static partial System.Text.RegularExpressions.Regex ZeroStep();

    // Cron counts weekdays 0-7 from Sunday; Quartz counts 1-7 from Sunday. Names (MON) pass through.
    private static string ToQuartzWeekdays(string field)
    {
        var chars = new System.Text.StringBuilder();
        var afterSlash = false;
        foreach (var c in field)
        {
            if (c is >= '0' and <= '7' && !afterSlash) chars.Append((char)('1' + (c - '0') % 7));
            else chars.Append(c);
            // After '/' (a step) or '#' (the n-th weekday of the month) come counts, not weekdays.
            if (c is '/' or '#') afterSlash = true;
            else if (c is ',' or '-') afterSlash = false;
        }
        return chars.ToString();
    }
}
