using System.Text.Json;
using System.Text.Json.Serialization;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Workflows;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Api.Jobs;

public sealed record RunWorkflowRequest(JsonElement? Variables, Budget? Budget);
/// <summary>A job from an inline graph, or the documented direct render job: a template plus a config of sources, script, tts, subtitles and output.</summary>
public sealed record CreateJobRequest(WorkflowGraph? Graph, JsonElement? Variables, string? TemplateId, DirectJobConfig? Config, Budget? Budget);

/// <summary>
/// Jobs: durable runs of a graph. Starting one answers 202 with management URLs, as Durable Functions'
/// HTTP API does; the orchestrations app does the rest.
/// </summary>
[Tags("Jobs")]
public sealed class JobFunctions(FentaDb db, JobStarter jobs, JobResults results, NpgsqlDataSource dataSource, IServiceScopeFactory scopes)
{
    private const int MaxIdempotencyKeyLength = 255;

    [Function(nameof(RunWorkflow)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Run a workflow as a durable job, optionally within a budget (refused with 402 and the estimate when the estimate passes it). Send an Idempotency-Key header to make retries of this request safe.")]
    public async Task<Accepted<JobDto>> RunWorkflow(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/workflows/{workflowId}/run")] HttpRequest request, string workflowId,
        [FromBody] RunWorkflowRequest? body, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs,
        CancellationToken ct)
    {
        var key = IdempotencyKey(request);
        InputText.CheckVariables(body?.Variables);
        var budget = Budget.Checked(body?.Budget);
        var workflow = await db.LiveWorkflows(caller.OrgId).SingleOrDefaultAsync(w => w.Id == workflowId, ct)
            ?? throw new NotFoundException("workflow", workflowId);
        var config = CompiledGraph.ForWorkflow(workflow.Id, workflow.Version, workflow.Graph, workflow.Variables, body?.Variables);
        var (jobId, created) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, config, key, Budget: budget, CountsAsWorkflowRun: true,
            Origin: Origin(request, body)), ct);
        var job = await FindAsync(caller, jobId, ct);
        if (!created) EnsureSameRequest(job, config, budget);
        return Started(job, created, request.HttpContext.Response);
    }

    [Function(nameof(CreateJob)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Run a direct render job (template_id + config {sources, script, tts, subtitles, output}) or an inline graph as a job.")]
    public async Task<Accepted<JobDto>> CreateJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/jobs")] HttpRequest request,
        [FromBody] CreateJobRequest body, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs,
        CancellationToken ct)
    {
        var key = IdempotencyKey(request);
        var (config, budget) = await RequestedAsync(body, caller, ct);
        var (jobId, created) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, config, key, Budget: budget, Origin: Origin(request, body)), ct);
        var job = await FindAsync(caller, jobId, ct);
        if (!created) EnsureSameRequest(job, config, budget);
        return Started(job, created, request.HttpContext.Response);
    }

    [Function(nameof(EstimateJob)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Estimate what POST /v1/jobs would run for the same body, creating nothing: per node and in total, LLM tokens, KIE credits (per fan-out item), render seconds and dollars at the org's plan, with the assumptions. Refuses what POST /v1/jobs refuses, naming the field.")]
    public async Task<Ok<CostEstimate>> EstimateJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/jobs/estimate")] HttpRequest request,
        [FromBody] CreateJobRequest body, Caller caller, CancellationToken ct)
    {
        var (config, _) = await RequestedAsync(body, caller, ct);
        return TypedResults.Ok(await jobs.EstimateAsync(caller.OrgId, config.Graph, ct));
    }

    [Function(nameof(ListJobs)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Jobs, newest first; filter by status, workflow and creation time.")]
    public async Task<Ok<Page<JobDto>>> ListJobs([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/jobs")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, string? status, [FromQuery(Name = "workflow_id")] string? workflowId,
        [FromQuery(Name = "created_after")] string? after, [FromQuery(Name = "created_before")] string? before, CancellationToken ct)
    {
        var errors = new FieldErrors();
        JobStatus? wanted = null;
        if (status is not null)
        {
            if (JobStatuses.TryParse(status, out var parsed)) wanted = parsed;
            else errors.Add("status", $"must be one of: {string.Join(", ", JobStatuses.Wire)}");
        }
        var createdAfter = InputText.Instant(after, "created_after", errors);
        var createdBefore = InputText.Instant(before, "created_before", errors);
        errors.ThrowIfAny();
        var query = db.Jobs.Where(j => j.OrgId == caller.OrgId);
        if (wanted is { } only) query = query.Where(j => j.Status == only);
        if (workflowId is not null) query = query.Where(j => j.WorkflowId == workflowId);
        if (createdAfter is not null) query = query.Where(j => j.CreatedAt >= createdAfter);
        if (createdBefore is not null) query = query.Where(j => j.CreatedAt < createdBefore);
        var found = await query.ToPageAsync(page, j => j, ct);
        var documented = await results.ForAsync(caller.OrgId, [.. found.Data.Select(j => (j.Id, j.Result))], ct);
        return TypedResults.Ok(new Page<JobDto>([.. found.Data.Select(j => JobDto.From(j, documented.GetValueOrDefault(j.Id), null))], found.NextCursor, found.HasMore));
    }

    [Function(nameof(GetJob)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Status, progress, per-node state, outputs, costs and timings.")]
    public async Task<Ok<JobDto>> GetJob([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/jobs/{jobId}")] HttpRequest request, string jobId,
        Caller caller, CancellationToken ct)
    {
        var job = await FindAsync(caller, jobId, ct);
        return TypedResults.Ok(JobDto.From(job, await results.ForAsync(job.OrgId, job.Id, job.Result, ct), await JobQueries.NodesAsync(db, job.Id, ct)));
    }

    [Function(nameof(CancelJob)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Stop a job. Idempotent; running nodes stop when their activity next checks in.")]
    public async Task<Accepted<JobDto>> CancelJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/jobs/{jobId}/cancel")] HttpRequest request,
        string jobId, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        var (status, cancelledNow) = await RunStore.CancelAsync(dataSource, caller.OrgId, jobId, ct) ?? throw new NotFoundException("job", jobId);
        if (status != JobStatus.Cancelled)
            throw new ConflictException("JOB_FINISHED", $"The job already {status.ToWire()}; there is nothing to cancel.");
        // The run stops at the event (and passes it to its generations); its running activities see the status at their next
        // check-in. A job cancelled while paused has no run yet, and never gets one.
        if (await runs.GetInstanceAsync(jobId, getInputsAndOutputs: false, ct) is not null)
            await runs.RaiseEventAsync(jobId, RunNames.CancelEvent, "cancelled by the API", ct);
        var job = await FindAsync(caller, jobId, ct);
        // Counted by the request that cancelled it (the run's end finds it cancelled already, and counts nothing).
        if (cancelledNow) Telemetry.JobsCancelled.Add(1, Telemetry.JobTags(job.WorkflowId, CompiledGraph.Compile(job.Config.Graph)));
        return TypedResults.Accepted($"/v1/jobs/{job.Id}", JobDto.From(job, await results.ForAsync(job.OrgId, job.Id, job.Result, ct), await JobQueries.NodesAsync(db, job.Id, ct)));
    }

    [Function(nameof(RetryJob)), Access(OrgRole.Editor, Scopes.JobsExecute),
     EndpointSummary("Run a failed or cancelled job again as a new job, reusing the outputs of nodes that succeeded.")]
    public async Task<Accepted<JobDto>> RetryJob([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/jobs/{jobId}/retry")] HttpRequest request,
        string jobId, Caller caller, [DurableClient(TaskHub = HttpFunctions.OrchestrationsTaskHub)] DurableTaskClient runs, CancellationToken ct)
    {
        var key = IdempotencyKey(request);
        var parent = await FindAsync(caller, jobId, ct);
        if (parent.Status is not (JobStatus.Failed or JobStatus.Cancelled))
            throw new ConflictException("JOB_NOT_RETRYABLE", $"Only failed or cancelled jobs can be retried; this one is {parent.Status.ToWire()}.");
        var (newId, created) = await jobs.StartAsync(runs, new JobRequest(caller.OrgId, caller.UserId, parent.Config, key, parent.Id, parent.Budget,
            Origin: Origin<object>(request, null)), ct);
        return Started(await FindAsync(caller, newId, ct), created, request.HttpContext.Response);
    }

    /// <summary>The request as a client would send it again: the body the API bound, in wire form (snake_case, as the API reads it).</summary>
    private static JobOrigin Origin<TBody>(HttpRequest request, TBody? body) =>
        new(request.Method, request.Path.Value!, body is null ? null : JsonSerializer.SerializeToElement(body, RequestJson));

    // A field the client left out binds as null; left out again, the stored body reads as the client wrote it.
    private static readonly JsonSerializerOptions RequestJson = new(FentaJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    [Function(nameof(ListJobLogs)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("The job's log, oldest first.")]
    public async Task<Ok<Page<JobLogDto>>> ListJobLogs([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/jobs/{jobId}/logs")] HttpRequest request,
        string jobId, Caller caller, [AsParameters] PageQuery page, CancellationToken ct)
    {
        await FindAsync(caller, jobId, ct);
        var (limit, after) = page.Parse();
        var afterId = after is null ? 0 : long.TryParse(after, out var id) ? id : throw new ValidationFailedException("cursor", "is not a cursor this API returned");
        var rows = await db.JobLogs.Where(l => l.JobId == jobId && l.Id > afterId).OrderBy(l => l.Id).Take(limit + 1).ToListAsync(ct);
        var hasMore = rows.Count > limit;
        if (hasMore) rows.RemoveAt(limit);
        return TypedResults.Ok(new Page<JobLogDto>(rows.Select(JobLogDto.From).ToList(),
            hasMore ? PageQuery.Encode(rows[^1].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)) : null, hasMore));
    }

    [Function(nameof(StreamJobEvents)), Access(OrgRole.Viewer, Scopes.WorkflowsRead),
     EndpointSummary("Server-Sent Events: node and job transitions and progress; ends with the job.")]
    public async Task<ServerSentEventsResult<JsonElement>> StreamJobEvents(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/jobs/{jobId}/events")] HttpRequest request, string jobId, Caller caller,
        CancellationToken ct)
    {
        await FindAsync(caller, jobId, ct);
        return TypedResults.ServerSentEvents(JobEventStream.Of(scopes, caller, jobId, ct));
    }

    /// <summary>The job a <see cref="CreateJobRequest"/> asks for, validated: the graph (a direct job compiled) with its variables applied, and the budget.</summary>
    private async Task<(JobConfig Config, Budget? Budget)> RequestedAsync(CreateJobRequest body, Caller caller, CancellationToken ct)
    {
        if (body.Graph is null == (body.Config is null && body.TemplateId is null))
            throw new ValidationFailedException("config", "send a direct render job (template_id and config) or an inline graph, one of the two");
        InputText.CheckVariables(body.Variables);
        var budget = Budget.Checked(body.Budget);
        var graph = body.Graph ?? DirectJob.Compile(body.TemplateId, body.Config);
        try
        {
            await GraphChecks.ValidateAsync(graph, caller, db, ct);
        }
        catch (ValidationFailedException e) when (body.Graph is null)
        {
            throw new ValidationFailedException([.. e.Errors.Select(DirectJob.Rename)]);
        }
        var variables = body.Variables ?? JsonDocument.Parse("{}").RootElement;
        return (new JobConfig(CompiledGraph.ApplyVariables(graph, variables), variables), budget);
    }

    /// <summary>
    /// A key replays its first job only for the same request: the same workflow (or none), graph, variables and budget.
    /// Anything else would silently run what the client did not ask for this time. Variables are compared after merging
    /// with the workflow's, and the graph after they are filled in, as the job stored them; JSON objects compare
    /// regardless of key order (PostgreSQL's jsonb does not keep it).
    /// </summary>
    private static void EnsureSameRequest(Job earlier, JobConfig config, Budget? budget)
    {
        static JsonElement Json<T>(T value) => JsonSerializer.SerializeToElement(value, FentaJson.Options);
        var same = earlier.WorkflowId == config.WorkflowId && earlier.Budget == budget
                   && JsonElement.DeepEquals(Json(earlier.Config.Variables), Json(config.Variables))
                   && (config.WorkflowId is not null || JsonElement.DeepEquals(Json(earlier.Config.Graph), Json(config.Graph)));
        if (!same) throw new ConflictException("IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was already used for a different request.");
    }

    private static Accepted<JobDto> Started(Job job, bool created, HttpResponse response)
    {
        if (!created) response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Accepted($"/v1/jobs/{job.Id}", JobDto.From(job, null, null));
    }

    private Task<Job> FindAsync(Caller caller, string jobId, CancellationToken ct) => JobQueries.FindAsync(db, caller, jobId, ct);


    private static string? IdempotencyKey(HttpRequest request)
    {
        var key = request.Headers["Idempotency-Key"].FirstOrDefault();
        if (key is not null && (key.Length is 0 or > MaxIdempotencyKeyLength))
            throw new ValidationFailedException("Idempotency-Key", $"must be 1-{MaxIdempotencyKeyLength} characters");
        return key;
    }
}
