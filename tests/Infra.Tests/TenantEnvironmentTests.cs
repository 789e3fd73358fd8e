using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace FentaWeb.Infra.Tests;

/// <summary>
/// infra/ compiled and linted by the real Bicep CLI (types of every Azure resource checked offline), and the ARM
/// template it produces checked for the card's shape and for least privilege: Function apps on their plan, the render
/// job's queue trigger by identity, private endpoints, Key Vault references instead of secrets, no storage keys, and
/// every role assignment's scope and role. The template keeps Bicep's symbolic names (language version 2.0), so
/// resources are looked up by them; values are ARM expressions, checked as written.
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

    private static JsonElement Resource(JsonElement template, string symbolicName) => template.GetProperty("resources").GetProperty(symbolicName);

    private static IEnumerable<(string Name, JsonElement Resource)> Resources(JsonElement template) =>
        template.GetProperty("resources").EnumerateObject().Select(r => (r.Name, r.Value));

    [Fact]
    public async Task TheTemplateBuildsAndPassesTheLinterWithoutWarnings()
    {
        var (exit, output, errors) = await BicepAsync(null, "lint", "main.bicep");
        Assert.True(exit == 0 && errors.Trim().Length == 0 && output.Trim().Length == 0, output + errors);
        var template = await TemplateAsync();
        Assert.Equal("2.0", template.GetProperty("languageVersion").GetString());
        Assert.Equal("[variables('apiUrl')]", template.GetProperty("outputs").GetProperty("apiUrl").GetProperty("value").GetString());
    }

    [Fact]
    public async Task TwoFunctionAppsRunAsContainersOnTheElasticPremiumPlanEachWithItsOwnIdentityInTheVNet()
    {
        var template = await TemplateAsync();
        var plan = Resource(template, "plan");
        Assert.Equal(("elastic", "ElasticPremium", true), (plan.GetProperty("kind").GetString(), plan.GetProperty("sku").GetProperty("tier").GetString(),
            plan.GetProperty("properties").GetProperty("reserved").GetBoolean()));
        foreach (var (app, identity, image) in new[] { ("apiApp", "api", "apiImage"), ("orchestrationsApp", "orchestrations", "orchestrationsImage") })
        {
            var site = Resource(template, app);
            var properties = site.GetProperty("properties");
            var config = properties.GetProperty("siteConfig");
            Assert.Equal("functionapp,linux,container", site.GetProperty("kind").GetString());
            Assert.Equal("[resourceId('Microsoft.Web/serverfarms', variables('names').plan)]", properties.GetProperty("serverFarmId").GetString());
            var identityId = $"[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{{0}}-{{1}}', parameters('environmentName'), variables('apps')[variables('{identity}')]))]";
            Assert.Equal("UserAssigned", site.GetProperty("identity").GetProperty("type").GetString());
            Assert.Equal(identityId, properties.GetProperty("keyVaultReferenceIdentity").GetString());
            Assert.Equal("[variables('subnets').functions]", properties.GetProperty("virtualNetworkSubnetId").GetString());
            Assert.True(config.GetProperty("vnetRouteAllEnabled").GetBoolean());
            Assert.Equal($"[format('DOCKER|{{0}}', parameters('{image}'))]", config.GetProperty("linuxFxVersion").GetString());
            Assert.True(config.GetProperty("acrUseManagedIdentityCreds").GetBoolean());
            Assert.Contains("__bicep.functionsSettings(", config.GetProperty("appSettings").GetString());
        }
        Assert.Equal("Disabled", Resource(template, "orchestrationsApp").GetProperty("properties").GetProperty("publicNetworkAccess").GetString());
        // The API's durable client names the orchestrations' hub; the API makes the other apps' database roles.
        var apiSettings = Resource(template, "apiApp").GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString()!;
        Assert.Contains("createObject('name', 'FENTA_TASK_HUB', 'value', variables('taskHubName'))", apiSettings);
        Assert.Equal("fentaweb", template.GetProperty("variables").GetProperty("taskHubName").GetString());
        Assert.Contains("'FENTA_DB_READWRITE_PRINCIPALS'", apiSettings);

        // Both apps' shared settings: identity-based host storage, Entra telemetry, the database by token.
        var settings = template.GetProperty("functions").EnumerateArray().SelectMany(ns => ns.GetProperty("members").EnumerateObject())
            .Single(f => f.Name == "functionsSettings").Value.GetProperty("output").GetProperty("value").EnumerateArray()
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString()!);
        Assert.Equal("dotnet-isolated", settings["FUNCTIONS_WORKER_RUNTIME"]);
        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("[parameters('clientId')]", settings["AzureWebJobsStorage__clientId"]);
        foreach (var service in new[] { "blob", "queue", "table" }) Assert.Contains($"AzureWebJobsStorage__{service}ServiceUri", settings.Keys);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys); // no connection string
        Assert.Equal("entra", settings["FENTA_DB_AUTH"]);
        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('clientId'))]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
    }

    [Fact]
    public async Task RendersRunAsAContainerAppsJobTriggeredByTheRenderQueueThroughItsIdentity()
    {
        var template = await TemplateAsync();
        var job = Resource(template, "renderJob").GetProperty("properties");
        var configuration = job.GetProperty("configuration");
        Assert.Equal("Event", configuration.GetProperty("triggerType").GetString());
        Assert.InRange(configuration.GetProperty("replicaTimeout").GetInt32(), 660, 1800); // a 10-minute render, its downloads and upload
        var trigger = configuration.GetProperty("eventTriggerConfig");
        Assert.Equal(1, trigger.GetProperty("parallelism").GetInt32());
        var rule = trigger.GetProperty("scale").GetProperty("rules").EnumerateArray().Single();
        Assert.Equal("azure-queue", rule.GetProperty("type").GetString());
        Assert.Equal("[variables('renderRequests')]", rule.GetProperty("metadata").GetProperty("queueName").GetString());
        Assert.Equal("render-requests", template.GetProperty("variables").GetProperty("renderRequests").GetString());
        Assert.Equal("[variables('names').runtimeStorage]", rule.GetProperty("metadata").GetProperty("accountName").GetString());
        var renderIdentity = "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{0}-{1}', parameters('environmentName'), variables('apps')[variables('render')]))]";
        Assert.Equal(renderIdentity, rule.GetProperty("identity").GetString());
        Assert.False(rule.TryGetProperty("auth", out _)); // no connection-string secret for KEDA
        Assert.Equal(renderIdentity, configuration.GetProperty("registries")[0].GetProperty("identity").GetString());
        var container = job.GetProperty("template").GetProperty("containers")[0];
        Assert.Equal(["worker", "--once"], container.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString());
        Assert.Equal("entra", env["FENTA_DB_AUTH"]);
        Assert.Contains("FENTA_STORAGE__queueServiceUri", env.Keys);
        Assert.DoesNotContain("FENTA_STORAGE", env.Keys); // no connection string
        // Its environment is inside the VNet, with no public endpoint.
        var network = Resource(template, "jobsEnvironment").GetProperty("properties").GetProperty("vnetConfiguration");
        Assert.Equal(("[variables('subnets').jobs]", true), (network.GetProperty("infrastructureSubnetId").GetString(), network.GetProperty("internal").GetBoolean()));
    }

    [Fact]
    public async Task RuntimeStorageKeyVaultAndTheDatabaseArePrivateAndNoKeyOrPasswordExists()
    {
        var template = await TemplateAsync();
        var text = template.GetRawText();
        foreach (var forbidden in new[] { "listKeys", "AccountKey", "accountKey", "administratorLoginPassword", "sharedKey", "secretRef" })
            Assert.DoesNotContain(forbidden, text);

        var runtime = Resource(template, "runtimeStorage").GetProperty("properties");
        Assert.Equal(("Disabled", false), (runtime.GetProperty("publicNetworkAccess").GetString(), runtime.GetProperty("allowSharedKeyAccess").GetBoolean()));
        // Media: public, because users and KIE.ai fetch through user delegation SAS links; still no shared key.
        var media = Resource(template, "mediaStorage").GetProperty("properties");
        Assert.Equal(("Enabled", false), (media.GetProperty("publicNetworkAccess").GetString(), media.GetProperty("allowSharedKeyAccess").GetBoolean()));
        Assert.Equal("Disabled", Resource(template, "vault").GetProperty("properties").GetProperty("publicNetworkAccess").GetString());
        Assert.True(Resource(template, "vault").GetProperty("properties").GetProperty("enableRbacAuthorization").GetBoolean());

        var endpoints = template.GetProperty("variables").GetProperty("runtimeEndpoints").EnumerateArray().Select(e => e.GetProperty("service").GetString());
        Assert.Equal(["blob", "queue", "table"], endpoints);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', variables('names').runtimeStorage)]",
            Resource(template, "runtimeEndpoint").GetProperty("properties").GetProperty("privateLinkServiceConnections")[0].GetProperty("properties").GetProperty("privateLinkServiceId").GetString());
        Assert.Equal("vault", Resource(template, "vaultEndpoint").GetProperty("properties").GetProperty("privateLinkServiceConnections")[0].GetProperty("properties").GetProperty("groupIds")[0].GetString());

        var postgres = Resource(template, "postgres").GetProperty("properties");
        Assert.Equal(("Enabled", "Disabled"), (postgres.GetProperty("authConfig").GetProperty("activeDirectoryAuth").GetString(), postgres.GetProperty("authConfig").GetProperty("passwordAuth").GetString()));
        Assert.Equal(("[variables('subnets').postgres]", "Disabled"), (postgres.GetProperty("network").GetProperty("delegatedSubnetResourceId").GetString(), postgres.GetProperty("network").GetProperty("publicNetworkAccess").GetString()));
    }

    [Fact]
    public async Task SecretsGoToKeyVaultOnlyAndTheAppsReadThemThroughKeyVaultReferences()
    {
        var template = await TemplateAsync();
        var parameters = template.GetProperty("parameters");
        foreach (var secret in new[] { "jwtSigningKey", "stripeSecretKey", "stripeWebhookSecret", "kieApiKey", "llmApiKey", "ttsApiKey", "asrApiKey", "pexelsApiKey", "smtpPassword" })
        {
            Assert.Equal("securestring", parameters.GetProperty(secret).GetProperty("type").GetString());
            // A secret parameter is read in one place: the list of values stored as Key Vault secrets.
            var uses = Resources(template).Count(r => r.Resource.GetRawText().Contains($"parameters('{secret}')", StringComparison.Ordinal));
            Assert.Equal(0, uses);
        }
        var stored = template.GetProperty("variables").GetProperty("secretValues").EnumerateArray().ToList();
        Assert.Equal("[parameters('jwtSigningKey')]", stored.Single(s => s.GetProperty("setting").GetString() == "FENTA_JWT_SIGNING_KEY").GetProperty("value").GetString());
        Assert.Equal("Microsoft.KeyVault/vaults/secrets", Resource(template, "secrets").GetProperty("type").GetString());
        foreach (var app in new[] { "apiSecretSettings", "orchestrationsSecretSettings" })
            Assert.Contains("format('@Microsoft.KeyVault(VaultName={0};SecretName={1})', variables('names').vault", template.GetProperty("variables").GetProperty(app).GetString());
        Assert.Contains("variables('apiSecretSettings')", Resource(template, "apiApp").GetRawText());
        Assert.Contains("variables('orchestrationsSecretSettings')", Resource(template, "orchestrationsApp").GetRawText());
    }

    [Fact]
    public async Task EachIdentityHasExactlyTheRolesItNeedsAndNoBroaderOnes()
    {
        var template = await TemplateAsync();
        var roles = template.GetProperty("variables").GetProperty("roles").EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetString());
        // Built-in role ids, as Azure defines them.
        Assert.Equal(new Dictionary<string, string?>
        {
            ["blobDataOwner"] = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", ["blobDataContributor"] = "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
            ["queueDataContributor"] = "974c5e8b-45b9-4653-ba55-5f855dd0fb88", ["tableDataContributor"] = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
            ["acrPull"] = "7f951dda-4ed3-4680-a7ca-43fe172d538d", ["keyVaultSecretsUser"] = "4633458b-17de-408a-b874-0445c86b69e6",
            ["monitoringMetricsPublisher"] = "3913510d-42f4-4e42-8a64-420c390055eb",
        }, roles);

        // Every role assignment: (scope, role, who) as written.
        const string Registry = "[resourceId('Microsoft.ContainerRegistry/registries', parameters('containerRegistryName'))]";
        const string Runtime = "[resourceId('Microsoft.Storage/storageAccounts', variables('names').runtimeStorage)]";
        var expected = new Dictionary<string, (string Scope, string Role, string Who)>
        {
            ["acrPull"] = (Registry, "variables('roles').acrPull", "every app"),
            ["runtimeForFunctions"] = (Runtime, "functionsHostRoles", "functionApps"),
            ["mediaForFunctions"] = ("[resourceId('Microsoft.Storage/storageAccounts', variables('names').mediaStorage)]", "variables('roles').blobDataContributor", "functionApps"),
            ["secretsForFunctions"] = ("[resourceId('Microsoft.KeyVault/vaults', variables('names').vault)]", "variables('roles').keyVaultSecretsUser", "functionApps"),
            ["telemetryForFunctions"] = ("[resourceId('Microsoft.Insights/components', variables('names').insights)]", "variables('roles').monitoringMetricsPublisher", "functionApps"),
            ["renderRequestsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', variables('names').runtimeStorage, 'default', variables('renderRequests'))]", "variables('roles').queueDataContributor", "render"),
            ["renderResultsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', variables('names').runtimeStorage, 'default', variables('renderResults'))]", "variables('roles').queueDataContributor", "render"),
            ["requestBlobsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('names').runtimeStorage, 'default', variables('renderRequests'))]", "variables('roles').blobDataContributor", "render"),
            ["assetsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('names').mediaStorage, 'default', 'assets')]", "variables('roles').blobDataContributor", "render"),
        };
        var assignments = Resources(template).Where(r => r.Resource.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments").ToList();
        Assert.Equal(expected.Keys.Order(), assignments.Select(a => a.Name).Order());
        foreach (var (name, assignment) in assignments)
        {
            var (scope, role, who) = expected[name];
            Assert.Equal((name, scope), (name, assignment.GetProperty("scope").GetString()));
            var properties = assignment.GetProperty("properties");
            var copy = assignment.TryGetProperty("copy", out var loop) ? loop.GetRawText() : "";
            Assert.Contains(role, properties.GetProperty("roleDefinitionId").GetString() + copy + assignment.GetProperty("name").GetString());
            Assert.Equal("ServicePrincipal", properties.GetProperty("principalType").GetString());
            var principal = properties.GetProperty("principalId").GetString()!;
            switch (who)
            {
                case "render": Assert.Equal("[reference(format('identities[{0}]', variables('render'))).principalId]", principal); break;
                case "functionApps": Assert.Contains("variables('functionApps')", copy + principal); break;
                default: Assert.Equal("[length(variables('apps'))]", assignment.GetProperty("copy").GetProperty("count").GetString()); break;
            }
        }
        // Blob Data Owner (which the Functions host needs on its own storage) goes to the two Function apps on the runtime account only.
        Assert.Equal(["[variables('roles').blobDataOwner]", "[variables('roles').queueDataContributor]", "[variables('roles').tableDataContributor]"],
            template.GetProperty("variables").GetProperty("functionsHostRoles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["[variables('api')]", "[variables('orchestrations')]"], template.GetProperty("variables").GetProperty("functionApps").EnumerateArray().Select(r => r.GetString()));
        Assert.DoesNotContain("blobDataOwner", string.Join("", assignments.Where(a => a.Name != "runtimeForFunctions").Select(a => a.Resource.GetRawText())));
    }

    [Fact]
    public async Task TheDeployScriptParsesBuildsEveryImageAndDeploysTheTemplateWithItsParameters()
    {
        var script = Path.Combine(Infra, "deploy.sh");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
        start.ArgumentList.Add("-n");
        start.ArgumentList.Add(script);
        using var bash = Process.Start(start)!;
        var syntax = await bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.True(bash.ExitCode == 0, syntax);
        var text = await File.ReadAllTextAsync(script);
        foreach (var dockerfile in new[] { "api:src/Functions.Api", "orchestrations:src/Functions.Orchestrations", "render:src/Render.Container" })
            Assert.Contains(dockerfile, text);
        Assert.Contains("az acr build", text);
        Assert.Contains("az deployment group create -g \"$FENTA_RESOURCE_GROUP\" -n \"fentaweb-$tag\" -f infra/main.bicep -p infra/main.bicepparam", text);
        // Every image the parameters file reads is set by the script.
        foreach (var image in new[] { "FENTA_API_IMAGE", "FENTA_ORCHESTRATIONS_IMAGE", "FENTA_RENDER_IMAGE" })
        {
            Assert.Contains($"export {image}=", text);
            Assert.Contains($"readEnvironmentVariable('{image}'", await File.ReadAllTextAsync(Path.Combine(Infra, "main.bicepparam")));
        }
    }

    [Fact]
    public async Task TheExampleParametersBuildWithSecretsFromTheEnvironment()
    {
        var secrets = new Dictionary<string, string>
        {
            ["FENTA_JWT_SIGNING_KEY"] = new('j', 40),
            ["FENTA_KIE_API_KEY"] = "kie-test-key",
            ["FENTA_SMTP_HOST"] = "smtp.acme.example",
            ["FENTA_SMTP_PASSWORD"] = "smtp-test-password",
        };
        var (exit, json, errors) = await BicepAsync(secrets, "build-params", "main.bicepparam", "--stdout");
        Assert.True(exit == 0, errors);
        var parameters = JsonDocument.Parse(JsonDocument.Parse(json).RootElement.GetProperty("parametersJson").GetString()!).RootElement.GetProperty("parameters");
        Assert.Equal(new string('j', 40), parameters.GetProperty("jwtSigningKey").GetProperty("value").GetString());
        Assert.Equal("kie-test-key", parameters.GetProperty("kieApiKey").GetProperty("value").GetString());
        Assert.Equal("smtp-test-password", parameters.GetProperty("smtpPassword").GetProperty("value").GetString());
        Assert.Equal(("smtp.acme.example", 587), (parameters.GetProperty("smtpHost").GetProperty("value").GetString(), parameters.GetProperty("smtpPort").GetProperty("value").GetInt32()));
        Assert.Equal("", parameters.GetProperty("stripeSecretKey").GetProperty("value").GetString());
        Assert.Equal("acme-prod", parameters.GetProperty("environmentName").GetProperty("value").GetString());
    }
}
