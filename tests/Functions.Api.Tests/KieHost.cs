using FentaWeb.Simulators;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>
/// An API host with a worker that runs the real activities against a KIE.ai simulator. The API gets the same KIE
/// settings, as a deployment sets them on both apps: estimates, voice samples and direct generations see what the
/// workers use.
/// </summary>
public abstract class KieHost : ApiHost
{
    public KieSimulator Kie { get; } = new();
    protected override bool RunsWorker => true;

    /// <summary>FENTA_KIE_POLL_SECONDS: how soon a waiting generation first asks KIE again.</summary>
    protected virtual string PollSeconds => "1";

    /// <summary>Settings of the class beside KIE's (another simulator, a deadline), for both apps.</summary>
    protected virtual IReadOnlyDictionary<string, string?> MoreSettings => new Dictionary<string, string?>();

    protected override async Task BeforeStartAsync()
    {
        await Kie.StartAsync();
        await BeforeKieHostStartsAsync();
    }

    /// <summary>What else a class starts before the apps (another simulator).</summary>
    protected virtual Task BeforeKieHostStartsAsync() => Task.CompletedTask;

    private Dictionary<string, string?> Providers
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["FENTA_KIE_API_KEY"] = KieSimulator.ValidKey,
                ["FENTA_KIE_BASE_URL"] = Kie.BaseAddress.ToString(),
                ["FENTA_KIE_POLL_SECONDS"] = PollSeconds,
            };
            foreach (var (key, value) in MoreSettings) settings[key] = value;
            return settings;
        }
    }

    protected override IReadOnlyDictionary<string, string?> ApiSettings => Providers;
    protected override IReadOnlyDictionary<string, string?> WorkerSettings => Providers;
    protected override void ConfigureWorker(IServiceCollection services) { } // the real activities throughout
}
