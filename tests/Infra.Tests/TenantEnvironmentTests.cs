using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace FentaWeb.Infra.Tests;

/// <summary>
/// infra/ compiled and linted by the real Bicep CLI (types of every Azure resource checked offline), and the ARM
/// template it produces checked for what the product needs to run: settings, secrets kept as secrets, the shared file
/// share, health probes and the render queue's scaler.
/// </summary>
public class TenantEnvironmentTests
{
    private static string Metadata(string key) => typeof(TenantEnvironmentTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private static readonly string Infra = Path.GetFullPath(Metadata("Infra"));

    private static async Task<(int Exit, string Out, string Err)> BicepAsync(IDictionary<string, string>? environment = null, params string[] args)
    {
        var bicep = Metadata("Bicep");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(bicep, File.GetUnixFileMode(bicep) | UnixFileMode.UserExecute);
        var start = new ProcessStartInfo(bicep) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Infra };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var (stdout, stderr) = (process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync());
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, await stderr);
    }

    private static async Task<JsonElement> TemplateAsync()
    {
        var (exit, json, errors) = await BicepAsync(null, "build", "main.bicep", "--stdout");
        Assert.True(exit == 0, errors);
        Assert.Equal("", errors.Trim()); // no warnings either
        return JsonDocument.Parse(json).RootElement;
    }

    // Names and settings are ARM expressions once compiled ("[variables('names').api]"), so apps are found by them.
    private static JsonElement App(JsonElement template, string role) => template.GetProperty("resources").EnumerateArray()
        .Single(r => r.GetProperty("type").GetString() == "Microsoft.App/containerApps" && r.GetProperty("name").GetString() == $"[variables('names').{role}]");

    [Fact]
    public async Task TheTemplateBuildsAndPassesTheLinterWithoutWarnings()
    {
        var (exit, output, errors) = await BicepAsync(null, "lint", "main.bicep");
        Assert.True(exit == 0 && errors.Trim().Length == 0 && output.Trim().Length == 0, output + errors);
        var template = await TemplateAsync();
        var types = template.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("type").GetString()).ToList();
        Assert.Contains(template.GetProperty("resources").EnumerateArray(), r => r.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments"
            && r.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!.Contains("ba92f5b4-2d11-453d-a403-e96b0029c9fe")); // Storage Blob Data Contributor
        foreach (var type in new[] { "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforPostgreSQL/flexibleServers/databases",
                     "Microsoft.Storage/storageAccounts/blobServices/containers",
                     "Microsoft.Storage/storageAccounts/fileServices/shares", "Microsoft.App/managedEnvironments", "Microsoft.App/managedEnvironments/storages" })
            Assert.Contains(type, types);
        Assert.Equal(3, types.Count(t => t == "Microsoft.App/containerApps"));
    }

    [Fact]
    public async Task EveryProcessGetsTheDatabaseAndKeysAsSecretsTheBlobContainerAndTheSharedStockFolder()
    {
        var template = await TemplateAsync();
        // The same settings for every process, secrets only by reference, and the shared file share mounted.
        Assert.Equal("[variables('storageMount')]", template.GetProperty("variables").GetProperty("volumeMounts")[0].GetProperty("mountPath").GetString());
        Assert.Equal("/mnt/fenta", template.GetProperty("variables").GetProperty("storageMount").GetString());
        foreach (var role in new[] { "api", "worker", "render" })
        {
            var container = App(template, role).GetProperty("properties").GetProperty("template").GetProperty("containers")[0];
            var env = container.GetProperty("env").GetString()!;
            foreach (var secret in new[] { "FENTA_DB", "FENTA_JWT_SIGNING_KEY" })
                Assert.Contains($"createObject('name', '{secret}', 'secretRef',", env);
            // Asset links are user delegation SAS signed through the identity: no signing key of our own.
            Assert.DoesNotContain("FENTA_URL_SIGNING_KEY", env);
            // Asset bytes in the Blob container, reached with the apps' user-assigned identity (no account key).
            Assert.Contains("createObject('name', 'FENTA_AZURE_BLOB_URL', 'value', format('{0}{1}', reference(resourceId('Microsoft.Storage/storageAccounts', variables('names').storage), '2023-05-01').primaryEndpoints.blob, 'assets'))", env);
            Assert.Contains("createObject('name', 'AZURE_CLIENT_ID', 'value', reference(resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', variables('names').identity), '2023-01-31').clientId)", env);
            Assert.DoesNotContain("FENTA_AZURE_BLOB_KEY", env);
            Assert.Contains("createObject('name', 'FENTA_STOCK_DIR', 'value', format('{0}/stock', variables('storageMount')))", env);
            Assert.DoesNotContain("parameters('jwtSigningKey')", env);
            Assert.Equal("[variables('volumeMounts')]", container.GetProperty("volumeMounts").GetString());
        }
        var parameters = template.GetProperty("parameters");
        foreach (var secret in new[] { "postgresAdminPassword", "jwtSigningKey", "kieApiKey", "pexelsApiKey", "llmApiKey" })
            Assert.Equal("securestring", parameters.GetProperty(secret).GetProperty("type").GetString());
    }

    [Fact]
    public async Task TheApiIsPublicWithHealthProbesAndRendersScaleOnTheRenderQueue()
    {
        var template = await TemplateAsync();
        var api = App(template, "api").GetProperty("properties");
        Assert.True(api.GetProperty("configuration").GetProperty("ingress").GetProperty("external").GetBoolean());
        var probes = api.GetProperty("template").GetProperty("containers")[0].GetProperty("probes").EnumerateArray()
            .ToDictionary(p => p.GetProperty("type").GetString()!, p => p.GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal(("/healthz", "/readyz"), (probes["Liveness"], probes["Readiness"]));
        Assert.False(App(template, "worker").GetProperty("properties").GetProperty("configuration").TryGetProperty("ingress", out _));

        var rule = App(template, "render").GetProperty("properties").GetProperty("template").GetProperty("scale").GetProperty("rules")[0].GetProperty("custom");
        Assert.Equal("azure-queue", rule.GetProperty("type").GetString());
        Assert.Equal("render-requests", rule.GetProperty("metadata").GetProperty("queueName").GetString());
    }

    [Fact]
    public async Task TheExampleParametersBuildWithSecretsFromTheEnvironment()
    {
        var secrets = new Dictionary<string, string>
        {
            ["FENTA_PG_ADMIN_PASSWORD"] = "a-Strong-password-1",
            ["FENTA_JWT_SIGNING_KEY"] = new('j', 40),
        };
        var (exit, json, errors) = await BicepAsync(secrets, "build-params", "main.bicepparam", "--stdout");
        Assert.True(exit == 0, errors);
        var parameters = JsonDocument.Parse(JsonDocument.Parse(json).RootElement.GetProperty("parametersJson").GetString()!).RootElement.GetProperty("parameters");
        Assert.Equal(new string('j', 40), parameters.GetProperty("jwtSigningKey").GetProperty("value").GetString());
        Assert.Equal("acme-prod", parameters.GetProperty("environmentName").GetProperty("value").GetString());
    }
}
