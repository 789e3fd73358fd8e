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
