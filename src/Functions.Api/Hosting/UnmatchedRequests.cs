using FentaWeb.Api.Web;
using Microsoft.AspNetCore.Routing.Template;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// The answer to a request no function takes, given by the catch-all (<see cref="WebAppFunctions"/>) in both hosts: a
/// problem+json 404, or a 405 with <c>Allow</c> when other verbs are served at the path, as Kestrel's routing and
/// <c>UseStatusCodePages</c> answer the verbs the local host leaves to them (the Functions host's own answer would be an
/// empty 404).
/// </summary>
public static class UnmatchedRequests
{
    /// <summary>Each other function's route, to tell a wrong verb from a wrong path.</summary>
    private static readonly (TemplateMatcher Route, IReadOnlyList<string> Verbs)[] Routes =
    [
        .. from function in HttpFunctions.All
           where function.Name != WebAppFunctions.FunctionName
           select (new TemplateMatcher(TemplateParser.Parse(function.Route), []), function.Verbs),
    ];

    /// <summary>The 404 or 405 (setting <c>Allow</c>) for this request, to throw into the problem mapping.</summary>
    public static BadHttpRequestException Problem(HttpRequest request)
    {
        var allowed = Routes.Where(r => r.Route.TryMatch(request.Path, [])).SelectMany(r => r.Verbs).Distinct().Order().ToList();
        // The path's own verb listed means a route value broke its constraint: nothing is there.
        if (allowed.Count == 0 || allowed.Contains(request.Method))
            return new BadHttpRequestException($"Nothing is served at {request.Path}; the API's routes are in /openapi/v1.json.", 404);
        request.HttpContext.Response.Headers.Allow = string.Join(", ", allowed);
        return new BadHttpRequestException($"{request.Method} is not served at {request.Path}; it takes {string.Join(", ", allowed)}.", 405);
    }
}
