using FentaWeb.Domain.Engine;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Engine;

public static class EngineRegistration
{
    /// <summary>Runs the durable engine in this process with the activities registered in DI.</summary>
    public static IServiceCollection AddDurableEngine(this IServiceCollection services, IConfiguration config)
    {
        services.AddSingleton(EngineOptions.FromConfiguration(config));
        services.AddHostedService<EngineWorker>();
        return services;
    }

    public static IServiceCollection AddActivity<TActivity>(this IServiceCollection services) where TActivity : class, INodeActivity =>
        services.AddSingleton<INodeActivity, TActivity>();
}
