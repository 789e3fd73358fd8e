using FentaWeb.Api.Hosting;
using FentaWeb.Api.Mail;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

public sealed record MemberDto(string Id, string UserId, string Email, string Name, string Role, string? InvitedBy, DateTimeOffset JoinedAt);
public sealed record InvitationDto(string Id, string Email, string Role, string? InvitedBy, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);
public sealed record InviteRequest(string? Email, string? Role);
public sealed record ChangeRoleRequest(string? Role);

/// <summary>
/// The members of the caller's current org. Admins manage editors and viewers; only owners grant, change or
/// remove the owner role; the last owner can neither leave nor be demoted. Inviting needs a verified address, and a
/// member's pending invitations die with their right to issue them (demoted below admin, or removed).
/// </summary>
[Tags("Organization")]
public sealed class MemberFunctions(FentaDb db, AuditTrail audit, Mailer mailer, TimeProvider clock)
{
    [Function(nameof(GetOrg)), Access, EndpointSummary("The caller's current organization.")]
    public async Task<Ok<OrgDto>> GetOrg([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/org")] HttpRequest request, Caller caller,
        CancellationToken ct) =>
        TypedResults.Ok(OrgDto.From(await db.Orgs.SingleAsync(o => o.Id == caller.OrgId, ct)));

    [Function(nameof(ListMembers)), Access, EndpointSummary("Members of the current organization.")]
    public async Task<Ok<Page<MemberDto>>> ListMembers([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/org/members")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct) =>
        TypedResults.Ok(await db.OrgMembers.Include(m => m.User).Where(m => m.OrgId == caller.OrgId)
            .ToPageAsync(page, m => ToDto(m), ct));

    // Invitee addresses and roles are the org's data like its workflows: a key needs the read scope (a billing:view key does not see them).
    [Function(nameof(ListInvitations)), Access(OrgRole.Admin, Scopes.WorkflowsRead), EndpointSummary("Pending invitations.")]
    public async Task<Ok<Page<InvitationDto>>> ListInvitations(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/org/invitations")] HttpRequest request, Caller caller, [AsParameters] PageQuery page,
        CancellationToken ct) =>
        TypedResults.Ok(await db.OrgInvitations.Where(i => i.OrgId == caller.OrgId && i.AcceptedAt == null)
            .ToPageAsync(page, ToDto, ct));

    [Function(nameof(InviteMember)), Access(OrgRole.Admin, SessionOnly = true, VerifiedEmail = true),
     EndpointSummary("Mail an invitation to an address (202, the same whether or not it has an account); its owner accepts it after verifying the address.")]
    public async Task<Accepted<InvitationDto>> InviteMember(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/org/members")] HttpRequest request, [FromBody] InviteRequest body, Caller caller,
        CancellationToken ct)
    {
        var (email, role) = ValidateInvite(body);
        var now = clock.GetUtcNow();
        await GuardNotInvitedAsync(caller.OrgId, email, now, ct);
        var invitation = OrgInvitation.Issue(caller.OrgId, email, role, caller.UserId, now);
        db.OrgInvitations.Add(invitation);
        if (await mailer.ReserveAsync(email, ct)) db.MailOutbox.Add(OutboxMail.Of(invitation));
        audit.Record(caller, "create", "invitation", invitation.Id, new { email, role = role.ToWire() });
        await db.SaveChangesAsync(ct);
        mailer.Wake();
        return TypedResults.Accepted($"/v1/org/invitations/{invitation.Id}", ToDto(invitation));
    }

    private static (string Email, OrgRole Role) ValidateInvite(InviteRequest body)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Email) || !body.Email.Contains('@') || body.Email.Length > 254) errors.Add("email", "must be a valid email address");
        if (!OrgRoles.TryParse(body.Role, out var role)) errors.Add("role", $"must be one of: {string.Join(", ", OrgRoles.Wire)}");
        else if (role == OrgRole.Owner) errors.Add("role", "invite as admin; an owner can make a member owner once they have joined");
        errors.ThrowIfAny();
        return (User.NormalizeEmail(body.Email!), role);
    }

    /// <summary>
    /// One pending invitation per address and org (an expired one is replaced). Members are refused by address, which
    /// tells the admin nothing the member list does not: whether a non-member has an account stays unknown.
    /// </summary>
    private async Task GuardNotInvitedAsync(string orgId, string email, DateTimeOffset now, CancellationToken ct)
    {
        if (await db.OrgMembers.AnyAsync(m => m.OrgId == orgId && m.User!.Email == email, ct))
            throw new ConflictException("ALREADY_MEMBER", $"{email} is already a member of this organization.");
        var previous = await db.OrgInvitations.SingleOrDefaultAsync(i => i.OrgId == orgId && i.Email == email, ct);
        if (previous is { AcceptedAt: null } && previous.ExpiresAt > now)
            throw new ConflictException("ALREADY_INVITED", $"{email} already has an invitation to this organization; cancel it to send a new one.");
        if (previous is not null) db.OrgInvitations.Remove(previous);
    }

    [Function(nameof(ChangeMemberRole)), Access(OrgRole.Admin, SessionOnly = true), EndpointSummary("Change a member's role.")]
    public async Task<Ok<MemberDto>> ChangeMemberRole(
        [HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/org/members/{memberId}")] HttpRequest request, string memberId,
        [FromBody] ChangeRoleRequest body, Caller caller, CancellationToken ct)
    {
        if (!OrgRoles.TryParse(body.Role, out var role)) throw new ValidationFailedException("role", $"must be one of: {string.Join(", ", OrgRoles.Wire)}");
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var member = await LockMemberAsync(db, caller.OrgId, memberId, ct);
        GuardOwnerRole(caller, member.Role);
        GuardOwnerRole(caller, role);
        if (member.Role == OrgRole.Owner && role != OrgRole.Owner) await GuardLastOwnerAsync(db, caller.OrgId, ct);
        var before = member.Role;
        member.Role = role;
        member.UpdatedAt = clock.GetUtcNow();
        audit.Record(caller, "update", "member", member.Id, new { role = new { from = before.ToWire(), to = role.ToWire() } });
        await db.SaveChangesAsync(ct);
        await WithdrawInvitationsAsync(member.OrgId, member.UserId, role, caller, ct);
        await tx.CommitAsync(ct);
        return TypedResults.Ok(ToDto(member));
    }

    [Function(nameof(RemoveMember)), Access(OrgRole.Admin, SessionOnly = true), EndpointSummary("Remove a member.")]
    public async Task<NoContent> RemoveMember([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/org/members/{memberId}")] HttpRequest request,
        string memberId, Caller caller, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var member = await LockMemberAsync(db, caller.OrgId, memberId, ct);
        GuardOwnerRole(caller, member.Role);
        if (member.Role == OrgRole.Owner) await GuardLastOwnerAsync(db, caller.OrgId, ct);
        db.OrgMembers.Remove(member);
        audit.Record(caller, "delete", "member", member.Id, new { user_id = member.UserId, role = member.Role.ToWire() });
        await db.SaveChangesAsync(ct);
        await WithdrawInvitationsAsync(member.OrgId, member.UserId, null, caller, ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    [Function(nameof(CancelInvitation)), Access(OrgRole.Admin, SessionOnly = true), EndpointSummary("Withdraw a pending invitation.")]
    public async Task<NoContent> CancelInvitation(
        [HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/org/invitations/{invitationId}")] HttpRequest request, string invitationId,
        Caller caller, CancellationToken ct)
    {
        var invitation = await db.OrgInvitations.SingleOrDefaultAsync(i => i.Id == invitationId && i.OrgId == caller.OrgId && i.AcceptedAt == null, ct)
            ?? throw new NotFoundException("invitation", invitationId);
        db.OrgInvitations.Remove(invitation);
        audit.Record(caller, "delete", "invitation", invitation.Id, new { invitation.Email });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// An invitation carries its inviter's authority: when a member may no longer invite as a role (demoted to
    /// <paramref name="role"/>, or removed when it is null), their pending invitations for it are withdrawn, in the same
    /// transaction as the change. Acceptance checks the inviter again (<see cref="InvitationFunctions"/>) for what this does not see.
    /// </summary>
    private async Task WithdrawInvitationsAsync(string orgId, string inviterId, OrgRole? role, Caller caller, CancellationToken ct)
    {
        var withdrawn = (await db.OrgInvitations.Where(i => i.OrgId == orgId && i.InvitedBy == inviterId && i.AcceptedAt == null).ToListAsync(ct))
            .Where(i => role is not { } now || !now.MayInviteAs(i.Role)).ToList();
        if (withdrawn.Count == 0) return;
        db.OrgInvitations.RemoveRange(withdrawn);
        foreach (var invitation in withdrawn)
            audit.Record(caller, "delete", "invitation", invitation.Id, new { invitation.Email, reason = "inviter_may_no_longer_invite" });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Locks the org row first so two concurrent demotions cannot both pass the last-owner check.</summary>
    private static async Task<OrgMember> LockMemberAsync(FentaDb db, string orgId, string memberId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM orgs WHERE id = {orgId} FOR UPDATE", ct);
        return await db.OrgMembers.Include(m => m.User).SingleOrDefaultAsync(m => m.Id == memberId && m.OrgId == orgId, ct)
               ?? throw new NotFoundException("member", memberId);
    }

    private static async Task GuardLastOwnerAsync(FentaDb db, string orgId, CancellationToken ct)
    {
        if (await db.OrgMembers.CountAsync(m => m.OrgId == orgId && m.Role == OrgRole.Owner, ct) <= 1)
            throw new ConflictException("LAST_OWNER", "An organization needs at least one owner; make someone else owner first.");
    }

    private static void GuardOwnerRole(Caller caller, OrgRole role)
    {
        if (role == OrgRole.Owner && caller.Role != OrgRole.Owner)
            throw new ForbiddenException("Only owners can grant, change or remove the owner role.", requiredRole: "owner");
    }

    private static MemberDto ToDto(OrgMember member) =>
        new(member.Id, member.UserId, member.User!.Email, member.User.Name, member.Role.ToWire(), member.InvitedBy, member.JoinedAt);

    private static InvitationDto ToDto(OrgInvitation i) => new(i.Id, i.Email, i.Role.ToWire(), i.InvitedBy, i.CreatedAt, i.ExpiresAt);
}
