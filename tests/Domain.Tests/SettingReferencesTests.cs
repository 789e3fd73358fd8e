using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Tests;

public class SettingReferencesTests
{
    [Fact]
    public void OnlyValuesThatStartAsAReferenceAreUnresolvedInAnyCase()
    {
        var settings = new Dictionary<string, string?>
        {
            ["FENTA_JWT_SIGNING_KEY"] = "@Microsoft.KeyVault(VaultName=kv-test;SecretName=jwt-signing-key)",
            ["FENTA_KIE_API_KEY"] = "  @microsoft.keyvault(SecretUri=https://kv-test.vault.azure.net/secrets/kie/)",
            ["FENTA_SMTP_PASSWORD"] = "@Microsoft.AppConfiguration(Endpoint=https://appcs-test.azconfig.io; Key=smtp)",
            ["FENTA_DB"] = "Host=db;Password=@Microsoft.KeyVault(not at the start)",
            ["FENTA_PUBLIC_URL"] = "https://app.example.test/",
            ["Logging"] = null,
        };
        Assert.Equal(["FENTA_JWT_SIGNING_KEY", "FENTA_KIE_API_KEY", "FENTA_SMTP_PASSWORD"], SettingReferences.Unresolved(settings));

        var error = Assert.Throws<InvalidOperationException>(() => SettingReferences.ThrowIfUnresolved(settings));
        Assert.StartsWith("FENTA_JWT_SIGNING_KEY, FENTA_KIE_API_KEY, FENTA_SMTP_PASSWORD still hold references", error.Message);
        Assert.DoesNotContain("kv-test", error.Message);
        Assert.DoesNotContain("appcs-test", error.Message);
    }

    [Fact]
    public void ResolvedSettingsPass()
    {
        var settings = new Dictionary<string, string?> { ["FENTA_JWT_SIGNING_KEY"] = new('k', 40), ["FENTA_DB"] = "Host=db" };
        Assert.Empty(SettingReferences.Unresolved(settings));
        Assert.Null(SettingReferences.Problem(settings));
        SettingReferences.ThrowIfUnresolved(settings);
    }
}
