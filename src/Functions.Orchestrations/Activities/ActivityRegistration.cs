using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Orchestrations.Engine;
using FentaWeb.Orchestrations.Providers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Orchestrations.Activities;

public static class ActivityRegistration
{
    /// <summary>The real node activities, each with its provider: the configured API, or the offline default.</summary>
    public static IServiceCollection AddMediaActivities(this IServiceCollection services, IConfiguration config)
    {
        if (LlmOptionsFrom(config) is { } llm)
        {
            services.AddSingleton(llm);
            services.AddHttpClient<IScriptWriter, ChatScriptWriter>();
        }
        else
        {
            services.AddSingleton<IScriptWriter, TemplateScriptWriter>();
        }
        services.AddActivity<ScriptGenerateActivity>();
        services.AddActivity<ScriptTransformActivity>();

        services.AddSingleton<ISpeechSynthesizer, EspeakSynthesizer>();
        if (config["FENTA_TTS_BASE_URL"] is { Length: > 0 } ttsUrl)
        {
            services.AddSingleton(new SpeechApiOptions(new Uri(ttsUrl.EndsWith('/') ? ttsUrl : ttsUrl + "/"), config["FENTA_TTS_API_KEY"] ?? "",
                config["FENTA_TTS_MODEL"] is { Length: > 0 } ttsModel ? ttsModel : "tts-1", TimeSpan.FromSeconds(60)));
            services.AddHttpClient<OpenAiSpeech>();
            services.AddSingleton<ISpeechSynthesizer>(sp => sp.GetRequiredService<OpenAiSpeech>());
        }
        services.AddActivity<VoiceTtsActivity>();
        if (config["FENTA_ASR_BASE_URL"] is { Length: > 0 } asrUrl)
        {
            services.AddSingleton(new TranscriptionOptions(new Uri(asrUrl.EndsWith('/') ? asrUrl : asrUrl + "/"), config["FENTA_ASR_API_KEY"] ?? "",
                config["FENTA_ASR_MODEL"] is { Length: > 0 } asrModel ? asrModel : "whisper-1", TimeSpan.FromMinutes(5)));
            services.AddHttpClient<OpenAiTranscriber>();
        }
        services.AddActivity<SubtitleAutoActivity>();
        services.AddActivity<AudioMixActivity>();

        var stockFolder = config["FENTA_STOCK_DIR"] is { Length: > 0 } dir ? dir : Path.Combine(".local", "stock");
        var stockClips = int.TryParse(config["FENTA_STOCK_CLIPS"], out var n) && n > 0 ? n : 24;
        services.AddSingleton(new LocalStockLibrary(stockFolder, stockClips));
        if (config["FENTA_PEXELS_API_KEY"] is { Length: > 0 } pexelsKey)
        {
            services.AddSingleton(new PexelsOptions(new Uri(config["FENTA_PEXELS_BASE_URL"] is { Length: > 0 } pexelsUrl ? pexelsUrl : "https://api.pexels.com/"),
                pexelsKey, TimeSpan.FromSeconds(30)));
            services.AddHttpClient<PexelsClient>();
        }
        services.AddActivity<InputStockActivity>();
        services.AddActivity<InputUploadActivity>();
        services.AddActivity<EditTimelineActivity>();

        var signingKey = config["FENTA_URL_SIGNING_KEY"] is { Length: >= 32 } urlKey ? urlKey : config["FENTA_JWT_SIGNING_KEY"];
        if (signingKey is { Length: >= 32 })
            services.AddSingleton(new DownloadLinks(new Uri(config["FENTA_PUBLIC_URL"] is { Length: > 0 } url ? url : "http://127.0.0.1:8080"),
                new SignedUrls(System.Text.Encoding.UTF8.GetBytes(signingKey))));
        services.AddActivity<OutputDownloadActivity>();
        return services;
    }

    public static LlmOptions? LlmOptionsFrom(IConfiguration config)
    {
        if (config["FENTA_LLM_BASE_URL"] is not { Length: > 0 } baseUrl) return null;
        if (!Uri.TryCreate(baseUrl.EndsWith('/') ? baseUrl : baseUrl + "/", UriKind.Absolute, out var uri))
            throw new InvalidOperationException($"FENTA_LLM_BASE_URL must be an absolute URL such as https://api.openai.com/v1, not '{baseUrl}'.");
        return new LlmOptions(uri, config["FENTA_LLM_API_KEY"] ?? "", config["FENTA_LLM_MODEL"] is { Length: > 0 } model ? model : "gpt-4o-mini",
            TimeSpan.FromSeconds(double.TryParse(config["FENTA_LLM_TIMEOUT_SECONDS"], out var s) && s > 0 ? s : 60));
    }
}
