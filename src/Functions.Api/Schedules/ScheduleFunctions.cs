using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Scheduling;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Schedules;

/// <param name="Budget">What each run may spend; on an update, <c>{}</c> removes it.</param>
public sealed record ScheduleRequest(string? WorkflowId, string? Name, string? Cron, string? Timezone, JsonElement? Variables, bool? Enabled, Budget? Budget);

public sealed record ScheduleDto(string Id, string WorkflowId, string? Name, string Source, string Cron, string Timezone, JsonElement Variables, Budget? Budget,
    bool Enabled, DateTimeOffset? NextRunAt, IReadOnlyList<DateTimeOffset> Upcoming, DateTimeOffset? LastRunAt, string? LastJobId, string? LastError, int RunCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static ScheduleDto From(Schedule s) => new(s.Id, s.WorkflowId, s.Name, s.Source, s.Cron, s.Timezone, s.Variables, s.Budget, s.Enabled, s.NextRunAt, s.Upcoming(5),
        s.LastRunAt, s.LastJobId, s.LastError, s.RunCount, s.CreatedAt, s.UpdatedAt);
}

/// <summary>
/// Workflows run on cron expressions in IANA time zones, by the workers' ticker. A slot missed while nothing ran
/// (workers down, schedule disabled) is not made up: the schedule runs at its next slot.
/// </summary>
[Tags("Schedules")]
public sealed class ScheduleFunctions(FentaDb db, AuditTrail audit, TimeProvider clock, JobStarter jobs)
{
    [Function(nameof(CreateSchedule)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Run a workflow on a five-field cron expression (e.g. '0 10 * * 1-5') in a time zone, optionally within a budget per run.")]
    public async Task<Created<ScheduleDto>> CreateSchedule([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/schedules")] HttpRequest request,
        [FromBody] ScheduleRequest body, Caller caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.WorkflowId)) errors.Add("workflow_id", "is required");
        else if (!await db.LiveWorkflows(caller.OrgId).AnyAsync(w => w.Id == body.WorkflowId, ct))
            errors.Add("workflow_id", $"no workflow '{body.WorkflowId}' in this organization");
        if (string.IsNullOrWhiteSpace(body.Cron)) errors.Add("cron", "is required: five fields, minute hour day-of-month month day-of-week");
        Check(body, body.Cron, body.Timezone ?? "UTC", errors);
        errors.ThrowIfAny();

        var schedule = Schedule.Create(caller.OrgId, body.WorkflowId!, body.Name, body.Cron!.Trim(), body.Timezone ?? "UTC",
            body.Variables ?? JsonDocument.Parse("{}").RootElement, body.Enabled ?? true, caller.UserId, clock.GetUtcNow());
        schedule.Budget = Budget.Checked(body.Budget);
        await EnsureAffordableAsync(schedule, ct);
        db.Schedules.Add(schedule);
        audit.Record(caller, "create", "schedule", schedule.Id, new { schedule.WorkflowId, schedule.Cron, schedule.Timezone });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/schedules/{schedule.Id}", ScheduleDto.From(schedule));
    }

    [Function(nameof(ListSchedules)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("The org's schedules, newest first; filter by workflow_id.")]
    public async Task<Ok<Page<ScheduleDto>>> ListSchedules([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/schedules")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, [FromQuery(Name = "workflow_id")] string? workflowId, CancellationToken ct)
    {
        var query = db.Schedules.Where(s => s.OrgId == caller.OrgId);
        if (workflowId is not null) query = query.Where(s => s.WorkflowId == workflowId);
        return TypedResults.Ok(await query.ToPageAsync(page, ScheduleDto.From, ct));
    }

    [Function(nameof(GetSchedule)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One schedule with its next five run times.")]
    public async Task<Ok<ScheduleDto>> GetSchedule([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/schedules/{scheduleId}")] HttpRequest request,
        string scheduleId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(ScheduleDto.From(await FindAsync(db, caller, scheduleId, ct)));

    [Function(nameof(UpdateSchedule)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Change the expression, time zone, variables, name or enabled flag.")]
    public async Task<Ok<ScheduleDto>> UpdateSchedule([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/schedules/{scheduleId}")] HttpRequest request,
        string scheduleId, [FromBody] ScheduleRequest body, Caller caller, CancellationToken ct)
    {
        var schedule = await FindAsync(db, caller, scheduleId, ct);
        var errors = new FieldErrors();
        if (body.WorkflowId is not null && body.WorkflowId != schedule.WorkflowId) errors.Add("workflow_id", "cannot change; create a schedule for the other workflow");
        if (schedule.Source == "node" && (body.Cron ?? schedule.Cron) != schedule.Cron) errors.Add("cron", NodeOwned);
        if (schedule.Source == "node" && (body.Timezone ?? schedule.Timezone) != schedule.Timezone) errors.Add("timezone", NodeOwned);
        Check(body, body.Cron ?? schedule.Cron, body.Timezone ?? schedule.Timezone, errors);
        errors.ThrowIfAny();
        var now = clock.GetUtcNow();
        if (body.Name is not null) schedule.Name = body.Name;
        if (body.Variables is { } variables) schedule.Variables = variables;
        if (body.Budget is not null) schedule.Budget = Budget.Checked(body.Budget);
        await EnsureAffordableAsync(schedule, ct);
        if (body.Enabled is { } enabled) schedule.SetEnabled(enabled, now);
        if (body.Cron is not null || body.Timezone is not null) schedule.Retime(body.Cron?.Trim() ?? schedule.Cron, body.Timezone ?? schedule.Timezone, now);
        schedule.UpdatedAt = now;
        audit.Record(caller, "update", "schedule", schedule.Id, body);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ScheduleDto.From(schedule));
    }

    [Function(nameof(DeleteSchedule)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Delete a schedule; runs it started are kept.")]
    public async Task<NoContent> DeleteSchedule([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/schedules/{scheduleId}")] HttpRequest request,
        string scheduleId, Caller caller, CancellationToken ct)
    {
        var schedule = await FindAsync(db, caller, scheduleId, ct);
        if (schedule.Source == "node") throw new ConflictException("SCHEDULE_FROM_WORKFLOW", $"{NodeOwned}; to stop it, disable it or remove the node.");
        db.Schedules.Remove(schedule);
        audit.Record(caller, "delete", "schedule", schedule.Id, new { schedule.WorkflowId, schedule.Cron });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>A budget its workflow's estimate already passes would refuse every run: refused now, with the estimate.</summary>
    private async Task EnsureAffordableAsync(Schedule schedule, CancellationToken ct)
    {
        if (schedule.Budget is not { } budget) return;
        if (await db.LiveWorkflows(schedule.OrgId).SingleOrDefaultAsync(w => w.Id == schedule.WorkflowId, ct) is not { } workflow) return;
        var config = CompiledGraph.ForWorkflow(workflow.Id, workflow.Version, workflow.Graph, workflow.Variables, schedule.Variables);
        var estimate = await jobs.EstimateAsync(schedule.OrgId, config.Graph, ct);
        if (budget.Refusal(estimate.Total.Tokens, estimate.Total.CostUsd) is { } refusal) throw new BudgetExceededException(refusal, estimate);
    }

    private const string NodeOwned = "comes from the workflow's Schedule.Cron node: edit the workflow";

    private static void Check(ScheduleRequest body, string? cron, string timezone, FieldErrors errors)
    {
        if (cron is { Length: > 0 } && !CronSchedule.TryParse(cron, timezone, out _, out var error))
            errors.Add(error!.StartsWith("unknown time zone", StringComparison.Ordinal) ? "timezone" : "cron", error);
        InputText.CheckVariables(body.Variables, errors);
        if (body.Name is { Length: > 200 }) errors.Add("name", "must be at most 200 characters");
    }

    private static async Task<Schedule> FindAsync(FentaDb db, Caller caller, string scheduleId, CancellationToken ct) =>
        await db.Schedules.SingleOrDefaultAsync(s => s.Id == scheduleId && s.OrgId == caller.OrgId, ct) ?? throw new NotFoundException("schedule", scheduleId);
}
