using System.Net.Http.Json;

namespace FentaWeb.Api.Tests;

public class RoleTests(RoleTests.Host host) : IClassFixture<RoleTests.Host>
{
    public sealed class Host : ApiHost;

    private async Task<(Session Owner, Session Member, string MemberId)> OrgWithMemberAsync(string role)
    {
        var owner = await host.RegisterAsync("Owner");
        var member = await host.RegisterAsync("Member");
        return (owner, member, await host.AddMemberAsync(owner, member, role));
    }

    [Fact]
    public async Task ViewerReadsButCannotWrite()
    {
        var (owner, viewer, _) = await OrgWithMemberAsync("viewer");
        var workflow = await (await owner.Client().PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201);
        var client = viewer.Client(owner.OrgId);

        await (await client.GetAsync($"/v1/workflows/{workflow.GetProperty("id").GetString()}")).ReadJsonAsync(200);
        var write = await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow());
        Assert.Equal("editor", (await write.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_role").GetString());
        var me = await (await client.GetAsync("/v1/auth/me")).ReadJsonAsync(200);
        Assert.Equal("viewer", me.GetProperty("role").GetString());
        Assert.Equal(2, me.GetProperty("memberships").GetArrayLength());
    }

    [Fact]
    public async Task EditorWritesButCannotManageMembers()
    {
        var (owner, editor, _) = await OrgWithMemberAsync("editor");
        var client = editor.Client(owner.OrgId);
        await (await client.PostAsJsonAsync("/v1/workflows", Samples.Workflow())).ReadJsonAsync(201);
        await (await client.PostAsJsonAsync("/v1/templates", Samples.Template())).ReadJsonAsync(201);
        var invite = await client.PostAsJsonAsync("/v1/org/members", new { email = "x@example.test", role = "viewer" });
        Assert.Equal("admin", (await invite.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_role").GetString());
    }

    [Fact]
    public async Task AdminManagesMembersButNotOwners()
    {
        var (owner, admin, _) = await OrgWithMemberAsync("admin");
        var client = admin.Client(owner.OrgId);
        var third = await host.RegisterAsync("Third");
        var thirdId = await host.AddMemberAsync(admin, third, "editor", owner.OrgId);
        var promoted = await (await client.PatchAsJsonAsync($"/v1/org/members/{thirdId}", new { role = "viewer" })).ReadJsonAsync(200);
        Assert.Equal("viewer", promoted.GetProperty("role").GetString());

        var toOwner = await client.PatchAsJsonAsync($"/v1/org/members/{thirdId}", new { role = "owner" });
        Assert.Equal("owner", (await toOwner.ReadProblemAsync(403, "FORBIDDEN")).GetProperty("required_role").GetString());
        var members = await (await client.GetAsync("/v1/org/members")).ReadJsonAsync(200);
        var ownerMemberId = members.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("role").GetString() == "owner").GetProperty("id").GetString();
        await (await client.DeleteAsync($"/v1/org/members/{ownerMemberId}")).ReadProblemAsync(403, "FORBIDDEN");

        await (await client.DeleteAsync($"/v1/org/members/{thirdId}")).ReadJsonAsync(204);
        await (await third.Client(owner.OrgId).GetAsync("/v1/workflows")).ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Equal(3, await host.CountAsync(
            "SELECT count(*) FROM audit_logs WHERE org_id = $1 AND resource_type = 'member' AND user_id = $2", owner.OrgId, admin.UserId));
    }

    [Fact]
    public async Task LastOwnerCannotLeaveOrBeDemoted()
    {
        var (owner, second, secondId) = await OrgWithMemberAsync("admin");
        var members = await (await owner.Client().GetAsync("/v1/org/members")).ReadJsonAsync(200);
        var ownerId = members.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("user_id").GetString() == owner.UserId).GetProperty("id").GetString();

        await (await owner.Client().PatchAsJsonAsync($"/v1/org/members/{ownerId}", new { role = "admin" })).ReadProblemAsync(409, "LAST_OWNER");
        await (await owner.Client().DeleteAsync($"/v1/org/members/{ownerId}")).ReadProblemAsync(409, "LAST_OWNER");

        // With a second owner, the first may step down.
        await (await owner.Client().PatchAsJsonAsync($"/v1/org/members/{secondId}", new { role = "owner" })).ReadJsonAsync(200);
        await (await owner.Client().PatchAsJsonAsync($"/v1/org/members/{ownerId}", new { role = "viewer" })).ReadJsonAsync(200);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1 AND role = 'owner'", owner.OrgId));
        await (await second.Client(owner.OrgId).DeleteAsync($"/v1/org/members/{secondId}")).ReadProblemAsync(409, "LAST_OWNER");
    }

    [Fact]
    public async Task AnInvitationIsPendingUntilAcceptedAndOnlyOnce()
    {
        var owner = await host.RegisterVerifiedAsync();
        var email = $"{Guid.NewGuid():N}@example.test";
        var invitation = await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email, role = "editor" })).ReadJsonAsync(202);
        Assert.StartsWith("invite_", invitation.GetProperty("id").GetString());
        await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email, role = "editor" })).ReadProblemAsync(409, "ALREADY_INVITED");
        var pending = await (await owner.Client().GetAsync("/v1/org/invitations")).ReadJsonAsync(200);
        Assert.Equal(1, pending.GetProperty("data").GetArrayLength());
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));
    }

    [Fact]
    public async Task MemberRequestsAreValidated()
    {
        var owner = await host.RegisterVerifiedAsync();
        var bad = await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = "nope", role = "superuser" });
        Assert.Equal(["email", "role"], (await bad.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields().Order());
        var asOwner = await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = "someone@example.test", role = "owner" });
        Assert.Equal(["role"], (await asOwner.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var again = await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = owner.Email, role = "viewer" });
        await again.ReadProblemAsync(409, "ALREADY_MEMBER");
    }

    [Fact]
    public async Task ADemotedAdminsInvitationsDieWithTheRightToIssueThem()
    {
        var (owner, admin, adminId) = await OrgWithMemberAsync("admin");
        var invitee = await host.RegisterVerifiedAsync("Invitee");
        await (await admin.Client(owner.OrgId).PostAsJsonAsync("/v1/org/members", new { email = invitee.Email, role = "admin" })).ReadJsonAsync(202);
        var invitation = await host.Mail.WaitForAsync(invitee.Email, "invited you");

        await (await owner.Client().PatchAsJsonAsync($"/v1/org/members/{adminId}", new { role = "viewer" })).ReadJsonAsync(200);
        Assert.Equal(0, (await (await owner.Client().GetAsync("/v1/org/invitations")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
        await (await invitee.Client().PostAsync($"/v1/invitations/{invitation.Token}/accept", null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await invitee.Client(owner.OrgId).GetAsync("/v1/auth/me")).ReadProblemAsync(401, "UNAUTHORIZED");
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));
    }

    [Fact]
    public async Task AnInvitationIsRefusedAtAcceptanceWhenItsInviterCanNoLongerGrantTheRole()
    {
        // A demotion that raced the revocation (or any change made outside it): acceptance checks the inviter again.
        var (owner, admin, adminId) = await OrgWithMemberAsync("admin");
        var invitee = await host.RegisterVerifiedAsync("Invitee");
        await (await admin.Client(owner.OrgId).PostAsJsonAsync("/v1/org/members", new { email = invitee.Email, role = "admin" })).ReadJsonAsync(202);
        var invitation = await host.Mail.WaitForAsync(invitee.Email, "invited you");
        await host.ScalarAsync("UPDATE org_members SET role = 'editor' WHERE id = $1", adminId);

        await (await invitee.Client().PostAsync($"/v1/invitations/{invitation.Token}/accept", null)).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM org_members WHERE org_id = $1", owner.OrgId));

        // A removed inviter's invitations die too.
        var (owner2, admin2, admin2Id) = await OrgWithMemberAsync("admin");
        var other = await host.RegisterVerifiedAsync("Other");
        await (await admin2.Client(owner2.OrgId).PostAsJsonAsync("/v1/org/members", new { email = other.Email, role = "editor" })).ReadJsonAsync(202);
        var second = await host.Mail.WaitForAsync(other.Email, "invited you");
        await (await owner2.Client().DeleteAsync($"/v1/org/members/{admin2Id}")).ReadJsonAsync(204);
        Assert.Equal(0, (await (await owner2.Client().GetAsync("/v1/org/invitations")).ReadJsonAsync(200)).GetProperty("data").GetArrayLength());
        await (await other.Client().PostAsync($"/v1/invitations/{second.Token}/accept", null)).ReadProblemAsync(404, "NOT_FOUND");
    }
}
