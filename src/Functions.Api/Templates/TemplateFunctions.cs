using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Templates;

public sealed record CreateTemplateRequest(string? Name, string? Description, string? Aspect, string? Resolution, TemplateSpec? Spec) : TemplateReadOnlyFields;
public sealed record UpdateTemplateRequest(string? Name, string? Description, string? Aspect, string? Resolution, TemplateSpec? Spec) : TemplateReadOnlyFields;
public sealed record TemplateDto(string Id, string Name, string? Description, string Aspect, string Resolution, bool IsPublic,
    bool BuiltIn, TemplateSpec Spec, int UsageCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Montage templates: the org's own plus the built-in ones every org can read (and copy, but not change).</summary>
[Tags("Templates")]
public sealed class TemplateFunctions(FentaDb db, AuditTrail audit, TimeProvider clock)
{
    [Function(nameof(ListTemplates)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("Built-in and org templates, newest first.")]
    public async Task<Ok<Page<TemplateDto>>> ListTemplates([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/templates")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, string? aspect, CancellationToken ct)
    {
        var query = db.ReadableTemplates(caller.OrgId);
        if (aspect is not null) query = query.Where(t => t.Aspect == aspect);
        return TypedResults.Ok(await query.ToPageAsync(page, ToDto, ct));
    }

    [Function(nameof(GetTemplate)), Access(OrgRole.Viewer, Scopes.WorkflowsRead), EndpointSummary("One template.")]
    public async Task<Ok<TemplateDto>> GetTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/templates/{templateId}")] HttpRequest request,
        string templateId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await FindReadable(db, caller, templateId, ct)));

    [Function(nameof(CreateTemplate)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Create a template; the spec is validated.")]
    public async Task<Created<TemplateDto>> CreateTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/templates")] HttpRequest request,
        [FromBody] CreateTemplateRequest body, Caller caller, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200) errors.Add("name", "must be 1-200 characters");
        if (body.Aspect is null) errors.Add("aspect", "is required");
        if (body.Resolution is null) errors.Add("resolution", "is required");
        InputText.CheckDescription(body.Description, errors);
        if (body.Spec is null) errors.Add("spec", "is required");
        else if (body.Aspect is not null && body.Resolution is not null) TemplateValidator.Validate(body.Aspect, body.Resolution, body.Spec, errors);
        errors.ThrowIfAny();

        var now = clock.GetUtcNow();
        var template = new Template
        {
            Id = Ids.New("tmpl"), OrgId = caller.OrgId, Name = body.Name!.Trim(), Description = body.Description,
            Aspect = body.Aspect!, Resolution = body.Resolution!, Spec = body.Spec!, CreatedBy = caller.UserId, CreatedAt = now, UpdatedAt = now,
        };
        return await SaveNewAsync(template, caller, db, audit, ct);
    }

    [Function(nameof(CopyTemplate)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Copy a template (e.g. a built-in one) into the org.")]
    public async Task<Created<TemplateDto>> CopyTemplate(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/templates/{templateId}/copy")] HttpRequest request, string templateId, Caller caller,
        CancellationToken ct)
    {
        var source = await FindReadable(db, caller, templateId, ct);
        var now = clock.GetUtcNow();
        var copy = new Template
        {
            Id = Ids.New("tmpl"), OrgId = caller.OrgId, Name = $"{source.Name} (copy)", Description = source.Description,
            Aspect = source.Aspect, Resolution = source.Resolution, Spec = source.Spec, CreatedBy = caller.UserId, CreatedAt = now, UpdatedAt = now,
        };
        return await SaveNewAsync(copy, caller, db, audit, ct);
    }

    [Function(nameof(UpdateTemplate)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Change some fields; the result is validated as a whole.")]
    public async Task<Ok<TemplateDto>> UpdateTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/templates/{templateId}")] HttpRequest request,
        string templateId, [FromBody] UpdateTemplateRequest body, Caller caller, CancellationToken ct)
    {
        body.CheckId(templateId, "template");
        var template = await FindWritable(db, caller, templateId, ct);
        var errors = new FieldErrors();
        if (body.Name is not null && (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200)) errors.Add("name", "must be 1-200 characters");
        InputText.CheckDescription(body.Description, errors);
        TemplateValidator.Validate(body.Aspect ?? template.Aspect, body.Resolution ?? template.Resolution, body.Spec ?? template.Spec, errors);
        errors.ThrowIfAny();

        template.Name = body.Name?.Trim() ?? template.Name;
        template.Description = body.Description ?? template.Description;
        template.Aspect = body.Aspect ?? template.Aspect;
        template.Resolution = body.Resolution ?? template.Resolution;
        template.Spec = body.Spec ?? template.Spec;
        template.UpdatedAt = clock.GetUtcNow();
        // The change as sent, without the read-only fields the body may carry back (they change nothing).
        audit.Record(caller, "update", "template", template.Id, new { body.Name, body.Description, body.Aspect, body.Resolution, body.Spec });
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(template));
    }

    [Function(nameof(DeleteTemplate)), Access(OrgRole.Editor, Scopes.WorkflowsWrite), EndpointSummary("Delete (soft) an org template.")]
    public async Task<NoContent> DeleteTemplate([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/templates/{templateId}")] HttpRequest request,
        string templateId, Caller caller, CancellationToken ct)
    {
        var template = await FindWritable(db, caller, templateId, ct);
        template.Delete(clock.GetUtcNow());
        audit.Record(caller, "delete", "template", template.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<Created<TemplateDto>> SaveNewAsync(Template template, Caller caller, FentaDb db, AuditTrail audit, CancellationToken ct)
    {
        db.Templates.Add(template);
        audit.Record(caller, "create", "template", template.Id, new { template.Name, template.Aspect, template.Resolution });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/templates/{template.Id}", ToDto(template));
    }

    private static async Task<Template> FindReadable(FentaDb db, Caller caller, string id, CancellationToken ct) =>
        await db.ReadableTemplates(caller.OrgId).SingleOrDefaultAsync(t => t.Id == id, ct) ?? throw new NotFoundException("template", id);

    private static async Task<Template> FindWritable(FentaDb db, Caller caller, string id, CancellationToken ct)
    {
        var template = await FindReadable(db, caller, id, ct);
        if (template.IsBuiltIn)
            throw new ForbiddenException($"Built-in template '{id}' is read-only; POST /v1/templates/{id}/copy to get an editable copy.");
        return template;
    }

    private static TemplateDto ToDto(Template t) =>
        new(t.Id, t.Name, t.Description, t.Aspect, t.Resolution, t.IsPublic, t.IsBuiltIn, t.Spec, t.UsageCount, t.CreatedAt, t.UpdatedAt);
}
