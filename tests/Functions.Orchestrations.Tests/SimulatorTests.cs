using FentaWeb.Domain.Common;
using FentaWeb.Integrations.Http;
using FentaWeb.Simulators;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>
/// Tests of a provider client against the local simulator of its service: each test gets a fresh simulator, started
/// before it and disposed after it with the clients built on it (<see cref="Clients"/>: as the hosts register them, each
/// with breakers of its own), and the checks that a failing call ends as a typed <see cref="ProviderException"/>.
/// </summary>
public abstract class SimulatorTests<TSimulator>(TSimulator simulator) : IAsyncLifetime where TSimulator : Simulator
{
    protected TSimulator Simulator { get; } = simulator;
    protected ProviderClients Clients { get; } = new();

    public Task InitializeAsync() => Simulator.StartAsync();

    public async Task DisposeAsync()
    {
        await Clients.DisposeAsync();
        await Simulator.DisposeAsync();
    }

    /// <summary>Asserts that the call fails with a provider error and returns it.</summary>
    protected static Task<ProviderException> FailsAsync(Func<Task> call) => Assert.ThrowsAsync<ProviderException>(call);

    /// <summary>Asserts that the call fails with a provider error of this code and permanence; returns it for further checks.</summary>
    protected static async Task<ProviderException> FailsWithAsync(string code, bool permanent, Func<Task> call)
    {
        var error = await FailsAsync(call);
        Assert.Equal((code, permanent), (error.Code, error.Permanent));
        return error;
    }

    /// <summary>An outage that outlasts the client's own tries: this error as the answer to each of them.</summary>
    protected void EnqueueOutage(int status, string body)
    {
        for (var i = 0; i < ProviderResilience.Attempts; i++) Simulator.EnqueueError(status, body);
    }
}
