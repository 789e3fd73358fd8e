using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Web;
using Microsoft.AspNetCore.Routing.Template;

namespace FentaWeb.Api.Tests;

/// <summary>
/// One API, two hosts: every operation of the OpenAPI document is an httpTrigger function in the Function app's
/// functions.metadata (written by the Functions SDK at build) with the same verb and route, and the local host serves
/// exactly the functions in that file.
/// </summary>
public partial class FunctionListTests(FunctionListTests.Host host) : IClassFixture<FunctionListTests.Host>
{
    public sealed class Host : ApiHost;

    /// <summary>"GET v1/jobs/{jobId}" for each HTTP function of the Function app, by function name.</summary>
    private static Dictionary<string, HashSet<string>> Metadata()
    {
        // The test runs from tests/<project>/bin/<configuration>/net10.0; the app's build output mirrors that path.
        var bin = new DirectoryInfo(AppContext.BaseDirectory);
        var root = bin;
        while (!File.Exists(Path.Combine(root.FullName, "FentaWeb.sln"))) root = root.Parent!;
        var file = Path.Combine(root.FullName, "src", "Functions.Api", "bin", bin.Parent!.Name, bin.Name, "functions.metadata");
        using var metadata = JsonDocument.Parse(File.ReadAllText(file));
        var functions = new Dictionary<string, HashSet<string>>();
        foreach (var function in metadata.RootElement.EnumerateArray())
        {
            var trigger = function.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
            Assert.Equal("httpTrigger", trigger.GetProperty("type").GetString());
            var route = WithoutConstraints(trigger.GetProperty("route").GetString()!);
            functions.Add(function.GetProperty("name").GetString()!,
                trigger.GetProperty("methods").EnumerateArray().Select(m => $"{m.GetString()!.ToUpperInvariant()} {route}").ToHashSet());
        }
        return functions;
    }

    private static string WithoutConstraints(string route) => Constraint().Replace(route.Trim('/'), "}");

    [GeneratedRegex(":[^}]+}")]
    private static partial Regex Constraint();

    [Fact]
    public async Task EveryDocumentedOperationIsAnHttpFunctionAndTheLocalHostServesExactlyThem()
    {
        var metadata = Metadata();
        var document = await (await host.Client().GetAsync("/openapi/v1.json")).ReadJsonAsync(200);
        var documented = new Dictionary<string, string>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
                documented.Add(operation.Value.GetProperty("operationId").GetString()!, $"{operation.Name.ToUpperInvariant()} {path.Name.Trim('/')}");

        Assert.True(documented.Count > 60, $"only {documented.Count} operations documented");
        foreach (var (name, operation) in documented)
        {
            Assert.True(metadata.TryGetValue(name, out var function), $"{operation} ({name}) is not a function of the Function app");
            Assert.Contains(operation, function);
        }
        // The document itself, the catch-all (the web app, and the answer to unknown routes) and the public share pages (HTML
        // for people and unfurlers, docs/sharing.md) are the only functions it does not describe.
        string[] pages = [nameof(Sharing.SharePageFunctions.SharePage), nameof(Sharing.SharePageFunctions.SharePageEmbed), nameof(Sharing.SharePageFunctions.SharePageUnlock),
            nameof(Sharing.SharePageFunctions.SharePageVideo), nameof(Sharing.SharePageFunctions.SharePagePoster)];
        Assert.Equal(new[] { "OpenApiDocument", WebAppFunctions.FunctionName }.Concat(pages).Order(), metadata.Keys.Except(documented.Keys).Order());
        Assert.Equal(metadata.Values.Sum(v => v.Count), documented.Count + 1 + metadata[WebAppFunctions.FunctionName].Count + pages.Sum(p => metadata[p].Count));

        var served = host.Endpoints.SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods
            .Select(verb => $"{verb} {WithoutConstraints(e.RoutePattern.RawText!)}")).Order().ToList();
        Assert.Equal(metadata.SelectMany(f => f.Value).Order().ToList(), served);
    }

    /// <summary>
    /// The Functions host tries routes in function-name order (ignoring case) and takes the first that matches path and verb,
    /// where Kestrel takes the most specific. So no function's route may match another's literal path for a shared verb
    /// before it: then both hosts route every request alike, and the catch-all for unknown routes comes last.
    /// </summary>
    [Fact]
    public void InTheFunctionsHostsNameOrderNoRouteHidesAnother()
    {
        var functions = HttpFunctions.All.OrderBy(f => f.Name, StringComparer.OrdinalIgnoreCase).ToList();
        Assert.Equal(WebAppFunctions.FunctionName, functions[^1].Name);
        for (var i = 0; i < functions.Count; i++)
        {
            // The route's own path, each parameter filled with a value no literal segment has.
            var path = "/" + string.Join('/', functions[i].Route.Split('/').Select(s => s.StartsWith('{') ? "x-1" : s));
            foreach (var earlier in functions.Take(i).Where(f => f.Verbs.Intersect(functions[i].Verbs).Any()))
            {
                var matcher = new TemplateMatcher(TemplateParser.Parse(earlier.Route), []);
                Assert.False(matcher.TryMatch(path, []), $"{earlier.Name} ({earlier.Route}) would take {functions[i].Name}'s {path} in the Functions host");
            }
        }
    }
}
