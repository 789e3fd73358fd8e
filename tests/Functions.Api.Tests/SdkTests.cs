using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The client libraries of seed 000 (sdk/js: <c>@fentaweb/sdk</c>; sdk/python: <c>fentaweb</c>; sdk/go:
/// <c>github.com/fentaweb/sdk-go</c>) run their own suites against this API, with workers running the jobs they start,
/// and cover every endpoint of the OpenAPI document.
/// </summary>
public class SdkTests(SdkTests.Host host) : IClassFixture<SdkTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override bool RunsWorker => true;
    }

    /// <summary>
    /// Endpoints no client calls: the ones KIE.ai and Stripe call, the health probes, and a voice's sample, audio for the
    /// web app's voice picker (the clients read JSON).
    /// </summary>
    private static readonly string[] NotForClients =
        ["POST /v1/kai/callbacks/{token}", "POST /v1/billing/stripe/webhook", "GET /healthz", "GET /readyz", "GET /v1/voices/{provider}/{voice}/sample"];

    private static string Sdk(string language) => Path.GetFullPath(Path.Combine(
        typeof(SdkTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "Sdk").Value!, language));

    [Theory]
    [InlineData("js", "node", new[] { "--input-type=module", "-e", "import { OPERATIONS } from './index.js'; console.log(JSON.stringify(OPERATIONS));" })]
    [InlineData("python", "python3", new[] { "-c", "import json, fentaweb; print(json.dumps(fentaweb.OPERATIONS))" })]
    [InlineData("go", "go", new[] { "run", "./cmd/operations" })]
    public async Task TheClientHasAnOperationForEveryEndpoint(string language, string runtime, string[] arguments)
    {
        var document = await (await host.Client().GetAsync("/openapi/v1.json")).ReadJsonAsync(200);
        var endpoints = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))
            .Except(NotForClients).Order().ToList();
        var (code, output) = await RunAsync(runtime, arguments, Sdk(language));
        Assert.True(code == 0, output);
        var operations = JsonDocument.Parse(output).RootElement.EnumerateObject()
            .SelectMany(resource => resource.Value.EnumerateObject().Select(method => method.Value.GetString()!)).Order().ToList();
        Assert.Equal(endpoints, operations);
    }

    [Theory]
    [InlineData("js", "node", new[] { "--test", "--test-reporter=spec", "test/" })]
    [InlineData("python", "python3", new[] { "-m", "unittest", "discover", "--start-directory", "tests", "--verbose" })]
    [InlineData("go", "go", new[] { "test", "-count=1", "-v", "./..." })]
    public async Task TheClientsOwnSuitePassesAgainstTheApi(string language, string runtime, string[] arguments)
    {
        // Minting a key needs a verified address, as for any user.
        var session = await host.RegisterVerifiedAsync();
        var key = await (await session.Client().PostAsJsonAsync("/v1/api-keys", new
        {
            name = $"{language} client",
            scopes = new[] { "workflows:read", "workflows:write", "jobs:execute", "assets:upload", "billing:view" },
        })).ReadJsonAsync(201);
        var environment = new Dictionary<string, string>
        {
            ["FENTAWEB_BASE_URL"] = host.BaseAddress.ToString().TrimEnd('/'),
            ["FENTAWEB_API_KEY"] = key.GetProperty("key").GetString()!,
            // Uploads go to the tests' Azurite over HTTPS with the certificate ./test.sh made; Python trusts it through
            // SSL_CERT_FILE, which this process already has, Node through this.
            ["NODE_EXTRA_CA_CERTS"] = Environment.GetEnvironmentVariable("FENTA_AZURITE_CERT") ?? "",
        };
        var (code, output) = await RunAsync(runtime, arguments, Sdk(language), environment);
        Assert.True(code == 0, output);
    }

    /// <summary>Runs a client's tool in its folder. Go builds in caches of its own (HOME may be unset under CI) and never
    /// fetches: the client has no dependencies.</summary>
    private static Task<(int Exit, string Output)> RunAsync(string file, string[] arguments, string folder, IReadOnlyDictionary<string, string>? environment = null) =>
        LocalTools.RunAsync(file, arguments, folder, new Dictionary<string, string>(environment ?? new Dictionary<string, string>())
        {
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "fenta-go-cache"),
            ["GOPATH"] = Path.Combine(Path.GetTempPath(), "fenta-go-path"),
            ["GOPROXY"] = "off",
            ["GOFLAGS"] = "-mod=mod",
        });
}
