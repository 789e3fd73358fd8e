using System.Net.Http.Json;
using System.Text.Json;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Issue 24, the high finding: someone registers an address they do not own. A never-verified address mints no key, invites
/// no one and pays for nothing; a password reset (which proves the mailbox) ends every credential minted before it, in every
/// org, and mails the owner what it ended.
/// </summary>
public class SquattingTests(SquattingTests.Host host) : IClassFixture<SquattingTests.Host>
{
    public sealed class Host : ApiHost;

    private const string Password = "a long enough password";
    private const string NewPassword = "the owner's new password";

    [Fact]
    public async Task AnUnverifiedAddressCannotMintKeysInviteOrPay()
    {
        var squatter = await host.RegisterAsync("Squatter");
        var client = squatter.Client();

        var key = await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "keep", scopes = new[] { "workflows:read" } }))
            .ReadProblemAsync(403, "EMAIL_NOT_VERIFIED");
        Assert.Contains("verify", key.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        await (await client.PostAsJsonAsync("/v1/org/members", new { email = $"{Guid.NewGuid():N}@example.test", role = "admin" }))
            .ReadProblemAsync(403, "EMAIL_NOT_VERIFIED");
        // Refused before Stripe is even asked (this host has none: a verified caller would get 409 BILLING_NOT_CONFIGURED).
        await (await client.PostAsJsonAsync("/v1/billing/checkout", new { plan = "pro", success_url = "https://a.example/ok", cancel_url = "https://a.example/no" }))
            .ReadProblemAsync(403, "EMAIL_NOT_VERIFIED");
        await (await client.PostAsJsonAsync("/v1/billing/portal", new { return_url = "https://a.example/billing" })).ReadProblemAsync(403, "EMAIL_NOT_VERIFIED");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM api_keys WHERE user_id = $1", squatter.UserId));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM org_invitations WHERE org_id = $1", squatter.OrgId));

        // A key from before this rule (the issue's squatter minted one) cannot be rolled into a fresh one either.
        var owner = await host.RegisterVerifiedAsync();
        var (_, legacyId) = await owner.CreateKeyAsync("workflows:read");
        await host.ScalarAsync("UPDATE users SET email_verified_at = NULL WHERE id = $1", owner.UserId);
        await (await owner.Client().PostAsync($"/v1/api-keys/{legacyId}/roll", null)).ReadProblemAsync(403, "EMAIL_NOT_VERIFIED");

        // Free-plan work stays open; verifying opens the rest.
        await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201);
        await (await client.GetAsync("/v1/workflows")).ReadJsonAsync(200);
        await host.VerifyEmailAsync(squatter);
        await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "now mine", scopes = new[] { "workflows:read" } })).ReadJsonAsync(201);
    }

    [Fact]
    public async Task TheOwnersResetEndsTheSquattersSessionAndTellsTheOwner()
    {
        // The squatter registers the owner's address and keeps the session; the owner cannot register, so resets.
        var squatter = await host.RegisterAsync("Squatter");
        var access = await (await squatter.Client().GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.False(access.GetProperty("user").GetProperty("email_verified").GetBoolean());

        await ResetAsync(squatter.Email);

        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = squatter.RefreshToken })).ReadProblemAsync(401, "SESSION_REVOKED");
        await (await squatter.Client().GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
        await (await squatter.Client().GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        var mail = await host.Mail.WaitForAsync(squatter.Email, "password was reset");
        Assert.Contains("1 signed-in session ended", mail.Text);
        Assert.Contains("0 API keys revoked", mail.Text);

        // The owner signs in at once (a token issued right after the reset works) and holds a verified address.
        var owner = await SignInAsync(squatter.Email, NewPassword);
        var me = await (await host.Client(owner).GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.True(me.GetProperty("user").GetProperty("email_verified").GetBoolean());
        await (await host.Client(owner).PostAsJsonAsync("/v1/api-keys", new { name = "mine", scopes = new[] { "workflows:read" } })).ReadJsonAsync(201);
    }

    [Fact]
    public async Task AResetRevokesEveryKeyMintedBeforeItInEveryOrgAndTheMailNamesThem()
    {
        // Whoever held the password (a squatter from before the verification rule, or a thief) minted keys in the personal org
        // and in another org the account belongs to.
        var victim = await host.RegisterVerifiedAsync("Victim");
        var team = await host.RegisterVerifiedAsync("Team owner");
        await host.AddMemberAsync(team, victim, "editor");
        var thief = await SignInAsync(victim.Email, Password);
        var personal = await MintAsync(host.Client(thief), "thief personal");
        var inTeam = await MintAsync(host.Client(thief, team.OrgId), "thief in team");
        var rolled = await MintAsync(host.Client(thief), "thief rolled");
        // A rolled key still inside its overlap is a credential too.
        await (await host.Client(thief).PostAsJsonAsync($"/v1/api-keys/{rolled.Id}/roll", new { expires_in = 3600 })).ReadJsonAsync(201);
        var workflow = await (await victim.Client().PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201);
        await (await host.Client(personal.Secret).GetAsync($"/v1/workflows/{workflow.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        var teamKeyOfOwner = await team.CreateKeyAsync("workflows:read");

        await ResetAsync(victim.Email);

        foreach (var secret in new[] { personal.Secret, inTeam.Secret, rolled.Secret })
            await (await host.Client(secret).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        await (await host.Client(thief).GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
        await (await host.Client(victim.AccessToken).GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
        // Another member's key in the shared org is not the reset account's credential.
        await (await host.Client(teamKeyOfOwner.Secret).GetAsync("/v1/workflows")).ReadJsonAsync(200);

        var owner = await SignInAsync(victim.Email, NewPassword);
        Assert.Empty(Keys(await (await host.Client(owner).GetAsync("/v1/api-keys")).ReadJsonAsync(200)));
        Assert.Empty(Keys(await (await host.Client(owner, team.OrgId).GetAsync("/v1/api-keys")).ReadJsonAsync(200)));
        // The team's admin sees no live key of the reset account either.
        Assert.DoesNotContain(Keys(await (await team.Client().GetAsync("/v1/api-keys")).ReadJsonAsync(200)), id => id == inTeam.Id);
        var mail = await host.Mail.WaitForAsync(victim.Email, "password was reset");
        foreach (var name in new[] { "thief personal", "thief in team", "thief rolled" }) Assert.Contains(name, mail.Text);
        Assert.Contains("4 API keys", mail.Text); // the rolled key and its successor count as two
        Assert.Contains("2 signed-in sessions", mail.Text);
    }

    [Fact]
    public async Task CredentialsSavedWhileTheResetCommittedAreRefusedToo()
    {
        // A sign-in or key creation that checked the old password or session just before the reset may save its row just
        // after the reset revoked the others: written here as such rows, created a moment before the reset, never revoked.
        var user = await host.RegisterVerifiedAsync();
        await ResetAsync(user.Email);
        const string refresh = "rt_saved-while-the-reset-committed", key = "fw_saved-while-the-reset-committed";
        await host.ScalarAsync("""
            INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, expires_at, created_at)
            SELECT $1, id, $2, $3, now() + interval '30 days', credentials_valid_after - interval '1 millisecond' FROM users WHERE id = $4
            """, $"rt_{Guid.NewGuid():N}", $"rtf_{Guid.NewGuid():N}", FentaWeb.Domain.Identity.ApiKey.Hash(refresh), user.UserId);
        await host.ScalarAsync("""
            INSERT INTO api_keys (id, user_id, org_id, name, key_hash, key_prefix, scopes, created_at)
            SELECT $1, id, $2, 'late', $3, 'fw_saved-w', '{workflows:read}', credentials_valid_after - interval '1 millisecond' FROM users WHERE id = $4
            """, $"key_{Guid.NewGuid():N}", user.OrgId, FentaWeb.Domain.Identity.ApiKey.Hash(key), user.UserId);

        await (await host.Client().PostAsJsonAsync("/v1/auth/refresh", new { refresh_token = refresh })).ReadProblemAsync(401, "SESSION_REVOKED");
        await (await host.Client(key).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
    }

    [Fact]
    public async Task RegisteringATakenAddressMailsItsOwner()
    {
        var owner = await host.RegisterAsync();
        var attempt = await host.Client().PostAsJsonAsync("/v1/auth/register", new { email = owner.Email, password = "someone else's password", name = "Squatter" });
        await attempt.ReadProblemAsync(409, "EMAIL_TAKEN");
        var mail = await host.Mail.WaitForAsync(owner.Email, "Someone tried to create");
        Assert.Contains("password-reset", mail.Text);
        await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email = owner.Email, password = Password })).ReadJsonAsync(200);
    }

    /// <summary>The mailbox's owner resets the password with the mailed link.</summary>
    private async Task ResetAsync(string email)
    {
        await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset", new { email })).ReadJsonAsync(202);
        var link = await host.Mail.WaitForAsync(email, "Reset your");
        await (await host.Client().PostAsJsonAsync("/v1/auth/password-reset/confirm", new { token = link.Token, new_password = NewPassword })).ReadJsonAsync(204);
    }

    private async Task<string> SignInAsync(string email, string password) =>
        (await (await host.Client().PostAsJsonAsync("/v1/auth/login", new { email, password })).ReadJsonAsync(200)).GetProperty("access_token").GetString()!;

    private static async Task<(string Secret, string Id)> MintAsync(HttpClient client, string name)
    {
        var created = await (await client.PostAsJsonAsync("/v1/api-keys", new { name, scopes = new[] { "workflows:read" } })).ReadJsonAsync(201);
        return (created.GetProperty("key").GetString()!, created.GetProperty("api_key").GetProperty("id").GetString()!);
    }

    private static IEnumerable<string> Keys(JsonElement page) => page.GetProperty("data").EnumerateArray().Select(k => k.GetProperty("id").GetString()!);
}
