using System.Text.Json;
using System.Text.RegularExpressions;

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
        // The document itself is the only function it does not describe.
        Assert.Equal(["OpenApiDocument"], metadata.Keys.Except(documented.Keys));
        Assert.Equal(metadata.Values.Sum(v => v.Count), documented.Count + 1);

        var served = host.Endpoints.SelectMany(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()!.HttpMethods
            .Select(verb => $"{verb} {WithoutConstraints(e.RoutePattern.RawText!)}")).Order().ToList();
        Assert.Equal(metadata.Values.SelectMany(v => v).Order().ToList(), served);
    }
}
