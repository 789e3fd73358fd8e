using FentaWeb.Api;

var app = FentaApi.Build(args);
var port = app.Configuration["FENTA_HTTP_PORT"] ?? "8080";
if (app.Configuration["urls"] is null && app.Configuration["ASPNETCORE_URLS"] is null) app.Urls.Add($"http://127.0.0.1:{port}");
await app.RunAsync();
