using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Templates;
using FentaWeb.Domain.Workflows;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Which rows an org's caller may see, for the functions of several areas that read them (a job or schedule reads its
/// workflow, a graph its templates): one definition here, so that no function class calls another's.
/// </summary>
public static class OrgQueries
{
    /// <summary>The org's workflows that are not deleted.</summary>
    public static IQueryable<Workflow> LiveWorkflows(this FentaDb db, string orgId) => db.Workflows.Where(w => w.OrgId == orgId && w.DeletedAt == null);

    /// <summary>Templates the org may read: its own and the public built-in ones; another org's template is simply not here, so it answers 404.</summary>
    public static IQueryable<Template> ReadableTemplates(this FentaDb db, string orgId) =>
        db.Templates.Where(t => t.DeletedAt == null && (t.OrgId == orgId || (t.OrgId == null && t.IsPublic)));
}
