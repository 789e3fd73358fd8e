using FentaWeb.Domain.Identity;

namespace FentaWeb.Domain.Tests;

public class PasswordHasherTests
{
    [Fact]
    public void HashVerifiesOnlyTheSamePasswordAndIsSalted()
    {
        var hash = PasswordHasher.Hash("correct horse battery");
        Assert.StartsWith($"pbkdf2-sha256${PasswordHasher.Iterations}$", hash);
        Assert.True(PasswordHasher.Hash("correct horse battery") != hash, "two hashes of one password must differ (salt)");
        Assert.True(PasswordHasher.Verify("correct horse battery", hash));
        Assert.False(PasswordHasher.Verify("correct horse batterY", hash));
        Assert.False(PasswordHasher.Verify("anything", "not-a-hash"));
        Assert.True(PasswordHasher.Iterations >= 600_000);
    }
}
