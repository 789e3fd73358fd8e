using FentaWeb.Api.Identity;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Integrations.Blob;
using FentaWeb.Integrations.Kie;
using FentaWeb.Integrations.Pexels;
using FentaWeb.Integrations.Stripe;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Kie;
using FentaWeb.Runs.Nodes;
using FentaWeb.Runs.Publishing;
using FentaWeb.Runs;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Hosting;

public static class Services
{
    /// <summary>What the functions need in either host: the database, stores, provider clients and the gate.</summary>
    public static IServiceCollection AddFentaServices(this IServiceCollection services, FentaOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);
        services.AddLogging(logging => logging
            // ASP.NET Core's request lines print raw URLs, which may hold a credential; RequestLog's lines replace them.
            .AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning)
            // Every SQL statement at information level drowns the request log; slow or failing ones still show as warnings.
            // Here, not in host.json: the Functions host's filters do not reach the worker's own logs.
            .AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning));

        var dataSource = FentaDb.CreateDataSource(options.Database, options.DatabaseAuthentication);
        services.AddSingleton(dataSource);
        services.AddDbContext<FentaDb>(db => db.UseNpgsql(dataSource));
        services.AddHostedService<DatabaseStartup>();
        services.AddSingleton(options.Providers);
        // New jobs' runs are scheduled after the answer (JobStarter); the host waits for those still in flight when it stops.
        services.AddSingleton<RunStarts>();
        services.AddHostedService(sp => sp.GetRequiredService<RunStarts>());
        services.AddSingleton<JobStarter>();
        services.AddAssetBlobs(options.AssetStorage);
        services.AddSingleton<AssetStore>();
        services.AddSingleton<AssetUploads>();
        services.AddSingleton<JobResults>();
        services.AddSingleton<KieGenerations>();
        services.AddSingleton<FentaWeb.Runs.Storyboards.StoryboardStore>();
        Enrichment.EnrichmentServices.AddMetadataWriter(services, options.Llm);
        services.AddSingleton(options.StockLibrary);
        if (options.Pexels is { } pexels) services.AddPexelsClient(pexels);
        services.AddTransient(sp => new StockSearch(options.StockLibrary, sp.GetService<PexelsClient>()));
        services.AddStripeBilling(options.Stripe);
        // ElevenLabs voices are spoken through KIE (their samples too): the API needs the KIE client only for that.
        var kie = KieOptions.FromSettings(options.Setting);
        if (kie is not null) services.AddKieClient(kie);
        services.AddSpeechSynthesizers(options.Speech, kie);
        services.AddSingleton<Voices.VoiceSamples>();
        services.AddPublishing(options.Setting);
        services.AddSingleton<Sharing.ShareSecrets>();

        services.Configure<JsonOptions>(json => FentaJson.Configure(json.SerializerOptions).MaxDepth = InputText.MaxOutputDepth);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Titles.Complete);

        services.AddSingleton<Mail.Mailer>();
        services.AddHostedService(sp => sp.GetRequiredService<Mail.Mailer>());
        services.AddSingleton<Mail.Mails>();
        services.AddSingleton<TokenService>();
        services.AddScoped<Authenticator>();
        services.AddScoped<EmailLinks>();
        services.AddSingleton<RateLimits>();
        services.AddScoped<FunctionGate>();
        services.AddScoped<AuditTrail>();
        return services;
    }
}
