using FentaWeb.Domain.Scheduling;

namespace FentaWeb.Domain.Tests;

public class CronScheduleTests
{
    [Theory]
    [InlineData("0 10 * * *", "UTC", "2026-11-22T09:30:00Z", "2026-11-22T10:00:00Z")]
    [InlineData("*/15 * * * *", "UTC", "2026-11-22T09:31:00Z", "2026-11-22T09:45:00Z")]
    [InlineData("0 9 * * 1-5", "UTC", "2026-11-21T12:00:00Z", "2026-11-23T09:00:00Z")] // Saturday -> Monday
    [InlineData("0 9 * * 0", "UTC", "2026-11-21T12:00:00Z", "2026-11-22T09:00:00Z")]   // 0 = Sunday
    [InlineData("30 8 1 * *", "Europe/Berlin", "2026-11-22T00:00:00Z", "2026-12-01T07:30:00Z")]
    public void NextOccurrenceFollowsStandardCron(string cron, string zone, string after, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, zone, out var schedule, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected), schedule!.NextAfter(DateTimeOffset.Parse(after)));
    }

    [Theory]
    // Spring forward in Berlin (02:00 CET -> 03:00 CEST): a daily 02:30 that day runs when the clocks jump.
    [InlineData("30 2 * * *", "Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T01:00:00Z")]
    // Fall back (03:00 CEST -> 02:00 CET): a daily 02:30 runs once, at the first 02:30; the next run is the next day.
    [InlineData("30 2 * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T00:30:00Z")]
    [InlineData("30 2 * * *", "Europe/Berlin", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z")]
    // An hourly schedule keeps its pace through the repeated hour: 02:00 CEST, then 02:00 CET an hour later.
    [InlineData("0 * * * *", "Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T01:00:00Z")]
    [InlineData("*/15 * * * *", "America/New_York", "2026-11-01T05:45:00Z", "2026-11-01T06:00:00Z")]
    public void DaylightSavingChangesNeitherSkipNorDoubleARun(string cron, string zone, string after, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, zone, out var schedule, out var error), error);
        var next = schedule!.NextAfter(DateTimeOffset.Parse(after))!.Value;
        Assert.Equal(DateTimeOffset.Parse(expected), next);
        Assert.Equal(TimeSpan.Zero, next.Offset); // stored in timestamptz, which takes UTC only
    }

    [Theory]
    [InlineData("0 10 * *", "UTC", "five fields")]
    [InlineData("0 25 * * *", "UTC", "not a valid cron")]
    [InlineData("0 10 1 * 1", "UTC", "not both")]
    [InlineData("0 10 * * *", "Nowhere/City", "unknown time zone")]
    public void InvalidExpressionsExplainWhy(string cron, string zone, string reason)
    {
        Assert.False(CronSchedule.TryParse(cron, zone, out _, out var error));
        Assert.Contains(reason, error);
    }
}
