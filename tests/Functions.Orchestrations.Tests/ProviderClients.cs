using FentaWeb.Integrations.OpenAi;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>
/// Provider clients built as the hosts register them, resilience pipeline included; each in a container of its own
/// (so with circuit breakers of its own), all disposed with this.
/// </summary>
public sealed class ProviderClients : IAsyncDisposable
{
    private readonly List<ServiceProvider> _containers = [];

    public T Get<T>(Action<IServiceCollection> register) where T : notnull
    {
        var services = new ServiceCollection();
        register(services);
        var container = services.BuildServiceProvider();
        _containers.Add(container);
        return container.GetRequiredService<T>();
    }

    /// <summary>A client of one OpenAI-compatible service, registered as the worker registers it.</summary>
    public T OpenAi<T>(OpenAiEndpoint endpoint, Func<HttpClient, OpenAiEndpoint, T> create) where T : class =>
        Get<T>(services => services.AddOpenAiClient(typeof(T).Name, endpoint).AddTypedClient((http, _) => create(http, endpoint)));

    public async ValueTask DisposeAsync()
    {
        foreach (var container in _containers) await container.DisposeAsync();
    }
}
