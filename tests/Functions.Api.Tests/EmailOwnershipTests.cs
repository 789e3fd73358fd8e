using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Issue 16, finding 1: an address is owned by whoever reads its mail. Invitations are accepted by a verified owner of the
/// invited address, never by registering it; passwords are reset by mailed links. Mails are read back from MailDev.
/// </summary>
public class EmailOwnershipTests(EmailOwnershipTests.Host host) : IClassFixture<EmailOwnershipTests.Host>
{
    public sealed class Host : ApiHost;

    private const string Password = "a long enough password";

    [Fact]
    public async Task RegisteringAnInvitedAddressDoesNotJoinTheOrg()
    {
        // The probe's attack: an admin invites a new hire; someone else registers that address first.
        var owner = await host.RegisterVerifiedAsync();
        var newHire = $"new-hire-{Guid.NewGuid():N}@company.example";
        await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = newHire, role = "admin" })).ReadJsonAsync(202);

        var attacker = await (await host.Client().PostAsJsonAsync("/v1/auth/register", new { email = newHire, password = Password, name = "Attacker" })).ReadJsonAsync(201);
        var token = attacker.GetProperty("access_token").GetString();
        var me = await (await host.Client(token).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.Equal(1, me.GetProperty("memberships").GetArrayLength());
        Assert.False(me.GetProperty("user").GetProperty("email_verified").GetBoolean());
        await (await host.Client(token, owner.OrgId).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));
        Assert.Equal(1, (await (await owner.Client().GetAsync("/v1/org/invitations")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task OnlyAVerifiedOwnerOfTheInvitedAddressAcceptsAndOnlyOnce()
    {
        var owner = await host.RegisterVerifiedAsync();
        var invitee = await host.RegisterAsync("Invitee");
        await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = invitee.Email, role = "admin" })).ReadJsonAsync(202);
        var invitation = await host.Mail.WaitForAsync(invitee.Email, "invited you");
        Assert.StartsWith(ApiHost.PublicUrl + "accept-invitation?token=", invitation.Link);
        var accept = $"/v1/invitations/{invitation.Token}/accept";

        await (await invitee.Client().PostAsync(accept, null)).ReadProblemAsync(409, "EMAIL_NOT_VERIFIED");
        var someoneElse = await host.RegisterAsync();
        await host.VerifyEmailAsync(someoneElse);
        await (await someoneElse.Client().PostAsync(accept, null)).ReadProblemAsync(403, "FORBIDDEN");
        await (await host.Client().PostAsync(accept, null)).ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));

        await host.VerifyEmailAsync(invitee);
        var me = await (await invitee.Client().GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.True(me.GetProperty("user").GetProperty("email_verified").GetBoolean());
        var joined = await (await invitee.Client().PostAsync(accept, null)).ReadJsonAsync(200);
        Assert.Equal((owner.OrgId, "admin"), (joined.GetProperty("org_id").GetString(), joined.GetProperty("role").GetString()));
        var inOrg = await (await invitee.Client(owner.OrgId).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.Equal("admin", inOrg.GetProperty("role").GetString());

        await (await invitee.Client().PostAsync(accept, null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await invitee.Client().PostAsync("/v1/invitations/inv_made-up/accept", null)).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, (await (await owner.Client().GetAsync("/v1/org/invitations")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task InvitingAnAccountAndAnUnknownAddressAnswerAlikeAndAddNoOne()
    {
        var owner = await host.RegisterVerifiedAsync();
        var existing = await host.RegisterAsync("Existing");
        var unknown = $"{Guid.NewGuid():N}@example.test";

        var toAccount = await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = existing.Email, role = "editor" })).ReadJsonAsync(202);
        var toNobody = await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = unknown, role = "editor" })).ReadJsonAsync(202);

        string[] Fields(JsonElement body) => [.. body.EnumerateObject().Select(p => p.Name).Order()];
        Assert.Equal(Fields(toNobody), Fields(toAccount));
        Assert.Equal(["created_at", "email", "expires_at", "id", "invited_by", "role"], Fields(toAccount));
        Assert.DoesNotContain(existing.UserId, toAccount.GetRawText());
        Assert.DoesNotContain("Existing", toAccount.GetRawText());
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));
        await host.Mail.WaitForAsync(existing.Email, "invited you");
        await host.Mail.WaitForAsync(unknown, "invited you");
    }

    [Fact]
    public async Task VerificationLinksCanBeResentAndAreSingleUse()
    {
        var user = await host.RegisterAsync();
        var first = await host.Mail.WaitForAsync(user.Email, "Confirm your email");
        Assert.StartsWith(ApiHost.PublicUrl + "verify-email?token=", first.Link);
        await (await user.Client().PostAsync("/v1/auth/verify-email/send", null)).ReadJsonAsync(202);
        var second = await host.Mail.WaitForAsync(user.Email, "Confirm your email", count: 2);
        Assert.NotEqual(first.Token, second.Token);

        var verified = await (await host.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token = second.Token })).ReadJsonAsync(200);
        Assert.True(verified.GetProperty("email_verified").GetBoolean());
        var reused = await host.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token = second.Token });
        Assert.Equal(["token"], (await reused.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        await (await user.Client().PostAsync("/v1/auth/verify-email/send", null)).ReadProblemAsync(409, "EMAIL_ALREADY_VERIFIED");
    }

    [Fact]
    public async Task PasswordResetByMailEndsEverySessionAndItsLinkWorksOnce()
    {
        var user = await host.RegisterAsync();
        var unknown = $"{Guid.NewGuid():N}@example.test";
        var known = await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset", new { email = user.Email })).ReadJsonAsync(202);
        var nobody = await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset", new { email = unknown })).ReadJsonAsync(202);
        Assert.Equal(nobody.GetProperty("message").GetString()!.Replace(unknown, "X"), known.GetProperty("message").GetString()!.Replace(user.Email, "X"));
        var mail = await host.Mail.WaitForAsync(user.Email, "Reset your");
        Assert.Empty(await host.Mail.MailsToAsync(unknown));

        var weak = await host.Client().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = mail.Token, new_password = "short" });
        Assert.Equal(["new_password"], (await weak.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = mail.Token, new_password = "a brand new password" })).ReadJsonAsync(204);

        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = user.RefreshToken })).ReadProblemAsync(401, "SESSION_REVOKED");
        await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = Password })).ReadProblemAsync(401, "INVALID_CREDENTIALS");
        await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = "a brand new password" })).ReadJsonAsync(200);
        var again = await host.Client().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = mail.Token, new_password = "yet another password" });
        Assert.Equal(["token"], (await again.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task AnExpiredResetLinkIsRefused()
    {
        var user = await host.RegisterAsync();
        const string secret = "pr_expired-link-for-the-test";
        await host.ScalarAsync("""
            INSERT INTO email_tokens (id, user_id, purpose, email, token_hash, expires_at, created_at)
            VALUES ($1, $2, 'password_reset', $3, $4, now() - interval '1 minute', now() - interval '61 minutes')
            """, $"etok_{Guid.NewGuid():N}", user.UserId, user.Email, ApiKey.Hash(secret));
        var expired = await host.Client().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = secret, new_password = "a brand new password" });
        Assert.Equal(["token"], (await expired.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = user.Email, password = Password })).ReadJsonAsync(200);
    }

    [Fact]
    public async Task LinksAreBuiltFromThePublicUrlNotTheHostHeader()
    {
        var user = await host.RegisterAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/password-reset") { Content = JsonContent.Create(new { email = user.Email }) };
        request.Headers.Host = "evil.example";
        request.Headers.Add("X-Forwarded-Host", "evil.example");
        await (await host.Client().SendAsync(request)).ReadJsonAsync(202);
        var mail = await host.Mail.WaitForAsync(user.Email, "Reset your");
        Assert.StartsWith(ApiHost.PublicUrl + "reset-password?token=", mail.Link);
        Assert.DoesNotContain("evil.example", mail.Text);
    }

    [Fact]
    public async Task AnAddressGetsAtMostFiveMailsAnHourWhoeverAsks()
    {
        var user = await host.RegisterAsync(); // its verification mail is the first of the five
        for (var i = 0; i < 7; i++) await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset", new { email = user.Email })).ReadJsonAsync(202);
        await host.Mail.WaitForAsync(user.Email, "Reset your", count: 4);
        await Task.Delay(500);
        Assert.Equal(5, (await host.Mail.MailsToAsync(user.Email)).Count);
    }
}
