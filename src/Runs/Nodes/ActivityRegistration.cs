using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Integrations.Kie;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Integrations.Pexels;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Kie;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Runs.Nodes;

public static class ActivityRegistration
{
    /// <summary>Registers the activity of one node type; the last registration of a type wins (a test worker replaces some).</summary>
    public static IServiceCollection AddNodeActivity<TActivity>(this IServiceCollection services) where TActivity : class, INodeActivity =>
        services.AddSingleton<INodeActivity, TActivity>();

    /// <summary>The offline stock library in FENTA_STOCK_DIR, of FENTA_STOCK_CLIPS clips.</summary>
    public static LocalStockLibrary StockLibrary(IConfiguration config) => LocalStockLibrary.FromSettings(key => config[key]);

    /// <summary>
    /// The speech providers Voice.TTS speaks with (and the API's voice samples): espeak-ng always, OpenAI speech when its
    /// endpoint is configured (<see cref="OpenAiSpeech.EndpointFrom"/>), ElevenLabs through KIE.ai when FENTA_KIE_API_KEY
    /// is set (the caller registers the KIE client: <see cref="KieRegistration.AddKieClient"/>).
    /// </summary>
    public static IServiceCollection AddSpeechSynthesizers(this IServiceCollection services, OpenAiEndpoint? openAi, KieOptions? kie)
    {
        services.AddSingleton<ISpeechSynthesizer, EspeakSynthesizer>();
        if (openAi is not null)
        {
            services.AddOpenAiClient(nameof(OpenAiSpeech), openAi).AddTypedClient((http, _) => new OpenAiSpeech(http, openAi));
            services.AddSingleton<ISpeechSynthesizer>(sp => sp.GetRequiredService<OpenAiSpeech>());
        }
        if (kie is not null) services.AddTransient<ISpeechSynthesizer>(sp => new KieSpeech(sp.GetRequiredService<KieClient>(), kie));
        return services;
    }

    /// <summary>The real node activities, each with its provider: the configured API, or the offline default.</summary>
    public static IServiceCollection AddMediaActivities(this IServiceCollection services, IConfiguration config)
    {
        if (OpenAiEndpoint.FromConfiguration(config, "LLM", "gpt-4o-mini", TimeSpan.FromSeconds(60)) is { } llm)
            services.AddOpenAiClient(nameof(ChatScriptWriter), llm).AddTypedClient<IScriptWriter>((http, _) => new ChatScriptWriter(http, llm));
        else
        {
            services.AddSingleton<IScriptWriter, TemplateScriptWriter>();
        }
        services.AddNodeActivity<ScriptGenerateActivity>();
        services.AddNodeActivity<ScriptTransformActivity>();

        services.AddSpeechSynthesizers(OpenAiSpeech.EndpointFrom(config), KieOptions.FromSettings(key => config[key]));
        services.AddNodeActivity<VoiceTtsActivity>();
        if (OpenAiEndpoint.FromConfiguration(config, "ASR", "whisper-1", TimeSpan.FromMinutes(5)) is { } asr)
            services.AddOpenAiClient(nameof(OpenAiTranscriber), asr).AddTypedClient((http, _) => new OpenAiTranscriber(http, asr));
        services.AddNodeActivity<SubtitleAutoActivity>();
        services.AddNodeActivity<AudioMixActivity>();

        services.AddSingleton(StockLibrary(config));
        if (PexelsOptions.FromSettings(key => config[key]) is { } pexels) services.AddPexelsClient(pexels);
        services.AddNodeActivity<InputStockActivity>();
        services.AddNodeActivity<InputUploadActivity>();
        services.AddNodeActivity<EditTimelineActivity>();

        services.AddNodeActivity<OutputDownloadActivity>();

        // Whether a node goes to KIE is the providers' decision (PaidProviders.KieRouteOf), for the run's routing and here alike.
        services.TryAddSingleton(PaidProviders.FromSettings(key => config[key]));
        services.AddSingleton<KieGenerations>();
        if (KieOptions.FromSettings(key => config[key]) is { } kie)
        {
            // KIE calls back to the API at FENTA_PUBLIC_URL; it fetches input files over signed Blob links.
            services.AddKie(kie);
            services.AddSingleton<KieGeneration>();
        }
        foreach (var type in PaidProviders.GenerationNodeTypes)
            services.AddSingleton<INodeActivity>(sp => new LocalGenerationActivity(type, sp.GetRequiredService<PaidProviders>(),
                sp.GetRequiredService<KieGenerations>(), sp.GetRequiredService<AssetStore>()));
        return services;
    }
}
