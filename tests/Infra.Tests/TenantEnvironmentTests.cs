using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using FentaWeb.Runs;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

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
        // The API's durable client names the orchestrations' hub; the migrate job, not the API, makes the database roles.
        var apiSettings = Resource(template, "apiApp").GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString()!;
        Assert.Contains("createObject('name', 'FENTA_TASK_HUB', 'value', variables('taskHubName'))", apiSettings);
        Assert.Equal("fentaweb", template.GetProperty("variables").GetProperty("taskHubName").GetString());
        Assert.DoesNotContain("FENTA_DB_READWRITE_PRINCIPALS", apiSettings);

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
        Assert.Equal("false", settings["FENTA_MIGRATE_ON_START"]);
        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('clientId'))]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
    }

    [Fact]
    public async Task MigrationsRunAsAManualJobOfTheApiImageUnderTheDatabaseAdministratorIdentityOfTheirOwn()
    {
        var template = await TemplateAsync();
        const string MigrateIdentity = "[resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', format('id-{0}-{1}', parameters('environmentName'), variables('apps')[variables('migrate')]))]";
        var job = Resource(template, "migrateJob");
        Assert.Equal([$"[format('{{0}}', {MigrateIdentity[1..^1]})]"], job.GetProperty("identity").GetProperty("userAssignedIdentities").EnumerateObject().Select(i => i.Name));
        var configuration = job.GetProperty("properties").GetProperty("configuration");
        Assert.Equal("Manual", configuration.GetProperty("triggerType").GetString());
        Assert.Equal(0, configuration.GetProperty("replicaRetryLimit").GetInt32());
        Assert.Equal(MigrateIdentity, configuration.GetProperty("registries")[0].GetProperty("identity").GetString());

        // The API's image, its worker started directly (the image's entry point is the Functions host) with `migrate`:
        // the path is where the API's Dockerfile publishes, the file the API project's assembly.
        var container = job.GetProperty("properties").GetProperty("template").GetProperty("containers").EnumerateArray().Single();
        Assert.Equal("[parameters('apiImage')]", container.GetProperty("image").GetString());
        var command = container.GetProperty("command").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.Equal("dotnet", command[0]);
        Assert.Equal(["migrate"], container.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        var dockerfile = await File.ReadAllTextAsync(Path.Combine(Infra, "..", "src", "Functions.Api", "Dockerfile"));
        Assert.Contains($"-o {Path.GetDirectoryName(command[1])}", dockerfile);
        var project = await File.ReadAllTextAsync(Path.Combine(Infra, "..", "src", "Functions.Api", "Functions.Api.csproj"));
        Assert.Contains($"<AssemblyName>{Path.GetFileNameWithoutExtension(command[1])}</AssemblyName>", project);

        var env = container.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString());
        Assert.Equal("entra", env["FENTA_DB_AUTH"]);
        Assert.Contains("variables('apps')[variables('migrate')]", env["FENTA_DB"]);
        Assert.Contains("variables('migrateDbPoolSize')", env["FENTA_DB"]);
        // It grants the three identities that use the tables: the two apps and the render job.
        foreach (var app in new[] { "api", "orchestrations", "render" })
            Assert.Contains($"reference(format('identities[{{0}}]', variables('{app}'))).principalId", env["FENTA_DB_READWRITE_PRINCIPALS"]);

        // The database's administrators: the Entra group and the migrate job's identity; no app is one.
        var admin = Resource(template, "databaseAdmin").GetProperty("properties").GetProperty("parameters");
        Assert.Equal("[reference(format('identities[{0}]', variables('migrate'))).principalId]", admin.GetProperty("principalId").GetProperty("value").GetString());
        var administrators = Resources(template).Where(r => r.Resource.TryGetProperty("properties", out var p) && p.TryGetProperty("template", out var t)
            && t.GetRawText().Contains("Microsoft.DBforPostgreSQL/flexibleServers/administrators")).Select(r => r.Name).Order();
        Assert.Equal(["databaseAdmin", "databaseAdminGroup"], administrators);

        // deploy.sh runs it after the template, before waiting for the API to be ready.
        var deploy = await File.ReadAllTextAsync(Path.Combine(Infra, "deploy.sh"));
        Assert.Contains("properties.outputs.migrateJob.value", deploy);
        Assert.True(deploy.IndexOf("infra/migrate.sh \"$FENTA_RESOURCE_GROUP\"", StringComparison.Ordinal) > deploy.IndexOf("az deployment group create", StringComparison.Ordinal));
        Assert.True(deploy.IndexOf("infra/migrate.sh \"$FENTA_RESOURCE_GROUP\"", StringComparison.Ordinal) < deploy.IndexOf("/readyz", StringComparison.Ordinal));
    }

    /// <summary>infra/migrate.sh against a stand-in for az that answers as the Container Apps commands do and records each call.</summary>
    private static async Task<(int Exit, string Errors, string[] Calls)> MigrateScriptAsync(string statuses, params string[] args)
    {
        var folder = Directory.CreateTempSubdirectory("fake-az-").FullName;
        try
        {
            var az = Path.Combine(folder, "az");
            await File.WriteAllTextAsync(az, $$$"""
                #!/usr/bin/env bash
                echo "$*" >> "{{{folder}}}/calls"
                case "$1 $2 $3" in
                  "containerapp job start") echo job-acme-migrate-x7k2p ;;
                  "containerapp job execution")
                    n=$(cat "{{{folder}}}/polls" 2>/dev/null || echo 0); echo $((n + 1)) > "{{{folder}}}/polls"
                    statuses=({{{statuses}}}); echo "${statuses[$n]:-${statuses[-1]}}" ;;
                esac
                """);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var start = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true };
            start.ArgumentList.Add(Path.Combine(Infra, "migrate.sh"));
            foreach (var arg in args) start.ArgumentList.Add(arg);
            start.Environment["PATH"] = folder + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["FENTA_MIGRATE_POLL_SECONDS"] = "0";
            start.Environment["FENTA_MIGRATE_WAIT_SECONDS"] = "2";
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await errors, await File.ReadAllLinesAsync(Path.Combine(folder, "calls")));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public async Task TheMigrateScriptWaitsForTheJobsExecutionAndFailsNamingItWhenItFails()
    {
        var succeeded = await MigrateScriptAsync("Running Running Succeeded", "rg-acme", "job-acme-migrate");
        Assert.True(succeeded.Exit == 0, succeeded.Errors);
        Assert.Equal("containerapp job start -g rg-acme -n job-acme-migrate --query name -o tsv", succeeded.Calls[0]);
        Assert.Equal(3, succeeded.Calls.Count(c => c.Contains("--job-execution-name job-acme-migrate-x7k2p")));

        var failed = await MigrateScriptAsync("Running Failed", "rg-acme", "job-acme-migrate");
        Assert.NotEqual(0, failed.Exit);
        Assert.Contains("execution job-acme-migrate-x7k2p of job-acme-migrate ended Failed", failed.Errors);

        // azd's path: the job first takes the image just deployed, so the migrations are the new build's.
        var withImage = await MigrateScriptAsync("Succeeded", "rg-acme", "job-acme-migrate", "acr.example/fentaweb-api:abc");
        Assert.True(withImage.Exit == 0, withImage.Errors);
        Assert.Equal("containerapp job update -g rg-acme -n job-acme-migrate --image acr.example/fentaweb-api:abc -o none", withImage.Calls[0]);
        Assert.StartsWith("containerapp job start", withImage.Calls[1]);

        var stuck = await MigrateScriptAsync("Running", "rg-acme", "job-acme-migrate");
        Assert.NotEqual(0, stuck.Exit);
        Assert.Contains("still Running after 2s", stuck.Errors);
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
        foreach (var secret in new[] { "jwtSigningKey", "stripeSecretKey", "stripeWebhookSecret", "kieApiKey", "llmApiKey", "ttsApiKey", "asrApiKey", "pexelsApiKey", "smtpPassword",
                     "youtubeClientSecret", "tiktokClientSecret", "instagramClientSecret", "keyRingCertificate" })
        {
            Assert.Equal("securestring", parameters.GetProperty(secret).GetProperty("type").GetString());
            // A secret parameter is read in one place: the list of values stored as Key Vault secrets.
            var uses = Resources(template).Count(r => r.Resource.GetRawText().Contains($"parameters('{secret}')", StringComparison.Ordinal));
            Assert.Equal(0, uses);
        }
        var stored = template.GetProperty("variables").GetProperty("secretValues");
        // A given key rotates; else the generated one, only when the vault has none.
        Assert.Equal("[if(not(empty(parameters('jwtSigningKey'))), parameters('jwtSigningKey'), if(parameters('jwtSigningKeyInVault'), '', parameters('generatedJwtSigningKey')))]",
            stored.GetProperty("jwt-signing-key").GetString());
        Assert.Contains("newGuid()", parameters.GetProperty("generatedJwtSigningKey").GetProperty("defaultValue").GetString());
        Assert.Equal("Microsoft.KeyVault/vaults/secrets", Resource(template, "secrets").GetProperty("type").GetString());
        Assert.Contains("not(empty(lambdaVariables('s').value))", template.GetProperty("variables").GetProperty("secretsToStore").GetString());
        foreach (var app in new[] { "apiSecretSettings", "orchestrationsSecretSettings" })
            Assert.Contains("__bicep.keyVaultReference(variables('names').vault, lambdaVariables('s').name)", template.GetProperty("variables").GetProperty(app).GetString());
        var reference = template.GetProperty("functions").EnumerateArray().SelectMany(ns => ns.GetProperty("members").EnumerateObject())
            .Single(f => f.Name == "keyVaultReference").Value.GetProperty("output").GetProperty("value").GetString();
        Assert.Equal("[format('@Microsoft.KeyVault(SecretUri=https://{0}{1}/secrets/{2}/)', parameters('vaultName'), environment().suffixes.keyvaultDns, parameters('secretName'))]", reference);
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
        const string Runtime = "[resourceId('Microsoft.Storage/storageAccounts', variables('names').runtimeStorage)]";
        var expected = new Dictionary<string, (string Scope, string Role, string Who)>
        {
            ["runtimeForFunctions"] = (Runtime, "functionsHostRoles", "functionApps"),
            ["mediaForFunctions"] = ("[resourceId('Microsoft.Storage/storageAccounts', variables('names').mediaStorage)]", "variables('roles').blobDataContributor", "functionApps"),
            // Per secret, not per vault (SecretGrantsFollowTheSecretsEachAppReads has who gets which).
            ["secretsForFunctions"] = ("[resourceId('Microsoft.KeyVault/vaults/secrets', variables('names').vault, variables('referencedSecrets')[variables('secretGrants')[copyIndex()].secret].name)]", "variables('roles').keyVaultSecretsUser", "secretGrants"),
            ["telemetryForFunctions"] = ("[resourceId('Microsoft.Insights/components', variables('names').insights)]", "variables('roles').monitoringMetricsPublisher", "apps and render"),
            ["renderRequestsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', variables('names').runtimeStorage, 'default', variables('renderRequests'))]", "variables('roles').queueDataContributor", "render"),
            ["renderResultsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', variables('names').runtimeStorage, 'default', variables('renderResults'))]", "variables('roles').queueDataContributor", "render"),
            ["requestBlobsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('names').runtimeStorage, 'default', variables('renderRequests'))]", "variables('roles').blobDataContributor", "render"),
            ["assetsForRender"] = ("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('names').mediaStorage, 'default', 'assets')]", "variables('roles').blobDataContributor", "render"),
            // The key ring of the platforms' tokens: its container only.
            ["keyRingForFunctions"] = ("[resourceId('Microsoft.Storage/storageAccounts/blobServices/containers', variables('names').runtimeStorage, 'default', variables('keyRing'))]", "variables('roles').blobDataContributor", "functionApps"),
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
                case "secretGrants": Assert.Equal("[reference(format('identities[{0}]', variables('secretGrants')[copyIndex()].app)).principalId]", principal); break;
                default: Assert.Equal("[length(createArray(variables('api'), variables('orchestrations'), variables('render')))]", assignment.GetProperty("copy").GetProperty("count").GetString()); break;
            }
        }
        // Blob Data Owner (which the Functions host needs on its own storage) goes to the two Function apps on the runtime account only.
        Assert.Equal(["[variables('roles').blobDataOwner]", "[variables('roles').queueDataContributor]", "[variables('roles').tableDataContributor]"],
            template.GetProperty("variables").GetProperty("functionsHostRoles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(["[variables('api')]", "[variables('orchestrations')]"], template.GetProperty("variables").GetProperty("functionApps").EnumerateArray().Select(r => r.GetString()));
        Assert.DoesNotContain("blobDataOwner", string.Join("", assignments.Where(a => a.Name != "runtimeForFunctions").Select(a => a.Resource.GetRawText())));
        // AcrPull on the shared registry, in its own resource group, for every identity (the migrate job pulls the API's image).
        var acrPull = Resource(template, "acrPull");
        Assert.Equal(("[variables('registryIdParts')[2]]", "[variables('registryIdParts')[4]]"),
            (acrPull.GetProperty("subscriptionId").GetString(), acrPull.GetProperty("resourceGroup").GetString()));
        Assert.Equal("[length(variables('apps'))]", acrPull.GetProperty("properties").GetProperty("parameters").GetProperty("principalIds").GetProperty("copy")[0].GetProperty("count").GetString());
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
        Assert.Contains("az deployment group create -g \"$FENTA_RESOURCE_GROUP\" -n \"fentaweb-$tag\" -f infra/main.bicep -p \"$params\"", text);
        Assert.Contains("params=infra/tenants/$FENTA_ENVIRONMENT.bicepparam", text);
        // Checks before anything is created, the pinned Bicep, the vault's recovery, and no signing key on the deployer's disk.
        Assert.True(text.IndexOf("infra/check-environment.sh", StringComparison.Ordinal) < text.IndexOf("az group create", StringComparison.Ordinal));
        Assert.Contains("az bicep install --version", text);
        Assert.Contains("FENTA_RECOVER_KEY_VAULT=true", text);
        Assert.Contains("FENTA_JWT_SIGNING_KEY_IN_VAULT", text);
        Assert.DoesNotContain("jwt.key", text);
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

    private static JsonElement Param(JsonElement template, string name) => template.GetProperty("parameters").GetProperty(name);

    private static async Task<JsonElement> ParametersAsync(string file, IDictionary<string, string> environment)
    {
        var (exit, json, errors) = await BicepAsync(environment, "build-params", file, "--stdout");
        Assert.True(exit == 0, errors);
        return JsonDocument.Parse(JsonDocument.Parse(json).RootElement.GetProperty("parametersJson").GetString()!).RootElement.GetProperty("parameters");
    }

    [Fact]
    public async Task BothFunctionAppsMonitorTheirOwnScaleAndHaveNoBasicPublishingCredentials()
    {
        var template = await TemplateAsync();
        foreach (var (app, prefix) in new[] { ("apiApp", "api"), ("orchestrationsApp", "orchestrations") })
        {
            Assert.True(Resource(template, app).GetProperty("properties").GetProperty("siteConfig").GetProperty("functionsRuntimeScaleMonitoringEnabled").GetBoolean());
            foreach (var policy in new[] { "ftp", "scm" })
            {
                var resource = Resource(template, $"{prefix}{char.ToUpperInvariant(policy[0])}{policy[1..]}Publishing");
                Assert.Equal("Microsoft.Web/sites/basicPublishingCredentialsPolicies", resource.GetProperty("type").GetString());
                Assert.EndsWith($"'{policy}')]", resource.GetProperty("name").GetString());
                Assert.False(resource.GetProperty("properties").GetProperty("allow").GetBoolean());
            }
        }
    }

    [Fact]
    public async Task SecretGrantsFollowTheSecretsEachAppReads()
    {
        var template = await TemplateAsync();
        // Who reads what (docs/configuration.md): src/Functions.Api reads the signing key, Stripe, SMTP, the LLM (enrichment); the workers the providers.
        var catalog = template.GetProperty("variables").GetProperty("secretCatalog").EnumerateArray()
            .ToDictionary(s => s.GetProperty("name").GetString()!, s => (Api: s.GetProperty("api").GetBoolean(), Orchestrations: s.GetProperty("orchestrations").GetBoolean()));
        Assert.Equal((true, false), catalog["jwt-signing-key"]);
        Assert.Equal((true, false), catalog["smtp-password"]);
        Assert.Equal((true, false), catalog["stripe-webhook-secret"]);
        foreach (var workerOnly in new[] { "tts-api-key", "asr-api-key" }) Assert.Equal((false, true), catalog[workerOnly]);
        // The API's enrichment and the workers' script nodes call the same LLM.
        Assert.Equal((true, true), catalog["llm-api-key"]);
        // Publishing: the API exchanges codes and revokes, the workers refresh, upload and read statistics; both share the key ring.
        foreach (var both in new[] { "youtube-client-secret", "tiktok-client-secret", "instagram-client-secret", "fenta-key-ring" }) Assert.Equal((true, true), catalog[both]);
        // One grant per (secret, app that reads it), scoped to the secret.
        var grants = template.GetProperty("variables").GetProperty("secretGrants").GetString()!;
        Assert.Contains("if(variables('referencedSecrets')[lambdaVariables('i')].api, createArray(createObject('secret', lambdaVariables('i'), 'app', variables('api')))", grants);
        Assert.Contains("if(variables('referencedSecrets')[lambdaVariables('i')].orchestrations, createArray(createObject('secret', lambdaVariables('i'), 'app', variables('orchestrations')))", grants);
        Assert.StartsWith("[resourceId('Microsoft.KeyVault/vaults/secrets'", Resource(template, "secretsForFunctions").GetProperty("scope").GetString());
        Assert.DoesNotContain(Resources(template), r => r.Resource.GetProperty("type").GetString() == "Microsoft.Authorization/roleAssignments"
            && r.Resource.GetProperty("scope").GetString() == "[resourceId('Microsoft.KeyVault/vaults', variables('names').vault)]");
    }

    [Fact]
    public async Task ARedeployWithoutASecretsValueKeepsTheSecretAndTheSettingThatReferencesIt()
    {
        var template = await TemplateAsync();
        // Which settings reference Key Vault depends on names only: the signing key and the tenant's providerSecrets.
        var referenced = template.GetProperty("variables").GetProperty("referencedSecrets").GetString()!;
        Assert.Equal("[filter(variables('secretCatalog'), lambda('s', or(or(equals(lambdaVariables('s').name, 'jwt-signing-key'), equals(lambdaVariables('s').name, variables('keyRing'))), contains(parameters('providerSecrets'), lambdaVariables('s').name))))]", referenced);
        Assert.DoesNotContain("value", template.GetProperty("variables").GetProperty("secretCatalog").GetRawText());
        foreach (var settings in new[] { "apiSecretSettings", "orchestrationsSecretSettings" })
            Assert.DoesNotContain("secretValues", template.GetProperty("variables").GetProperty(settings).GetString());

        // The tenant's parameters, deployed again with no secret in the environment: no value, so nothing is written,
        // and the secrets it uses are still listed, so their settings still reference Key Vault.
        var parameters = await ParametersAsync("tenants/example.bicepparam", new Dictionary<string, string>());
        Assert.Equal("", parameters.GetProperty("kieApiKey").GetProperty("value").GetString());
        Assert.Equal("", parameters.GetProperty("jwtSigningKey").GetProperty("value").GetString());
        Assert.True(parameters.GetProperty("jwtSigningKeyInVault").GetProperty("value").GetBoolean());
        Assert.Contains("kie-api-key", parameters.GetProperty("providerSecrets").GetProperty("value").EnumerateArray().Select(s => s.GetString()));
        Assert.False(parameters.TryGetProperty("generatedJwtSigningKey", out _)); // generated at deployment time, never in a file

        // The same with the environment-driven file.
        var fromEnvironment = await ParametersAsync("main.bicepparam", new Dictionary<string, string> { ["FENTA_PROVIDER_SECRETS"] = "kie-api-key,smtp-password" });
        Assert.Equal(["kie-api-key", "smtp-password"], fromEnvironment.GetProperty("providerSecrets").GetProperty("value").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("", fromEnvironment.GetProperty("smtpPassword").GetProperty("value").GetString());
    }

    [Fact]
    public async Task PostgresHasAnEntraGroupAdministratorVerifiedTlsAndPoolsThatFitItsConnectionLimit()
    {
        var template = await TemplateAsync();
        var group = Resource(template, "databaseAdminGroup").GetProperty("properties").GetProperty("parameters");
        Assert.Equal("Group", group.GetProperty("principalType").GetProperty("value").GetString());
        Assert.Equal("[parameters('postgresAdminGroupObjectId')]", group.GetProperty("principalId").GetProperty("value").GetString());
        Assert.Equal("ServicePrincipal", Resource(template, "databaseAdmin").GetProperty("properties").GetProperty("parameters").GetProperty("principalType").GetProperty("value").GetString());

        var connection = template.GetProperty("functions").EnumerateArray().SelectMany(ns => ns.GetProperty("members").EnumerateObject())
            .Single(f => f.Name == "databaseConnection").Value.GetProperty("output").GetProperty("value").GetString()!;
        Assert.Contains("SSL Mode=VerifyFull", connection);
        Assert.Contains("Maximum Pool Size={3}", connection);
        Assert.DoesNotContain("SSL Mode=Require", template.GetRawText());

        // At the defaults, every instance of every app at its maximum holds no more than the server leaves the apps.
        int Default(string name) => Param(template, name).GetProperty("defaultValue").GetInt32();
        var atMaxScale = Default("functionsMaxInstances") * (Default("apiDbPoolSize") + Default("orchestrationsDbPoolSize")) + Default("renderMaxExecutions") * Default("renderDbPoolSize")
            + template.GetProperty("variables").GetProperty("migrateDbPoolSize").GetInt32();
        var limit = template.GetProperty("variables").GetProperty("postgresConnectionLimits").GetProperty(Param(template, "postgresSku").GetProperty("defaultValue").GetString()!).GetInt32();
        var headroom = template.GetProperty("variables").GetProperty("connectionHeadroom").GetInt32();
        Assert.True(atMaxScale <= limit - 15 - headroom, $"{atMaxScale} connections at maximum scale, {limit} on the server");
        Assert.Equal("[add(add(mul(parameters('functionsMaxInstances'), add(parameters('apiDbPoolSize'), parameters('orchestrationsDbPoolSize'))), mul(parameters('renderMaxExecutions'), parameters('renderDbPoolSize'))), variables('migrateDbPoolSize'))]",
            template.GetProperty("variables").GetProperty("connectionsAtMaxScale").GetString());
    }

    [Fact]
    public async Task EverySubnetHasANetworkSecurityGroupAndMediaCorsIsPerTenantWithNoWildcardByDefault()
    {
        var template = await TemplateAsync();
        var subnets = Resource(template, "vnet").GetProperty("properties").GetProperty("subnets").EnumerateArray().ToList();
        Assert.Equal(4, subnets.Count);
        Assert.All(subnets, s => Assert.StartsWith("[resourceId('Microsoft.Network/networkSecurityGroups'", s.GetProperty("properties").GetProperty("networkSecurityGroup").GetProperty("id").GetString()));
        Assert.Equal(0, Param(template, "mediaCorsOrigins").GetProperty("defaultValue").GetArrayLength());
        Assert.StartsWith("[if(empty(parameters('mediaCorsOrigins')), createArray(),", Resource(template, "mediaBlobs").GetProperty("properties").GetProperty("cors").GetProperty("corsRules").GetString());
        Assert.DoesNotContain("'*'", (await File.ReadAllTextAsync(Path.Combine(Infra, "main.bicepparam"))));
    }

    [Fact]
    public async Task DiagnosticsGoToTheWorkspaceAndAlertsCoverFailuresSaturationAndServerErrors()
    {
        var template = await TemplateAsync();
        var scopes = Resources(template).Where(r => r.Resource.GetProperty("type").GetString() == "Microsoft.Insights/diagnosticSettings")
            .ToDictionary(r => r.Resource.GetProperty("scope").GetString()!, r => r.Resource.GetProperty("properties"));
        foreach (var scope in new[]
        {
            "[resourceId('Microsoft.KeyVault/vaults', variables('names').vault)]",
            "[resourceId('Microsoft.Storage/storageAccounts/blobServices', variables('names').runtimeStorage, 'default')]",
            "[resourceId('Microsoft.Storage/storageAccounts/queueServices', variables('names').runtimeStorage, 'default')]",
            "[resourceId('Microsoft.Storage/storageAccounts/blobServices', variables('names').mediaStorage, 'default')]",
            "[resourceId('Microsoft.DBforPostgreSQL/flexibleServers', variables('names').postgres)]",
            "[resourceId('Microsoft.Web/sites', variables('names').api)]",
            "[resourceId('Microsoft.Web/sites', variables('names').orchestrations)]",
        })
        {
            Assert.True(scopes.ContainsKey(scope), scope);
            Assert.Equal("[resourceId('Microsoft.OperationalInsights/workspaces', variables('names').logs)]", scopes[scope].GetProperty("workspaceId").GetString());
        }
        Assert.Equal("audit", scopes["[resourceId('Microsoft.KeyVault/vaults', variables('names').vault)]"].GetProperty("logs")[0].GetProperty("categoryGroup").GetString());
        // The runtime account logs writes and deletes, not the task hub's polling reads.
        Assert.Equal(["StorageWrite", "StorageDelete"], template.GetProperty("variables").GetProperty("runtimeStorageLogs").EnumerateArray().Select(l => l.GetProperty("category").GetString()));
        foreach (var service in new[] { "runtimeBlobDiagnostics", "runtimeQueueDiagnostics" })
            Assert.Equal("[variables('runtimeStorageLogs')]", Resource(template, service).GetProperty("properties").GetProperty("logs").GetString());

        var env = Resource(template, "renderJob").GetProperty("properties").GetProperty("template").GetProperty("containers")[0].GetProperty("env").EnumerateArray()
            .Select(e => e.GetProperty("name").GetString());
        Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", env);

        Assert.Equal("Http5xx", Resource(template, "serverErrorsAlert").GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("metricName").GetString());
        Assert.Equal("active_connections", Resource(template, "databaseConnectionsAlert").GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetProperty("metricName").GetString());
        // Failed jobs and poisoned renders are alerted on from the apps' own metrics (AppMetrics), named as the code names them.
        var alerts = template.GetProperty("variables").GetProperty("logAlerts").EnumerateArray().ToDictionary(a => a.GetProperty("name").GetString()!);
        Assert.Equal(["failed-jobs", "poisoned-renders", "poisoned-render-results"], alerts.Keys);
        foreach (var (alert, metric) in new[] { ("failed-jobs", Telemetry.JobsFailed.Name), ("poisoned-renders", Telemetry.RenderPoisoned.Name) })
            Assert.Equal(($"AppMetrics | where Name == '{metric}'", "Sum"), (alerts[alert].GetProperty("query").GetString(), alerts[alert].GetProperty("measure").GetString()));
        Assert.Equal(("[format('AppTraces | where Message has ''{0}-poison''', variables('renderResults'))]", ""),
            (alerts["poisoned-render-results"].GetProperty("query").GetString(), alerts["poisoned-render-results"].GetProperty("measure").GetString()));
        var rules = Resource(template, "logAlertRules");
        Assert.Equal("Microsoft.Insights/scheduledQueryRules", rules.GetProperty("type").GetString());
        // A metric's Sum over the window is compared (a counter's rows are its increments); a log's rows are counted.
        Assert.Equal("[union(createObject('query', variables('logAlerts')[copyIndex()].query, 'operator', 'GreaterThan', 'threshold', 0), "
            + "if(empty(variables('logAlerts')[copyIndex()].measure), createObject('timeAggregation', 'Count'), "
            + "createObject('timeAggregation', 'Total', 'metricMeasureColumn', variables('logAlerts')[copyIndex()].measure)))]",
            rules.GetProperty("properties").GetProperty("criteria").GetProperty("allOf")[0].GetString());
        Assert.Equal("PT15M", rules.GetProperty("properties").GetProperty("windowSize").GetString());
        Assert.Contains("parameters('alertActionGroupId')", template.GetProperty("variables").GetProperty("alertActions").GetString());
    }

    [Fact]
    public async Task EveryResourceCarriesTheTenantAndCostTagsAndTheEnvironmentNameIsValidatedFirst()
    {
        var template = await TemplateAsync();
        foreach (var (name, resource) in Resources(template).Where(r => r.Resource.TryGetProperty("location", out _)))
            Assert.True(resource.TryGetProperty("tags", out var tags) && tags.GetString()!.Contains("variables('commonTags')"), name);
        var common = template.GetProperty("variables").GetProperty("commonTags").GetString()!;
        Assert.Contains("'tenant', parameters('environmentName')", common);
        Assert.Contains("'cost-center', parameters('costCenter')", common);

        var environmentName = Param(template, "environmentName");
        Assert.Equal((3, 16), (environmentName.GetProperty("minLength").GetInt32(), environmentName.GetProperty("maxLength").GetInt32()));
        foreach (var (name, valid) in new[] { ("acme-prod", true), ("a1b", true), ("Acme-prod", false), ("acme_prod", false), ("-acme", false), ("acme-", false), ("ac", false), ("acme--prod", false), ("1acme", false), ("acme-production-eu", false) })
        {
            var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(Infra, "check-environment.sh"));
            start.ArgumentList.Add(name);
            using var check = Process.Start(start)!;
            await check.StandardError.ReadToEndAsync();
            await check.WaitForExitAsync();
            Assert.True(valid == (check.ExitCode == 0), name);
        }
    }

    [Fact]
    public async Task AzdServicesMatchTheAppsInSrcAndProvisionTheSameBicep()
    {
        var root = Path.GetFullPath(Path.Combine(Infra, ".."));
        var yaml = await File.ReadAllTextAsync(Path.Combine(root, "azure.yaml"));
        // The deployable apps: the projects in src/ with a Dockerfile.
        var apps = Directory.GetDirectories(Path.Combine(root, "src")).Where(d => File.Exists(Path.Combine(d, "Dockerfile")))
            .Select(d => "./src/" + Path.GetFileName(d)).Order().ToList();
        var services = System.Text.RegularExpressions.Regex.Matches(yaml, @"^  (\w+):\n    project: (\S+)\n    language: (\w+)\n    host: (\w+)\n    docker:\n      path: ./Dockerfile\n", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => (Name: m.Groups[1].Value, Project: m.Groups[2].Value, Language: m.Groups[3].Value, Host: m.Groups[4].Value)).ToList();
        Assert.Equal(apps, services.Select(s => s.Project).Order());
        Assert.All(services, s => Assert.Equal("dotnet", s.Language));
        // Function apps as containers (host: function with docker) need azd 1.30.0; a Container Apps job behind
        // host: containerapp needs 1.23.8 (azure.yaml's header cites the azd source).
        Assert.Equal([("api", "function"), ("orchestrations", "function"), ("render", "containerapp")], services.Select(s => (s.Name, s.Host)));
        Assert.Contains("requiredVersions:\n  azd: \">= 1.30.0\"\n", yaml);
        Assert.Contains("  provider: bicep\n  path: infra\n  module: main\n", yaml);
        // After the API's image is deployed, its migrations run as the migrate job (the job and the image named as azd knows them).
        Assert.Contains("      postdeploy:\n        shell: sh\n        run: infra/migrate.sh \"${AZURE_RESOURCE_GROUP:-rg-$AZURE_ENV_NAME}\" \"$migrateJob\" \"$SERVICE_API_IMAGE_NAME\"\n", yaml);
        // Each service is the one resource azd finds by its azd-service-name tag, of a type its host deploys to: Linux
        // container sites (azd sets linuxFxVersion to DOCKER|<image>) and the render job (Microsoft.App/jobs: azd
        // patches the job's container image).
        var template = await TemplateAsync();
        Assert.True(template.GetProperty("outputs").TryGetProperty("migrateJob", out _));
        foreach (var (symbol, service, type) in new[] { ("apiApp", "api", "Microsoft.Web/sites"), ("orchestrationsApp", "orchestrations", "Microsoft.Web/sites"), ("renderJob", "render", "Microsoft.App/jobs") })
        {
            Assert.Equal(type, Resource(template, symbol).GetProperty("type").GetString());
            Assert.Equal([symbol], Resources(template).Where(r => r.Resource.TryGetProperty("tags", out var tags) && tags.ValueKind == JsonValueKind.String
                && tags.GetString()!.Contains($"createObject('azd-service-name', '{service}')")).Select(r => r.Name));
            // A module named after the service would make azd's containerapp target deploy that module instead.
            Assert.All(new[] { ".bicep", ".bicepparam", ".parameters.json" }, ext => Assert.False(File.Exists(Path.Combine(Infra, service + ext)), service + ext));
        }
        foreach (var site in new[] { "apiApp", "orchestrationsApp" })
        {
            Assert.Contains("linux", Resource(template, site).GetProperty("kind").GetString());
            Assert.StartsWith("[format('DOCKER|", Resource(template, site).GetProperty("properties").GetProperty("siteConfig").GetProperty("linuxFxVersion").GetString());
        }
        Assert.Single(Resource(template, "renderJob").GetProperty("properties").GetProperty("template").GetProperty("containers").EnumerateArray());
        // The registry azd builds and pushes to comes from the template's outputs.
        Assert.Equal("[reference('registry').loginServer]", template.GetProperty("outputs").GetProperty("AZURE_CONTAINER_REGISTRY_ENDPOINT").GetProperty("value").GetString());
        // A later `azd provision` keeps the images azd deployed (SERVICE_<NAME>_IMAGE_NAME); deploy.sh's FENTA_*_IMAGE win.
        var deployed = new Dictionary<string, string>
        {
            ["SERVICE_API_IMAGE_NAME"] = "reg.azurecr.io/fentaweb/api-acme:azd-deploy-1",
            ["SERVICE_ORCHESTRATIONS_IMAGE_NAME"] = "reg.azurecr.io/fentaweb/orchestrations-acme:azd-deploy-1",
            ["SERVICE_RENDER_IMAGE_NAME"] = "reg.azurecr.io/fentaweb/render-acme:azd-deploy-1",
        };
        var parameters = await ParametersAsync("main.bicepparam", deployed);
        foreach (var (parameter, service) in new[] { ("apiImage", "API"), ("orchestrationsImage", "ORCHESTRATIONS"), ("renderImage", "RENDER") })
            Assert.Equal(deployed[$"SERVICE_{service}_IMAGE_NAME"], parameters.GetProperty(parameter).GetProperty("value").GetString());
        parameters = await ParametersAsync("main.bicepparam", new Dictionary<string, string>(deployed) { ["FENTA_RENDER_IMAGE"] = "reg.azurecr.io/fentaweb-render:abc" });
        Assert.Equal("reg.azurecr.io/fentaweb-render:abc", parameters.GetProperty("renderImage").GetProperty("value").GetString());
        Assert.True(File.Exists(Path.Combine(root, ".dockerignore")));
    }

    [Fact]
    public async Task PublishingSettingsReachBothFunctionAppsAndTheKeyRingIsTheirsAlone()
    {
        var template = await TemplateAsync();
        var variables = template.GetProperty("variables");
        var publishing = variables.GetProperty("publishingSettings").GetString()!;
        // The key ring: a container of the runtime account, by URL (the identity AZURE_CLIENT_ID names reads it).
        Assert.Equal("fenta-key-ring", variables.GetProperty("keyRing").GetString());
        Assert.Contains("createObject('name', 'FENTA_KEY_RING_URL', 'value', format('https://{0}.blob.{1}/{2}', variables('names').runtimeStorage, variables('storageSuffix'), variables('keyRing')))", publishing);
        Assert.Contains("createObject('name', 'FENTA_TIKTOK_AUDITED', 'value', if(parameters('tiktokAudited'), 'true', 'false'))", publishing);
        // Client ids are plain settings, present only when given (else the platform answers 409 naming the setting).
        foreach (var (setting, parameter) in new[] { ("FENTA_YOUTUBE_CLIENT_ID", "youtubeClientId"), ("FENTA_TIKTOK_CLIENT_ID", "tiktokClientId"), ("FENTA_INSTAGRAM_CLIENT_ID", "instagramClientId") })
        {
            Assert.Contains($"createObject('name', '{setting}', 'value', parameters('{parameter}'))", publishing);
            Assert.Equal("string", Param(template, parameter).GetProperty("type").GetString());
        }
        Assert.Contains("lambda('s', not(empty(lambdaVariables('s').value)))", publishing);
        Assert.Equal("[format('{0}/{1}/{2}', variables('names').runtimeStorage, 'default', variables('keyRing'))]", Resource(template, "keyRingBlobs").GetProperty("name").GetString());
        Assert.Equal("Microsoft.Storage/storageAccounts/blobServices/containers", Resource(template, "keyRingBlobs").GetProperty("type").GetString());

        foreach (var app in new[] { "apiApp", "orchestrationsApp" })
        {
            var settings = Resource(template, app).GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString()!;
            Assert.Contains("variables('publishingSettings')", settings);
            // Both read the same ring, each with its own identity: AZURE_CLIENT_ID (in the settings both apps share).
            Assert.Contains("variables('publishingSettings')", settings);
            // The OAuth redirect URI is built from FENTA_PUBLIC_URL: the API's own origin.
            Assert.Contains("createObject('name', 'FENTA_PUBLIC_URL', 'value', variables('apiUrl'))", settings);
            Assert.Contains("keyRingForFunctions", Resource(template, app).GetProperty("dependsOn").GetRawText());
        }
        // The statistics timer runs in the orchestrations app only, every ten minutes.
        Assert.Contains("createObject('name', 'FENTA_PUBLICATION_STATS_SCHEDULE', 'value', '0 */10 * * * *')",
            Resource(template, "orchestrationsApp").GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").GetString());
        Assert.DoesNotContain("FENTA_PUBLICATION_STATS_SCHEDULE", Resource(template, "apiApp").GetRawText());
        var shared = template.GetProperty("functions").EnumerateArray().SelectMany(ns => ns.GetProperty("members").EnumerateObject()).Single(f => f.Name == "functionsSettings").Value;
        Assert.Contains(shared.GetProperty("output").GetProperty("value").EnumerateArray(),
            e => e.GetProperty("name").GetString() == "AZURE_CLIENT_ID" && e.GetProperty("value").GetString() == "[parameters('clientId')]");

        // The key ring's certificate: always referenced from Key Vault (its setting never depends on a value), read by both
        // apps, stored only when the vault has none, as a PKCS#12 secret.
        var catalog = variables.GetProperty("secretCatalog").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "fenta-key-ring");
        Assert.Equal("FENTA_KEY_RING_CERTIFICATE", catalog.GetProperty("setting").GetString());
        Assert.Contains("equals(lambdaVariables('s').name, variables('keyRing'))", variables.GetProperty("referencedSecrets").GetString());
        Assert.Equal("[if(parameters('keyRingCertificateInVault'), '', parameters('keyRingCertificate'))]", variables.GetProperty("secretValues").GetProperty("fenta-key-ring").GetString());
        Assert.Equal("securestring", Param(template, "keyRingCertificate").GetProperty("type").GetString());
        Assert.False(Param(template, "keyRingCertificateInVault").TryGetProperty("defaultValue", out _));
        Assert.Equal("[if(equals(variables('secretsToStore')[copyIndex()].name, variables('keyRing')), 'application/x-pkcs12', null())]",
            Resource(template, "secrets").GetProperty("properties").GetProperty("contentType").GetString());
        // The platforms' secrets are referenced when the tenant lists them, like every provider secret.
        foreach (var (secret, setting) in new[] { ("youtube-client-secret", "FENTA_YOUTUBE_CLIENT_SECRET"), ("tiktok-client-secret", "FENTA_TIKTOK_CLIENT_SECRET"), ("instagram-client-secret", "FENTA_INSTAGRAM_CLIENT_SECRET") })
            Assert.Equal(setting, variables.GetProperty("secretCatalog").EnumerateArray().Single(s => s.GetProperty("name").GetString() == secret).GetProperty("setting").GetString());

        // The environment-driven parameters: unknown whether the vault holds it, assume it does (never replace it).
        var parameters = await ParametersAsync("main.bicepparam", new Dictionary<string, string>
        {
            ["FENTA_YOUTUBE_CLIENT_ID"] = "123-yt.apps.googleusercontent.com", ["FENTA_TIKTOK_AUDITED"] = "true", ["FENTA_TIKTOK_CLIENT_SECRET"] = "tt-secret",
        });
        Assert.True(parameters.GetProperty("keyRingCertificateInVault").GetProperty("value").GetBoolean());
        Assert.Equal("", parameters.GetProperty("keyRingCertificate").GetProperty("value").GetString());
        Assert.Equal("123-yt.apps.googleusercontent.com", parameters.GetProperty("youtubeClientId").GetProperty("value").GetString());
        Assert.True(parameters.GetProperty("tiktokAudited").GetProperty("value").GetBoolean());
        Assert.Equal("tt-secret", parameters.GetProperty("tiktokClientSecret").GetProperty("value").GetString());
        var example = await ParametersAsync("tenants/example.bicepparam", new Dictionary<string, string>());
        Assert.True(example.GetProperty("keyRingCertificateInVault").GetProperty("value").GetBoolean());
    }

    /// <summary>infra/azd-preprovision.sh with stand-ins for az (a vault holding <paramref name="secrets"/>, or none) and azd (recording what it sets).</summary>
    private static async Task<(int Exit, string Errors, Dictionary<string, string> Set)> PreprovisionAsync(string? vault, params string[] secrets)
    {
        var folder = Directory.CreateTempSubdirectory("fake-azd-").FullName;
        try
        {
            var az = Path.Combine(folder, "az");
            await File.WriteAllTextAsync(az, $$$"""
                #!/usr/bin/env bash
                case "$1 $2" in
                  "keyvault list-deleted") ;;
                  "keyvault list") echo "{{{vault}}}" ;;
                  "resource show") for s in {{{string.Join(' ', secrets)}}}; do [ "$3 $4" = "--ids {{{vault}}}/secrets/$s" ] && exit 0; done; exit 3 ;;
                esac
                """);
            var azd = Path.Combine(folder, "azd");
            await File.WriteAllTextAsync(azd, $$$"""
                #!/usr/bin/env bash
                printf '%s\t%s\n' "$3" "$4" >> "{{{folder}}}/set"
                """);
            foreach (var tool in new[] { az, azd })
                if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tool, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var start = new ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = Path.GetFullPath(Path.Combine(Infra, "..")) };
            start.ArgumentList.Add("infra/azd-preprovision.sh");
            start.Environment["PATH"] = folder + ":" + Environment.GetEnvironmentVariable("PATH");
            start.Environment["AZURE_ENV_NAME"] = "acme-prod";
            start.Environment.Remove("FENTA_ENVIRONMENT");
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            var set = File.Exists(Path.Combine(folder, "set"))
                ? (await File.ReadAllLinesAsync(Path.Combine(folder, "set"))).Select(l => l.Split('\t')).ToDictionary(p => p[0], p => p[1]) : [];
            return (process.ExitCode, await errors, set);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public async Task TheKeyRingCertificateIsMadeOnlyWhenTheVaultHasNoneBeforeTheTemplateAndDataProtectionReadsWithIt()
    {
        const string Vault = "/subscriptions/s/resourceGroups/rg-acme-prod/providers/Microsoft.KeyVault/vaults/kv-acmeprod-x";
        // A vault that holds it: nothing made, nothing replaced.
        var kept = await PreprovisionAsync(Vault, "jwt-signing-key", "fenta-key-ring");
        Assert.True(kept.Exit == 0, kept.Errors);
        Assert.Equal(("true", "true"), (kept.Set["FENTA_JWT_SIGNING_KEY_IN_VAULT"], kept.Set["FENTA_KEY_RING_CERTIFICATE_IN_VAULT"]));
        Assert.False(kept.Set.ContainsKey("FENTA_KEY_RING_CERTIFICATE"));

        // A vault from before publishing, and a first deployment (no vault): a certificate is made for the template to store.
        foreach (var (vault, secrets) in new[] { (Vault, new[] { "jwt-signing-key" }), ((string?)"", Array.Empty<string>()) })
        {
            var made = await PreprovisionAsync(vault, secrets);
            Assert.True(made.Exit == 0, made.Errors);
            Assert.Equal("false", made.Set["FENTA_KEY_RING_CERTIFICATE_IN_VAULT"]);
            AssertProtectsAndReadsTheKeyRing(made.Set["FENTA_KEY_RING_CERTIFICATE"]);
        }

        // deploy.sh: the same question and the same script, before the template; azd erases the certificate after provisioning.
        var deploy = await File.ReadAllTextAsync(Path.Combine(Infra, "deploy.sh"));
        Assert.Contains("az resource show --ids \"$vault/secrets/fenta-key-ring\"", deploy);
        Assert.True(deploy.IndexOf("infra/key-ring-certificate.sh \"$FENTA_ENVIRONMENT\"", StringComparison.Ordinal) is var made2 and > 0
            && made2 < deploy.IndexOf("az deployment group create", StringComparison.Ordinal));
        Assert.Contains("readEnvironmentVariable('FENTA_KEY_RING_CERTIFICATE'", await File.ReadAllTextAsync(Path.Combine(Infra, "main.bicepparam")));
        var yaml = await File.ReadAllTextAsync(Path.Combine(Infra, "..", "azure.yaml"));
        Assert.Contains("  postprovision:\n    shell: sh\n    run: azd env set FENTA_KEY_RING_CERTIFICATE ''\n", yaml);
    }

    /// <summary>The certificate as the apps load it (TokenProtection): new keys encrypted to it, and read back by a second process with it.</summary>
    private static void AssertProtectsAndReadsTheKeyRing(string base64)
    {
        using var certificate = X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(base64), null);
        Assert.True(certificate.HasPrivateKey);
        Assert.Equal(3072, certificate.GetRSAPublicKey()!.KeySize);
        var ring = Directory.CreateTempSubdirectory("key-ring-").FullName;
        try
        {
            IDataProtector Protector()
            {
                var services = new ServiceCollection();
                services.AddDataProtection().SetApplicationName("FentaWeb").PersistKeysToFileSystem(new DirectoryInfo(ring))
                    .ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
                return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector("test");
            }
            var token = Protector().Protect("a token");
            var key = System.IO.File.ReadAllText(Directory.GetFiles(ring).Single());
            Assert.Contains("EncryptedData", key);
            Assert.DoesNotContain("<masterKey", key, StringComparison.Ordinal);
            Assert.Equal("a token", Protector().Unprotect(token));
        }
        finally { Directory.Delete(ring, recursive: true); }
    }
}
