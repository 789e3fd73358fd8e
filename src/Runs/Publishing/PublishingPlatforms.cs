using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Publishing;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Runs.Publishing;

/// <summary>
/// The platform adapters the host registered, by name. They are resolved at each use: an adapter may be transient (its
/// HttpClient comes from the factory, which rotates handlers), so none is held for the life of the process.
/// </summary>
public sealed class PublishingPlatforms(IServiceProvider services)
{
    private IEnumerable<IPublishingPlatform> Registered => services.GetServices<IPublishingPlatform>();

    public IReadOnlyCollection<IPublishingPlatform> All => [.. Registered.GroupBy(p => p.Name).Select(g => g.Last())];

    /// <summary>The platform's adapter; an unknown name is a 404 naming it (it is a route value).</summary>
    public IPublishingPlatform Get(string name) =>
        Registered.LastOrDefault(p => p.Name == name) ?? throw new NotFoundException("platform", name);

    /// <summary>The adapter of a platform whose client id and secret are set; otherwise a 409 naming the missing setting.</summary>
    public IPublishingPlatform Configured(string name)
    {
        var platform = Get(name);
        return platform.MissingSetting is { } missing
            ? throw new ConflictException("PLATFORM_NOT_CONFIGURED", $"Publishing to {name} is not configured on this deployment: set {missing} (and its pair) to the app's credentials.")
            : platform;
    }
}
