using FentaWeb.Api.Assets;
using FentaWeb.Api.Billing;
using FentaWeb.Api.Health;
using FentaWeb.Api.Hosting;
using FentaWeb.Api.Identity;
using FentaWeb.Api.Jobs;
using FentaWeb.Api.Kai;
using FentaWeb.Api.Schedules;
using FentaWeb.Api.Templates;
using FentaWeb.Api.Usage;
using FentaWeb.Api.Voices;
using FentaWeb.Api.Webhooks;
using FentaWeb.Api.Workflows;

namespace FentaWeb.Api;

/// <summary>The API's table of contents: services, then middleware, then one Map call per feature.</summary>
public static class FentaApi
{
    public static WebApplication Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        var options = FentaOptions.FromConfiguration(builder.Configuration);
        // Every SQL statement at information level drowns the request log; slow or failing ones still show as warnings.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);

        builder.AddFentaServices(options);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();

        app.MapOpenApi("/openapi/{documentName}.json").DisableRateLimiting();
        app.MapHealth();
        app.MapAuth();
        app.MapMembers();
        app.MapApiKeys();
        app.MapTemplates();
        app.MapWorkflows();
        app.MapJobs();
        app.MapAssets();
        app.MapVoices();
        app.MapModels();
        app.MapKai();
        app.MapWebhooks();
        app.MapSchedules();
        app.MapUsage();
        app.MapBilling();
        return app;
    }
}
