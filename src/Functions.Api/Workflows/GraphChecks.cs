using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Workflows;

public static class GraphChecks
{
    /// <summary>Graph rules (Domain), then what only the database knows: referenced templates must be readable by this org.</summary>
    public static async Task ValidateAsync(WorkflowGraph graph, Caller caller, FentaDb db, CancellationToken ct)
    {
        var validated = GraphValidator.Validate(graph);
        var templateRefs = validated.References.Where(r => r.Kind == ParamReference.Template).ToList();
        if (templateRefs.Count == 0) return;
        var ids = templateRefs.Select(r => r.Id).Distinct().ToList();
        var known = await db.ReadableTemplates(caller.OrgId).Where(t => ids.Contains(t.Id)).Select(t => t.Id).ToListAsync(ct);
        var missing = templateRefs.Where(r => !known.Contains(r.Id))
            .Select(r => new FieldError(r.Field, $"no template '{r.Id}' in this organization or the built-in set", r.NodeId)).ToList();
        if (missing.Count > 0) throw new ValidationFailedException(missing);
    }
}
