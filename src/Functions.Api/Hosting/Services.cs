using FentaWeb.Api.Identity;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Durable;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Hosting;

public static class Services
{
    public static WebApplicationBuilder AddFentaServices(this WebApplicationBuilder builder, FentaOptions options)
    {
        var services = builder.Services;
        services.AddSingleton(options);
        services.AddSingleton(TimeProvider.System);

        var dataSource = FentaDb.CreateDataSource(options.Database);
        services.AddSingleton(dataSource);
        services.AddDbContext<FentaDb>(db => db.UseNpgsql(dataSource));
        services.AddHostedService<DatabaseStartup>();
        // A client of the orchestrations' task hub only: the API starts, queries, wakes and stops runs, never runs them.
        services.AddLocalTaskHubClient(options.TaskHub);
        services.AddSingleton<JobStarter>();
        services.AddSingleton(new AssetBlobs(options.AssetStorage));
        services.AddSingleton<AssetStore>();
        services.AddSingleton(options.StockLibrary);
        if (options.Pexels is { } pexels) services.AddPexelsClient(pexels);
        services.AddTransient(sp => new StockSearch(options.StockLibrary, sp.GetService<PexelsClient>()));
        if (options.Stripe is { } stripe)
        {
            services.AddSingleton(stripe);
            // Every create carries an Idempotency-Key, so a POST Stripe failed can be sent again without making a second object.
            services.AddHttpClient<StripeBilling>(StripeBilling.HttpClientName).AddProviderResilience(stripe.Timeout, postsCreateNothing: true);
        }

        services.Configure<JsonOptions>(json => FentaJson.Configure(json.SerializerOptions));
        // Bad input reaches the exception handler (and becomes a problem naming the field) instead of a bare 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);

        services.AddProblemDetails(o => o.CustomizeProblemDetails = Titles.Complete);
        services.AddExceptionHandler<ProblemExceptionHandler>();

        services.AddSingleton<TokenService>();
        services.AddAuthentication(BearerAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddFentaRateLimits(options);

        services.AddHttpContextAccessor();
        services.AddScoped<AuditTrail>();
        services.AddFentaOpenApi();
        return builder;
    }
}
