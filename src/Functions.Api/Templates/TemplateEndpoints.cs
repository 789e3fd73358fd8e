using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Templates;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Templates;

public sealed record CreateTemplateRequest(string? Name, string? Description, string? Aspect, string? Resolution, TemplateSpec? Spec);
public sealed record UpdateTemplateRequest(string? Name, string? Description, string? Aspect, string? Resolution, TemplateSpec? Spec);
public sealed record TemplateDto(string Id, string Name, string? Description, string Aspect, string Resolution, bool IsPublic,
    bool BuiltIn, TemplateSpec Spec, int UsageCount, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Montage templates: the org's own plus the built-in ones every org can read (and copy, but not change).</summary>
public static class TemplateEndpoints
{
    public static void MapTemplates(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/v1/templates").WithTags("Templates").RequireAuthorization();
        var read = group.MapGroup("").RequireAccess(Scopes.WorkflowsRead, OrgRole.Viewer);
        read.MapGet("/", List).WithSummary("Built-in and org templates, newest first.");
        read.MapGet("/{templateId}", Get).WithSummary("One template.");

        var write = group.MapGroup("").RequireAccess(Scopes.WorkflowsWrite, OrgRole.Editor);
        write.MapPost("/", Create).WithSummary("Create a template; the spec is validated.");
        write.MapPost("/{templateId}/copy", Copy).WithSummary("Copy a template (e.g. a built-in one) into the org.");
        write.MapPatch("/{templateId}", Update).WithSummary("Change some fields; the result is validated as a whole.");
        write.MapDelete("/{templateId}", Delete).WithSummary("Delete (soft) an org template.");
    }

    /// <summary>Templates the caller may read; another org's template is simply not here, so it answers 404.</summary>
    public static IQueryable<Template> Readable(FentaDb db, string orgId) =>
        db.Templates.Where(t => t.DeletedAt == null && (t.OrgId == orgId || (t.OrgId == null && t.IsPublic)));

    private static async Task<Ok<Page<TemplateDto>>> List(Caller caller, [AsParameters] PageQuery page, string? aspect, FentaDb db, CancellationToken ct)
    {
        var query = Readable(db, caller.OrgId);
        if (aspect is not null) query = query.Where(t => t.Aspect == aspect);
        return TypedResults.Ok(await query.ToPageAsync(page, ToDto, ct));
    }

    private static async Task<Ok<TemplateDto>> Get(string templateId, Caller caller, FentaDb db, CancellationToken ct) =>
        TypedResults.Ok(ToDto(await FindReadable(db, caller, templateId, ct)));

    private static async Task<Created<TemplateDto>> Create(CreateTemplateRequest body, Caller caller, FentaDb db, AuditTrail audit,
        TimeProvider clock, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200) errors.Add("name", "must be 1-200 characters");
        if (body.Aspect is null) errors.Add("aspect", "is required");
        if (body.Resolution is null) errors.Add("resolution", "is required");
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

    private static async Task<Created<TemplateDto>> Copy(string templateId, Caller caller, FentaDb db, AuditTrail audit, TimeProvider clock, CancellationToken ct)
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

    private static async Task<Ok<TemplateDto>> Update(string templateId, UpdateTemplateRequest body, Caller caller, FentaDb db, AuditTrail audit,
        TimeProvider clock, CancellationToken ct)
    {
        var template = await FindWritable(db, caller, templateId, ct);
        var errors = new FieldErrors();
        if (body.Name is not null && (string.IsNullOrWhiteSpace(body.Name) || body.Name.Length > 200)) errors.Add("name", "must be 1-200 characters");
        TemplateValidator.Validate(body.Aspect ?? template.Aspect, body.Resolution ?? template.Resolution, body.Spec ?? template.Spec, errors);
        errors.ThrowIfAny();

        template.Name = body.Name?.Trim() ?? template.Name;
        template.Description = body.Description ?? template.Description;
        template.Aspect = body.Aspect ?? template.Aspect;
        template.Resolution = body.Resolution ?? template.Resolution;
        template.Spec = body.Spec ?? template.Spec;
        template.UpdatedAt = clock.GetUtcNow();
        audit.Record(caller, "update", "template", template.Id, body);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(ToDto(template));
    }

    private static async Task<NoContent> Delete(string templateId, Caller caller, FentaDb db, AuditTrail audit, TimeProvider clock, CancellationToken ct)
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
        await Readable(db, caller.OrgId).SingleOrDefaultAsync(t => t.Id == id, ct) ?? throw new NotFoundException("template", id);

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
