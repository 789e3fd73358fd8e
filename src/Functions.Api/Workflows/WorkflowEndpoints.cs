using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Schedules;
using FentaWeb.Api.Templates;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Workflows;

public sealed record CreateWorkflowRequest(string? Name, string? Description, string? Status, WorkflowGraph? Graph, JsonElement? Variables);
public sealed record UpdateWorkflowRequest(string? Name, string? Description, string? Status, WorkflowGraph? Graph, JsonElement? Variables);
public sealed record WorkflowDto(string Id, string Name, string? Description, string Status, int Version, WorkflowGraph Graph,
    JsonElement Variables, int RunCount, DateTimeOffset? LastRunAt, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
public sealed record WorkflowVersionDto(string Id, int Version, string Name, WorkflowGraph Graph, JsonElement Variables, string? CreatedBy, DateTimeOffset CreatedAt);

public static class WorkflowEndpoints
{
    public static void MapWorkflows(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/workflows").WithTags("Workflows").RequireAuthorization();
        var read = group.MapGroup("").RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer);
        read.MapGet("/", List).WithSummary("The org's workflows, newest first; filter by status.");
        read.MapGet("/{workflowId}", Get).WithSummary("One workflow; its ETag is its version.");
        read.MapGet("/{workflowId}/versions", ListVersions).WithSummary("Every saved version, newest first.");
        read.MapGet("/{workflowId}/versions/{version:int}", GetVersion).WithSummary("One saved version.");

        var write = group.MapGroup("").RequireAccess(Scopes.WorkflowsWrite, OrgRole.Editor);
        write.MapPost("/", Create).WithSummary("Create a workflow; the graph is validated against the node catalog.");
        write.MapPatch("/{workflowId}", Update).WithSummary("Change some fields (send If-Match: <version> to avoid lost updates); writes a new version.");
        write.MapDelete("/{workflowId}", Delete).WithSummary("Delete (soft) a workflow.");

        routes.MapGet("/v1/nodes", () => TypedResults.Ok(NodeCatalogDto.All)).WithTags("Workflows").RequireAuthorization()
            .WithSummary("The node catalog: ports, params (types, limits, defaults) and retry policy of every node type.");
    }

    private static async Task<Ok<Page<WorkflowDto>>> List(Caller caller, [AsParameters] PageQuery page, string? status, FentaDb db, CancellationToken ct)
    {
        var query = Live(db, caller.OrgId);
        if (status is not null) query = query.Where(w => w.Status == status);
        return TypedResults.Ok(await query.ToPageAsync(page, ToDto, ct));
    }

    private static async Task<Ok<WorkflowDto>> Get(string workflowId, Caller caller, FentaDb db, HttpResponse response, CancellationToken ct)
    {
        var workflow = await FindAsync(db, caller, workflowId, ct);
        response.Headers.ETag = $"\"{workflow.Version}\"";
        return TypedResults.Ok(ToDto(workflow));
    }

    private static async Task<Created<WorkflowDto>> Create(CreateWorkflowRequest body, Caller caller, FentaDb db, AuditTrail audit,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = new FieldErrors();
        CheckName(body.Name, errors, required: true);
        CheckStatus(body.Status, errors);
        CheckVariables(body.Variables, errors);
        if (body.Graph is null) errors.Add("graph", "is required");
        errors.ThrowIfAny();
        await GraphChecks.ValidateAsync(body.Graph!, caller, db, ct);

        var now = clock.GetUtcNow();
        var workflow = new Workflow
        {
            Id = Ids.New("wf"), OrgId = caller.OrgId, Name = body.Name!.Trim(), Description = body.Description,
            Status = body.Status ?? "draft", Graph = body.Graph!, Variables = body.Variables ?? EmptyObject,
            CreatedBy = caller.UserId, CreatedAt = now, UpdatedAt = now,
        };
        db.Workflows.Add(workflow);
        db.WorkflowVersions.Add(workflow.Snapshot(caller.UserId, now));
        audit.Record(caller, "create", "workflow", workflow.Id, new { workflow.Name, nodes = workflow.Graph.Nodes.Count });
        await WorkflowSchedules.SyncAsync(db, workflow, caller.UserId, now, ct);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/workflows/{workflow.Id}", ToDto(workflow));
    }

    private static async Task<Ok<WorkflowDto>> Update(string workflowId, UpdateWorkflowRequest body, Caller caller, FentaDb db, AuditTrail audit,
        TimeProvider clock, HttpRequest request, CancellationToken ct)
    {
        var workflow = await FindAsync(db, caller, workflowId, ct);
        if (request.Headers.IfMatch.FirstOrDefault() is { } expected && expected.Trim('"', ' ') != workflow.Version.ToString())
            throw new ConflictException("PRECONDITION_FAILED", $"The workflow is at version {workflow.Version}, not {expected}; reload and retry.");
        var errors = new FieldErrors();
        CheckName(body.Name, errors, required: false);
        CheckStatus(body.Status, errors);
        CheckVariables(body.Variables, errors);
        errors.ThrowIfAny();
        if (body.Graph is not null) await GraphChecks.ValidateAsync(body.Graph, caller, db, ct);

        workflow.Name = body.Name?.Trim() ?? workflow.Name;
        workflow.Description = body.Description ?? workflow.Description;
        workflow.Status = body.Status ?? workflow.Status;
        workflow.Graph = body.Graph ?? workflow.Graph;
        workflow.Variables = body.Variables ?? workflow.Variables;
        var now = clock.GetUtcNow();
        db.WorkflowVersions.Add(workflow.Snapshot(caller.UserId, now));
        if (body.Graph is not null) await WorkflowSchedules.SyncAsync(db, workflow, caller.UserId, now, ct);
        audit.Record(caller, "update", "workflow", workflow.Id, new
        {
            fields = new[] { body.Name is null ? null : "name", body.Description is null ? null : "description", body.Status is null ? null : "status",
                body.Graph is null ? null : "graph", body.Variables is null ? null : "variables" }.OfType<string>(),
            version = workflow.Version,
        });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(workflow));
    }

    private static async Task<NoContent> Delete(string workflowId, Caller caller, FentaDb db, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var workflow = await FindAsync(db, caller, workflowId, ct);
        workflow.Delete(clock.GetUtcNow());
        audit.Record(caller, "delete", "workflow", workflow.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Page<WorkflowVersionDto>>> ListVersions(string workflowId, Caller caller, [AsParameters] PageQuery page, FentaDb db, CancellationToken ct)
    {
        await FindAsync(db, caller, workflowId, ct);
        return TypedResults.Ok(await db.WorkflowVersions.Where(v => v.WorkflowId == workflowId).ToPageAsync(page, ToDto, ct));
    }

    private static async Task<Ok<WorkflowVersionDto>> GetVersion(string workflowId, int version, Caller caller, FentaDb db, CancellationToken ct)
    {
        await FindAsync(db, caller, workflowId, ct);
        var found = await db.WorkflowVersions.SingleOrDefaultAsync(v => v.WorkflowId == workflowId && v.Version == version, ct)
            ?? throw new NotFoundException("workflow version", $"{workflowId}@{version}");
        return TypedResults.Ok(ToDto(found));
    }

    public static IQueryable<Workflow> Live(FentaDb db, string orgId) => db.Workflows.Where(w => w.OrgId == orgId && w.DeletedAt == null);

    private static async Task<Workflow> FindAsync(FentaDb db, Caller caller, string id, CancellationToken ct) =>
        await Live(db, caller.OrgId).SingleOrDefaultAsync(w => w.Id == id, ct) ?? throw new NotFoundException("workflow", id);

    private static void CheckName(string? name, FieldErrors errors, bool required)
    {
        if ((required || name is not null) && (string.IsNullOrWhiteSpace(name) || name.Length > 200)) errors.Add("name", "must be 1-200 characters");
    }

    private static void CheckStatus(string? status, FieldErrors errors)
    {
        if (status is not null && !WorkflowStatuses.All.Contains(status)) errors.Add("status", $"must be one of: {string.Join(", ", WorkflowStatuses.All)}");
    }

    private static void CheckVariables(JsonElement? variables, FieldErrors errors)
    {
        if (variables is { ValueKind: not JsonValueKind.Object }) errors.Add("variables", "must be a JSON object");
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static WorkflowDto ToDto(Workflow w) =>
        new(w.Id, w.Name, w.Description, w.Status, w.Version, w.Graph, w.Variables, w.RunCount, w.LastRunAt, w.CreatedBy, w.CreatedAt, w.UpdatedAt);

    private static WorkflowVersionDto ToDto(WorkflowVersion v) => new(v.Id, v.Version, v.Name, v.Graph, v.Variables, v.CreatedBy, v.CreatedAt);
}
