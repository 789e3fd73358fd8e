using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Scheduling;

/// <summary>A workflow run on a cron expression. <see cref="NextRunAt"/> is null while disabled.</summary>
public sealed class Schedule : IHasId
{
    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string WorkflowId { get; set; }
    public string? Name { get; set; }
    /// <summary><c>api</c>, or <c>node</c> for the schedule a workflow's Schedule.Cron node implies (its timing is edited in the workflow).</summary>
    public string Source { get; init; } = "api";
    public string Cron { get; private set; } = "";
    public string Timezone { get; private set; } = "UTC";
    public JsonElement Variables { get; set; }
    /// <summary>What each run it starts may spend (seed 000's budget), or null for no limit.</summary>
    public Billing.Budget? Budget { get; set; }
    public bool Enabled { get; private set; } = true;
    public DateTimeOffset? NextRunAt { get; private set; }
    public DateTimeOffset? LastRunAt { get; init; }
    public string? LastJobId { get; init; }
    public string? LastError { get; init; }
    public int RunCount { get; init; }
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The cron expression and time zone as an evaluator (validated when set, so parsing succeeds).</summary>
    public CronSchedule Evaluator() => CronSchedule.TryParse(Cron, Timezone, out var cron, out var error)
        ? cron!
        : throw new InvalidOperationException($"Schedule {Id} has an invalid cron expression: {error}");

    /// <summary>Turns the schedule on or off; on, it next runs at the first slot after <paramref name="now"/> (missed slots are not made up).</summary>
    public void SetEnabled(bool enabled, DateTimeOffset now)
    {
        Enabled = enabled;
        NextRunAt = enabled ? Evaluator().NextAfter(now) : null;
        UpdatedAt = now;
    }

    /// <summary>The next <paramref name="count"/> run times, for a user checking their expression.</summary>
    public IReadOnlyList<DateTimeOffset> Upcoming(int count)
    {
        var cron = Evaluator();
        var times = new List<DateTimeOffset>();
        for (var at = NextRunAt; at is { } t && times.Count < count; at = cron.NextAfter(t)) times.Add(t);
        return times;
    }

    /// <summary>New timing; the next run is the first slot of it after <paramref name="now"/>.</summary>
    public void Retime(string cron, string timezone, DateTimeOffset now)
    {
        (Cron, Timezone) = (cron, timezone);
        SetEnabled(Enabled, now);
    }

    public static Schedule Create(string orgId, string workflowId, string? name, string cron, string timezone, JsonElement variables, bool enabled,
        string? createdBy, DateTimeOffset now, string source = "api")
    {
        var schedule = new Schedule
        {
            Id = Ids.New("sched"), OrgId = orgId, WorkflowId = workflowId, Name = name, Source = source, Cron = cron, Timezone = timezone, Variables = variables,
            CreatedBy = createdBy, CreatedAt = now,
        };
        schedule.SetEnabled(enabled, now);
        return schedule;
    }
}
