using Microsoft.AspNetCore.Routing.Template;
using Microsoft.Azure.Functions.Worker;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Under the Functions host, requests no other function takes get a problem+json answer (the host's own would be an
/// empty 404): a 404, or a 405 with <c>Allow</c> when other verbs are served at the path, as Kestrel's routing and
/// <c>UseStatusCodePages</c> answer them on the local host, which does not map this function.
/// </summary>
public sealed class UnmatchedRequests
{
    /// <summary>
    /// The Functions host tries routes in function-name order and the first match wins, so this catch-all is named to sort
    /// last (FunctionListTests checks that and that no route hides another).
    /// </summary>
    public const string FunctionName = "ZzNoSuchRoute";

    /// <summary>Each other function's route, to tell a wrong verb from a wrong path.</summary>
    private static readonly (TemplateMatcher Route, IReadOnlyList<string> Verbs)[] Routes =
    [
        .. from function in HttpFunctions.All
           where function.Name != FunctionName
           select (new TemplateMatcher(TemplateParser.Parse(function.Route), []), function.Verbs),
    ];

    [Function(FunctionName), Anonymous, ExcludeFromDescription]
    public IResult NoSuchRoute([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options",
        Route = "{*path}")] HttpRequest request)
    {
        var allowed = Routes.Where(r => r.Route.TryMatch(request.Path, [])).SelectMany(r => r.Verbs).Distinct().Order().ToList();
        // The path's own verb listed means a route value broke its constraint: nothing is there.
        if (allowed.Count == 0 || allowed.Contains(request.Method))
            throw new BadHttpRequestException($"Nothing is served at {request.Path}; the API's routes are in /openapi/v1.json.", 404);
        request.HttpContext.Response.Headers.Allow = string.Join(", ", allowed);
        throw new BadHttpRequestException($"{request.Method} is not served at {request.Path}; it takes {string.Join(", ", allowed)}.", 405);
    }
}
