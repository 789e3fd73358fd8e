namespace FentaWeb.Render.Tests;

public class RenderHostTests
{
    [Fact]
    public void AnUnresolvedKeyVaultReferenceIsAStartupErrorNamingTheSetting()
    {
        var error = Assert.Throws<InvalidOperationException>(() => RenderHost.Build([], once: true, new Dictionary<string, string?>
        {
            ["FENTA_DB"] = "@Microsoft.KeyVault(VaultName=kv-test;SecretName=db)",
        }));
        Assert.StartsWith("FENTA_DB still holds a reference to Key Vault", error.Message);
        Assert.DoesNotContain("kv-test", error.Message);
    }
}
