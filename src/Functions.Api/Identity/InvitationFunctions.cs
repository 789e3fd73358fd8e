using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

/// <summary>
/// Accepting an invitation: the token from the mailed link, by a signed-in user who has verified that they own the
/// invited address. Registering that address alone joins nothing. An invitation is only as good as its inviter's right
/// to issue it: one whose inviter is no longer a member who may invite as that role is refused as unknown (404), never
/// capped to a lesser role the inviter did not choose.
/// </summary>
[Tags("Organization")]
public sealed class InvitationFunctions(FentaDb db, AuditTrail audit, TimeProvider clock)
{
    [Function(nameof(AcceptInvitation)), Access(SessionOnly = true),
     EndpointSummary("Join the inviting organization with the invited role; the caller's verified address must be the invited one.")]
    public async Task<Ok<MembershipDto>> AcceptInvitation(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/invitations/{token}/accept")] HttpRequest request, string token, Caller caller,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (invitation, user) = await AcceptableAsync(token, caller, now, ct);
        return TypedResults.Ok(await JoinAsync(invitation, user, caller, now, ct));
    }

    /// <summary>The pending invitation of the token, if the caller may accept it: the invited address is theirs and verified.</summary>
    private async Task<(OrgInvitation, User)> AcceptableAsync(string token, Caller caller, DateTimeOffset now, CancellationToken ct)
    {
        var hash = ApiKey.Hash(token);
        var invitation = await db.OrgInvitations.SingleOrDefaultAsync(i => i.TokenHash == hash, ct) is { } found && found.IsPendingAt(now) ? found
            : throw new NotFoundException("invitation", "of this link");
        var user = await db.Users.SingleAsync(u => u.Id == caller.UserId, ct);
        if (user.Email != invitation.Email)
            throw new ForbiddenException("This invitation is for another address; sign in with the account of the invited address.");
        if (user.EmailVerifiedAt is null)
            throw new ConflictException("EMAIL_NOT_VERIFIED", $"Verify {user.Email} first (POST /v1/auth/verify-email/send mails a link), then accept.");
        if (await db.OrgMembers.AnyAsync(m => m.OrgId == invitation.OrgId && m.UserId == user.Id, ct))
            throw new ConflictException("ALREADY_MEMBER", "You are already a member of this organization.");
        return (invitation, user);
    }

    /// <summary>
    /// Whether the inviter is still a member who may invite as the invitation's role. A demotion or removal withdraws the
    /// inviter's invitations (<see cref="MemberFunctions"/>); this also covers a demotion that raced the invitation's creation.
    /// </summary>
    private async Task<bool> InviterMayStillGrantAsync(OrgInvitation invitation, CancellationToken ct) =>
        await db.OrgMembers.Where(m => m.OrgId == invitation.OrgId && m.UserId == invitation.InvitedBy).Select(m => (OrgRole?)m.Role).SingleOrDefaultAsync(ct)
            is { } inviter && inviter.MayInviteAs(invitation.Role);

    private async Task<MembershipDto> JoinAsync(OrgInvitation invitation, User user, Caller caller, DateTimeOffset now, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // A share lock on the org row against the FOR UPDATE that member changes take: a demotion of the inviter either
        // committed before (and this sees it) or waits until this invitation is accepted.
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM orgs WHERE id = {invitation.OrgId} FOR SHARE", ct);
        if (!await InviterMayStillGrantAsync(invitation, ct)) throw new NotFoundException("invitation", "of this link");
        // Single use: of two concurrent accepts only the one that flips accepted_at goes on.
        if (await db.OrgInvitations.Where(i => i.Id == invitation.Id && i.AcceptedAt == null).ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now), ct) != 1)
            throw new NotFoundException("invitation", "of this link");
        var member = Accounts.NewMember(invitation.OrgId, user.Id, invitation.Role, invitation.InvitedBy, now);
        db.OrgMembers.Add(member);
        audit.Record(caller with { OrgId = invitation.OrgId }, "create", "member", member.Id, new { invitation_id = invitation.Id, role = invitation.Role.ToWire() });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var org = await db.Orgs.SingleAsync(o => o.Id == invitation.OrgId, ct);
        return new MembershipDto(org.Id, org.Name, invitation.Role.ToWire());
    }
}
