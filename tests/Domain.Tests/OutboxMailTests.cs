using FentaWeb.Domain.Identity;

namespace FentaWeb.Domain.Tests;

public class OutboxMailTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void RetriesBackOffFromTenSecondsToHalfAnHourAndStopAfterTwelveAttempts()
    {
        var token = EmailToken.Issue("user_1", "a@example.test", EmailTokenPurpose.VerifyEmail, Now);
        var delays = Enumerable.Range(1, OutboxMail.MaxAttempts)
            .Select(attempts => new OutboxMail { Id = "mail_1", SubjectId = token.Id, Attempts = attempts })
            .Select(mail => (mail.RetryDelay.TotalSeconds, mail.IsLastAttempt)).ToList();
        Assert.Equal([10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800, 1800, 1800], delays.Select(d => d.TotalSeconds));
        Assert.Equal([.. Enumerable.Repeat(false, 11), true], delays.Select(d => d.IsLastAttempt));
    }

    [Fact]
    public void ALinkHasNoSecretUntilItsMailIsSentAndEachSendReplacesTheLast()
    {
        var token = EmailToken.Issue("user_1", "a@example.test", EmailTokenPurpose.PasswordReset, Now);
        var mail = OutboxMail.Of(token);
        Assert.Equal((OutboxMailKind.EmailToken, token.Id, Now, 0), (mail.Kind, mail.SubjectId, mail.DueAt, mail.Attempts));
        Assert.Null(token.TokenHash);

        var first = token.MintSecret();
        Assert.StartsWith("pr_", first);
        Assert.Equal(ApiKey.Hash(first), token.TokenHash);
        var second = token.MintSecret();
        Assert.NotEqual(first, second);
        Assert.Equal(ApiKey.Hash(second), token.TokenHash);

        var invitation = OrgInvitation.Issue("org_1", "b@example.test", OrgRole.Editor, "user_1", Now);
        Assert.Null(invitation.TokenHash);
        Assert.Equal(ApiKey.Hash(invitation.MintSecret()), invitation.TokenHash);
        Assert.Equal(OutboxMailKind.Invitation, OutboxMail.Of(invitation).Kind);
    }
}
