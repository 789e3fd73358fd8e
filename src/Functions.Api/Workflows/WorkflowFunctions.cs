using System.Globalization;
using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Schedules;
using FentaWeb.Api.Templates;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Workflows;

public sealed record CreateWorkflowRequest(string? Name, string? Description, string? Status, WorkflowGraph? Graph, JsonElement? Variables) : WorkflowReadOnlyFields;
public sealed record UpdateWorkflowRequest(string? Name, string? Description, string? Status, WorkflowGraph? Graph, JsonElement? Variables) : WorkflowReadOnlyFields;
public sealed record WorkflowDto(string Id, string Name, string? Description, string Status, int Version, WorkflowGraph Graph,
    JsonElement Variables, int RunCount, DateTimeOffset? LastRunAt, string? CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
/// <summary>The run to estimate: the workflow's own variables, overridden by these, as a run would use them.</summary>
public sealed record EstimateRequest(JsonElement? Variables);
public sealed record WorkflowVersionDto(string Id, int Version, string Name, WorkflowGraph Graph, JsonElement Variables, string? CreatedBy, DateTimeOffset CreatedAt);

[Tags("Workflows")]
public sealed class WorkflowFunctions(FentaDb db, AuditTrail audit, TimeProvider clock, JobStarter jobs)
{
    [Function(nameof(EstimateWorkflow)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Estimate what a run would use: per node and in total, LLM tokens, KIE credits (per fan-out item), render seconds and dollars at the org's plan, with the assumptions.")]
    public async Task<Ok<CostEstimate>> EstimateWorkflow(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/workflows/{workflowId}/estimate")] HttpRequest request, string workflowId,
        [FromBody] EstimateRequest? body, Caller caller, CancellationToken ct)
    {
        InputText.CheckVariables(body?.Variables);
        var workflow = await FindAsync(db, caller, workflowId, ct);
        var config = CompiledGraph.ForWorkflow(workflow.Id, workflow.Version, workflow.Graph, workflow.Variables, body?.Variables);
        return TypedResults.Ok(await jobs.EstimateAsync(caller.OrgId, config.Graph, ct));
    }

    [Function(nameof(ListWorkflows)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("The org's workflows, newest first; filter by status.")]
    public async Task<Ok<Page<WorkflowDto>>> ListWorkflows([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/workflows")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, string? status, CancellationToken ct)
    {
        var query = db.LiveWorkflows(caller.OrgId);
        if (status is not null) query = query.Where(w => w.Status == status);
        return TypedResults.Ok(await query.ToPageAsync(page, ToDto, ct));
    }

    [Function(nameof(GetWorkflow)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One workflow; its ETag is its version.")]
    public async Task<Ok<WorkflowDto>> GetWorkflow([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/workflows/{workflowId}")] HttpRequest request,
        string workflowId, Caller caller, CancellationToken ct)
    {
        var workflow = await FindAsync(db, caller, workflowId, ct);
        request.HttpContext.Response.Headers.ETag = $"\"{workflow.Version}\"";
        return TypedResults.Ok(ToDto(workflow));
    }

    [Function(nameof(CreateWorkflow)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Create a workflow; the graph is validated against the node catalog.")]
    public async Task<Created<WorkflowDto>> CreateWorkflow([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/workflows")] HttpRequest request,
        [FromBody] CreateWorkflowRequest body, Caller caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        CheckName(body.Name, errors, required: true);
        CheckStatus(body.Status, errors);
        InputText.CheckVariables(body.Variables, errors);
        InputText.CheckDescription(body.Description, errors);
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

    [Function(nameof(UpdateWorkflow)), Access(OrgRole.Editor, Scopes.WorkflowsWrite),
     EndpointSummary("Change some fields (send If-Match: <version> to avoid lost updates); writes a new version.")]
    public async Task<Ok<WorkflowDto>> UpdateWorkflow([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/workflows/{workflowId}")] HttpRequest request,
        string workflowId, [FromBody] UpdateWorkflowRequest body, Caller caller, CancellationToken ct)
    {
        body.CheckId(workflowId, "workflow");
        var workflow = await FindAsync(db, caller, workflowId, ct);
        if (request.Headers.IfMatch.FirstOrDefault() is { } expected && expected.Trim('"', ' ') != workflow.Version.ToString())
            throw new ConflictException("PRECONDITION_FAILED", $"The workflow is at version {workflow.Version}, not {expected}; reload and retry.");
        var errors = new FieldErrors();
        CheckName(body.Name, errors, required: false);
        CheckStatus(body.Status, errors);
        InputText.CheckVariables(body.Variables, errors);
        InputText.CheckDescription(body.Description, errors);
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

    [Function(nameof(DeleteWorkflow)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Delete (soft) a workflow.")]
    public async Task<NoContent> DeleteWorkflow([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/workflows/{workflowId}")] HttpRequest request,
        string workflowId, Caller caller, CancellationToken ct)
    {
        var workflow = await FindAsync(db, caller, workflowId, ct);
        workflow.Delete(clock.GetUtcNow());
        audit.Record(caller, "delete", "workflow", workflow.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    [Function(nameof(ListWorkflowVersions)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Every saved version, newest first.")]
    public async Task<Ok<Page<WorkflowVersionDto>>> ListWorkflowVersions(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/workflows/{workflowId}/versions")] HttpRequest request, string workflowId, Caller caller,
        [AsParameters] PageQuery page, CancellationToken ct)
    {
        await FindAsync(db, caller, workflowId, ct);
        return TypedResults.Ok(await db.WorkflowVersions.Where(v => v.WorkflowId == workflowId).ToPageAsync(page, ToDto, ct));
    }

    [Function(nameof(GetWorkflowVersion)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One saved version.")]
    public async Task<Ok<WorkflowVersionDto>> GetWorkflowVersion(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/workflows/{workflowId}/versions/{version:int}")] HttpRequest request, string workflowId,
        string version, Caller caller, CancellationToken ct)
    {
        var number = int.Parse(version, CultureInfo.InvariantCulture); // the route's int constraint already matched it
        await FindAsync(db, caller, workflowId, ct);
        var found = await db.WorkflowVersions.SingleOrDefaultAsync(v => v.WorkflowId == workflowId && v.Version == number, ct)
            ?? throw new NotFoundException("workflow version", $"{workflowId}@{number}");
        return TypedResults.Ok(ToDto(found));
    }

    [Function(nameof(ListNodeTypes)), Access,
     EndpointSummary("The node catalog: ports, params (types, limits, defaults) and retry policy of every node type.")]
    public Ok<IReadOnlyList<NodeTypeDto>> ListNodeTypes([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/nodes")] HttpRequest request) =>
        TypedResults.Ok(NodeCatalogDto.All);

    private static async Task<Workflow> FindAsync(FentaDb db, Caller caller, string id, CancellationToken ct) =>
        await db.LiveWorkflows(caller.OrgId).SingleOrDefaultAsync(w => w.Id == id, ct) ?? throw new NotFoundException("workflow", id);

    private static void CheckName(string? name, FieldErrors errors, bool required)
    {
        if ((required || name is not null) && (string.IsNullOrWhiteSpace(name) || name.Length > 200)) errors.Add("name", "must be 1-200 characters");
    }

    private static void CheckStatus(string? status, FieldErrors errors)
    {
        if (status is not null && !WorkflowStatuses.All.Contains(status)) errors.Add("status", $"must be one of: {string.Join(", ", WorkflowStatuses.All)}");
    }

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement;

    private static WorkflowDto ToDto(Workflow w) =>
        new(w.Id, w.Name, w.Description, w.Status, w.Version, w.Graph, w.Variables, w.RunCount, w.LastRunAt, w.CreatedBy, w.CreatedAt, w.UpdatedAt);

    private static WorkflowVersionDto ToDto(WorkflowVersion v) => new(v.Id, v.Version, v.Name, v.Graph, v.Variables, v.CreatedBy, v.CreatedAt);
}
