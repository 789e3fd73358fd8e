using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Orchestrations.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Activities;

public static class ActivityRegistration
{
    /// <summary>Registers the activity of one node type; the last registration of a type wins (a test worker replaces some).</summary>
    public static IServiceCollection AddNodeActivity<TActivity>(this IServiceCollection services) where TActivity : class, INodeActivity =>
        services.AddSingleton<INodeActivity, TActivity>();

    private static double? Seconds(string? text) =>
        double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : null;

    /// <summary>The offline stock library in FENTA_STOCK_DIR, of FENTA_STOCK_CLIPS clips.</summary>
    public static LocalStockLibrary StockLibrary(IConfiguration config) => LocalStockLibrary.FromSettings(key => config[key]);

    /// <summary>The real node activities, each with its provider: the configured API, or the offline default.</summary>
    public static IServiceCollection AddMediaActivities(this IServiceCollection services, IConfiguration config)
    {
        if (OpenAiEndpoint.FromConfiguration(config, "LLM", "gpt-4o-mini", TimeSpan.FromSeconds(60)) is { } llm)
            services.AddHttpClient(nameof(ChatScriptWriter)).AddTypedClient<IScriptWriter>((http, _) => new ChatScriptWriter(http, llm));
        else
        {
            services.AddSingleton<IScriptWriter, TemplateScriptWriter>();
        }
        services.AddNodeActivity<ScriptGenerateActivity>();
        services.AddNodeActivity<ScriptTransformActivity>();

        services.AddSingleton<ISpeechSynthesizer, EspeakSynthesizer>();
        if (OpenAiEndpoint.FromConfiguration(config, "TTS", "tts-1", TimeSpan.FromSeconds(60)) is { } tts)
        {
            services.AddHttpClient(nameof(OpenAiSpeech)).AddTypedClient((http, _) => new OpenAiSpeech(http, tts));
            services.AddSingleton<ISpeechSynthesizer>(sp => sp.GetRequiredService<OpenAiSpeech>());
        }
        services.AddNodeActivity<VoiceTtsActivity>();
        if (OpenAiEndpoint.FromConfiguration(config, "ASR", "whisper-1", TimeSpan.FromMinutes(5)) is { } asr)
            services.AddHttpClient(nameof(OpenAiTranscriber)).AddTypedClient((http, _) => new OpenAiTranscriber(http, asr));
        services.AddNodeActivity<SubtitleAutoActivity>();
        services.AddNodeActivity<AudioMixActivity>();

        services.AddSingleton(StockLibrary(config));
        if (PexelsOptions.FromSettings(key => config[key]) is { } pexels)
        {
            services.AddSingleton(pexels);
            services.AddHttpClient<PexelsClient>();
        }
        services.AddNodeActivity<InputStockActivity>();
        services.AddNodeActivity<InputUploadActivity>();
        services.AddNodeActivity<EditTimelineActivity>();

        var signingKey = config["FENTA_URL_SIGNING_KEY"] is { Length: >= 32 } urlKey ? urlKey : config["FENTA_JWT_SIGNING_KEY"];
        if (signingKey is { Length: >= 32 })
            services.AddSingleton(new DownloadLinks(new Uri(config["FENTA_PUBLIC_URL"] is { Length: > 0 } url ? url : "http://127.0.0.1:8080"),
                new SignedUrls(System.Text.Encoding.UTF8.GetBytes(signingKey))));
        services.AddNodeActivity<OutputDownloadActivity>();

        if (config["FENTA_KIE_API_KEY"] is { Length: > 0 } kieKey)
        {
            var kie = new KieOptions(new Uri(config["FENTA_KIE_BASE_URL"] is { Length: > 0 } kieUrl ? kieUrl : "https://api.kie.ai/"), kieKey,
                TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(Seconds(config["FENTA_KIE_POLL_SECONDS"]) ?? 5),
                Seconds(config["FENTA_KIE_DEADLINE_SECONDS"]) is { } deadline ? TimeSpan.FromSeconds(deadline) : null);
            services.AddHttpClient(nameof(KieClient)).AddTypedClient((http, _) => new KieClient(http, kie));
            // One client for the process, so each API family's circuit breaker sees every call.
            services.AddSingleton(sp => new KieRuntime(sp.GetRequiredService<KieClient>(), kie, sp.GetService<DownloadLinks>()
                ?? throw new InvalidOperationException("FENTA_KIE_API_KEY needs FENTA_URL_SIGNING_KEY (or FENTA_JWT_SIGNING_KEY) and FENTA_PUBLIC_URL: KIE fetches inputs and calls back over them.")));
        }
        foreach (var type in (string[])["Input.KAI.GenerateImage", "Input.KAI.GenerateVideo", "Input.KAI.EditVideo"])
            services.AddSingleton<INodeActivity>(sp => new KaiGenerationActivity(type, sp.GetRequiredService<Npgsql.NpgsqlDataSource>(),
                sp.GetRequiredService<AssetStore>(), sp.GetService<KieRuntime>()));
        return services;
    }
}
