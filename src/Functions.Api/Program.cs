using FentaWeb.Api.Hosting;
using FentaWeb.Api.OpenApiDocument;
using FentaWeb.Api;
using FentaWeb.LocalHosting;

// The build writes the OpenAPI document from the function definitions (see Functions.Api.csproj).
if (args is ["openapi", var path])
{
    await OpenApi.WriteDocumentAsync(path);
    return;
}

// The migrate job (infra/migrate.sh): the schema and the apps' roles, then exit.
if (args is ["migrate"])
{
    Environment.ExitCode = await MigrateCommand.RunAsync();
    return;
}

// Started by the Azure Functions host: the Function app. Anywhere else: the same functions on Kestrel.
if (FunctionsHosting.IsFunctionsHost(args))
{
    await FentaApi.BuildFunctionsHost(args).RunAsync();
    return;
}
var app = FentaApi.BuildLocal(args);
if (app.Configuration["urls"] is null && app.Configuration["ASPNETCORE_URLS"] is null)
    app.Urls.Add($"http://127.0.0.1:{app.Configuration["FENTA_HTTP_PORT"] ?? "8080"}");
await app.RunAsync();
