using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Workflows;

public static class GraphChecks
{
    /// <summary>
    /// Graph rules (Domain), then what only the database knows: referenced templates must be readable by this org, and
    /// the accounts an Output.Publish node names must be connected in it.
    /// </summary>
    public static async Task ValidateAsync(WorkflowGraph graph, Caller caller, FentaDb db, CancellationToken ct)
    {
        var validated = GraphValidator.Validate(graph);
        var templateRefs = validated.References.Where(r => r.Kind == ParamReference.Template).ToList();
        var integrationRefs = validated.References.Where(r => r.Kind == ParamReference.Integration).ToList();
        var missing = new List<FieldError>();
        if (templateRefs.Count > 0)
        {
            var ids = templateRefs.Select(r => r.Id).Distinct().ToList();
            var known = await db.ReadableTemplates(caller.OrgId).Where(t => ids.Contains(t.Id)).Select(t => t.Id).ToListAsync(ct);
            missing.AddRange(templateRefs.Where(r => !known.Contains(r.Id))
                .Select(r => new FieldError(r.Field, $"no template '{r.Id}' in this organization or the built-in set", r.NodeId)));
        }
        if (integrationRefs.Count > 0)
        {
            var ids = integrationRefs.Select(r => r.Id).Distinct().ToList();
            var known = await db.Integrations.Where(i => i.OrgId == caller.OrgId && ids.Contains(i.Id) && i.Status != "revoked").Select(i => i.Id).ToListAsync(ct);
            missing.AddRange(integrationRefs.Where(r => !known.Contains(r.Id))
                .Select(r => new FieldError(r.Field, $"no connected account '{r.Id}' in this organization (GET /v1/integrations)", r.NodeId)));
        }
        if (missing.Count > 0) throw new ValidationFailedException(missing);
    }
}
