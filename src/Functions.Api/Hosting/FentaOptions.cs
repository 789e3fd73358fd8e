using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Webhooks;
using FentaWeb.Integrations.Blob;
using FentaWeb.Integrations.OpenAi;
using FentaWeb.Integrations.Pexels;
using FentaWeb.Integrations.Smtp;
using FentaWeb.Integrations.Stripe;
using FentaWeb.LocalHosting;

namespace FentaWeb.Api.Hosting;

/// <summary>Every setting of the API, read from <c>FENTA_*</c> environment variables (docs/configuration.md lists them).</summary>
public sealed class FentaOptions
{
    public required string Database { get; init; }
    /// <summary>FENTA_DB_AUTH: <c>password</c> (in FENTA_DB) or <c>entra</c> (the managed identity's token).</summary>
    public string? DatabaseAuthentication { get; init; }
    /// <summary>FENTA_MIGRATE_ON_START and FENTA_DB_READWRITE_PRINCIPALS: whether the API migrates as it starts, and whom it grants (<see cref="DatabaseSetup"/>).</summary>
    public bool MigratesOnStart { get; init; } = true;
    public IReadOnlyDictionary<string, string> ReadWritePrincipals { get; init; } = new Dictionary<string, string>();
    /// <summary>HMAC key for access tokens; every instance behind one URL must share it.</summary>
    public required byte[] JwtSigningKey { get; init; }
    public TimeSpan AccessTokenLifetime { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan RefreshTokenLifetime { get; init; } = TimeSpan.FromDays(30);
    /// <summary>Requests a minute per user (per client address before sign-in), whichever key or token they use.</summary>
    public int RateLimitPerMinute { get; init; } = 100;
    /// <summary>Requests a minute for a whole org, all its members and keys together.</summary>
    public int OrgRateLimitPerMinute { get; init; } = 1000;
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;
    /// <summary>Requests a minute per client address to the public share pages (FENTA_SHARE_VIEWS_PER_MINUTE).</summary>
    public int ShareViewsPerMinute { get; init; } = 60;
    /// <summary>The Blob container of asset bytes (shared with the workers) and the lifetimes of its signed links.</summary>
    public required AssetStorageOptions AssetStorage { get; init; }
    /// <summary>The largest direct upload (FENTA_MAX_UPLOAD_MB); the file goes straight to Blob Storage, never through the API.</summary>
    public long MaxUploadBytes { get; init; } = 512L * 1024 * 1024;
    /// <summary>The offline stock library (shared with the workers) and Pexels when keyed, for stock search.</summary>
    public required LocalStockLibrary StockLibrary { get; init; }
    public PexelsOptions? Pexels { get; init; }
    /// <summary>Stripe for paid plans; without it every org is on the free plan.</summary>
    public StripeOptions? Stripe { get; init; }
    /// <summary>Which paid services the workers call (the same FENTA_LLM_*, FENTA_KIE_*, FENTA_TTS_* settings), for cost estimates.</summary>
    public PaidProviders Providers { get; init; } = new(Llm: false, Kie: false, OpenAiSpeech: false);
    /// <summary>OpenAI speech (FENTA_TTS_*), for voice samples of its voices; null: only espeak-ng's voices have samples.</summary>
    public OpenAiEndpoint? Speech { get; init; }
    /// <summary>The chat LLM (FENTA_LLM_*, as the workers' scripts use it), for enrichment; null: the offline writer.</summary>
    public OpenAiEndpoint? Llm { get; init; }
    /// <summary>FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS, as the workers read it: webhook URLs may name loopback and other special-purpose addresses (local development, tests).</summary>
    public bool AllowPrivateWebhookAddresses { get; init; }
    public string? DemoApiKey { get; init; }
    public string? DemoPassword { get; init; }
    /// <summary>The SMTP server for verification, password-reset and invitation mails; null sends none (and logs that).</summary>
    public SmtpOptions? Smtp { get; init; }
    /// <summary>FENTA_PUBLIC_URL, with a trailing slash: the only base of links in mails (never the request's Host).</summary>
    public Uri PublicUrl { get; init; } = Domain.Common.PublicUrl.Local;
    /// <summary>Every setting, for the services that read their own (publishing's platforms and key ring).</summary>
    public Func<string, string?> Setting { get; init; } = _ => null;
    /// <summary>Mails to one address in an hour, whoever asks (FENTA_MAILS_PER_ADDRESS_PER_HOUR).</summary>
    public int MailsPerAddressPerHour { get; init; } = 5;
    /// <summary>
    /// FENTA_CLIENT_ADDRESS_FROM_FRONT_END: a front end that sets <c>X-Client-IP</c> stands before the API, so that header is
    /// the caller's address (<see cref="Caller.ClientAddressOf"/>). On by default behind the Functions host (App Service's
    /// front end sets it); off elsewhere, where a client could send any value.
    /// </summary>
    public bool ClientAddressFromFrontEnd { get; init; }
    /// <summary>FENTA_WEB_DIR: the web app's build, served on the API's origin (<see cref="Web.WebAppFunctions"/>); by default <c>web</c> beside the app.</summary>
    public string WebDirectory { get; init; } = DefaultWebDirectory;

    private static string DefaultWebDirectory => Path.Combine(AppContext.BaseDirectory, "web");

    public static FentaOptions FromConfiguration(IConfiguration config)
    {
        // First: an unresolved Key Vault reference would pass the checks below (its text is over 32 characters).
        Domain.Common.SettingReferences.ThrowIfUnresolved(config.AsEnumerable());
        var database = config["FENTA_DB"];
        if (string.IsNullOrWhiteSpace(database))
            throw new InvalidOperationException("FENTA_DB is not set: give an Npgsql connection string (./run.sh sets one up).");
        var signingKey = config["FENTA_JWT_SIGNING_KEY"];
        if (string.IsNullOrWhiteSpace(signingKey) || signingKey.Length < 32)
            throw new InvalidOperationException("FENTA_JWT_SIGNING_KEY must be set to at least 32 characters (./run.sh generates one).");
        string? Setting(string key) => config[key];
        return new FentaOptions
        {
            Database = database,
            DatabaseAuthentication = config["FENTA_DB_AUTH"],
            MigratesOnStart = DatabaseSetup.MigratesOnStart(Setting),
            ReadWritePrincipals = DatabaseSetup.ReadWritePrincipals(Setting),
            JwtSigningKey = System.Text.Encoding.UTF8.GetBytes(signingKey),
            AccessTokenLifetime = TimeSpan.FromMinutes(Int(config, "FENTA_ACCESS_TOKEN_MINUTES", 15)),
            RefreshTokenLifetime = TimeSpan.FromDays(Int(config, "FENTA_REFRESH_TOKEN_DAYS", 30)),
            RateLimitPerMinute = Int(config, "FENTA_RATE_LIMIT_PER_MINUTE", 100),
            OrgRateLimitPerMinute = Int(config, "FENTA_ORG_RATE_LIMIT_PER_MINUTE", 1000),
            MaxRequestBodyBytes = Int(config, "FENTA_MAX_BODY_BYTES", 1024 * 1024),
            ShareViewsPerMinute = Int(config, "FENTA_SHARE_VIEWS_PER_MINUTE", 60),
            AssetStorage = AssetStorageOptions.FromSettings(Setting),
            MaxUploadBytes = Int(config, "FENTA_MAX_UPLOAD_MB", 512) * 1024L * 1024,
            StockLibrary = LocalStockLibrary.FromSettings(Setting),
            Pexels = PexelsOptions.FromSettings(Setting),
            Stripe = StripeOptions.FromSettings(Setting),
            Providers = PaidProviders.FromSettings(Setting),
            Speech = OpenAiSpeech.EndpointFrom(config),
            Llm = ChatMetadataWriter.EndpointFrom(config),
            AllowPrivateWebhookAddresses = SpecialPurposeAddresses.AllowedFromSettings(Setting),
            DemoApiKey = config["FENTA_DEMO_API_KEY"],
            DemoPassword = config["FENTA_DEMO_PASSWORD"],
            Smtp = SmtpOptions.FromSettings(Setting),
            PublicUrl = Domain.Common.PublicUrl.FromSettings(Setting),
            Setting = Setting,
            MailsPerAddressPerHour = Int(config, "FENTA_MAILS_PER_ADDRESS_PER_HOUR", 5),
            ClientAddressFromFrontEnd = config["FENTA_CLIENT_ADDRESS_FROM_FRONT_END"] is { Length: > 0 } fromFrontEnd
                ? fromFrontEnd is "true" or "1" : FunctionsHosting.IsFunctionsHost([]),
            WebDirectory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(config["FENTA_WEB_DIR"] is { Length: > 0 } web ? web : DefaultWebDirectory)),
        };
    }

    private static int Int(IConfiguration config, string key, int fallback) =>
        config[key] is { Length: > 0 } text
            ? int.TryParse(text, out var value) && value > 0 ? value : throw new InvalidOperationException($"{key} must be a positive integer, not '{text}'.")
            : fallback;
}
