using FentaWeb.Integrations.Instagram;
using FentaWeb.Integrations.TikTok;
using FentaWeb.Integrations.YouTube;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FentaWeb.Runs.Publishing;

public static class PublishingRegistration
{
    /// <summary>
    /// Publishing in either app: the token protection, the platform adapters (always registered; one without its client id
    /// and secret answers 409 naming the setting), the connected accounts and the target step.
    /// </summary>
    public static IServiceCollection AddPublishing(this IServiceCollection services, Func<string, string?> setting)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddTokenProtection(setting);
        services.AddYouTubePublishing(YouTubeOptions.FromSettings(setting));
        services.AddTikTokPublishing(TikTokOptions.FromSettings(setting));
        services.AddInstagramPublishing(InstagramOptions.FromSettings(setting));
        services.AddSingleton<PublishingPlatforms>();
        services.AddSingleton<IntegrationStore>();
        services.AddSingleton<TargetPublisher>();
        return services;
    }
}
