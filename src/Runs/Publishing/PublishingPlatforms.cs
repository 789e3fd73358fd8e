using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Publishing;

namespace FentaWeb.Runs.Publishing;

/// <summary>The platform adapters the host registered, by name.</summary>
public sealed class PublishingPlatforms(IEnumerable<IPublishingPlatform> platforms)
{
    private readonly Dictionary<string, IPublishingPlatform> _byName = platforms.GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);

    public IReadOnlyCollection<IPublishingPlatform> All => _byName.Values;

    /// <summary>The platform's adapter; an unknown name is a 404 naming it (it is a route value).</summary>
    public IPublishingPlatform Get(string name) =>
        _byName.GetValueOrDefault(name) ?? throw new NotFoundException("platform", name);

    /// <summary>The adapter of a platform whose client id and secret are set; otherwise a 409 naming the missing setting.</summary>
    public IPublishingPlatform Configured(string name)
    {
        var platform = Get(name);
        return platform.MissingSetting is { } missing
            ? throw new ConflictException("PLATFORM_NOT_CONFIGURED", $"Publishing to {name} is not configured on this deployment: set {missing} (and its pair) to the app's credentials.")
            : platform;
    }
}
