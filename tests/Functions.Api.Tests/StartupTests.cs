namespace FentaWeb.Api.Tests;

/// <summary>Settings the API refuses to start on, before it opens the database or listens.</summary>
public class StartupTests
{
    // What App Service hands the app when it cannot resolve a reference: the reference's own text, long enough to
    // pass the signing key's 32-character minimum.
    private const string JwtReference = "@Microsoft.KeyVault(VaultName=kv-test;SecretName=jwt-signing-key)";

    private static readonly Dictionary<string, string?> Settings = new()
    {
        // Never opened: start-up fails before anything connects.
        ["FENTA_DB"] = "Host=127.0.0.1;Port=1;Database=never_opened",
        ["FENTA_JWT_SIGNING_KEY"] = JwtReference,
    };

    [Fact]
    public void AnUnresolvedKeyVaultReferenceStopsTheApiNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => FentaApi.BuildLocal(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string?>(Settings)));
        Assert.StartsWith("FENTA_JWT_SIGNING_KEY still holds a reference to Key Vault", error.Message);
        Assert.DoesNotContain("kv-test", error.Message);
    }

    [Fact]
    public void TheFunctionAppRefusesItToo()
    {
        // Settings as command-line configuration, so no environment variable of the test process changes.
        var args = Settings.Select(s => $"--{s.Key}={s.Value}").ToArray();
        var error = Assert.Throws<InvalidOperationException>(() => FentaApi.BuildFunctionsHost(args));
        Assert.StartsWith("FENTA_JWT_SIGNING_KEY still holds a reference to Key Vault", error.Message);
    }
}
