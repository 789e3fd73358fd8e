using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Identity;

public sealed record MemberDto(string Id, string UserId, string Email, string Name, string Role, string? InvitedBy, DateTimeOffset JoinedAt);
public sealed record InvitationDto(string Id, string Email, string Role, string? InvitedBy, DateTimeOffset CreatedAt);
public sealed record InviteRequest(string? Email, string? Role);
public sealed record ChangeRoleRequest(string? Role);

/// <summary>
/// The members of the caller's current org. Admins manage editors and viewers; only owners grant, change or
/// remove the owner role; the last owner can neither leave nor be demoted.
/// </summary>
public static class MemberEndpoints
{
    public static void MapMembers(this IEndpointRouteBuilder routes)
    {
        var org = routes.MapGroup("/v1/org").WithTags("Organization").RequireAuthorization();
        org.MapGet("/", GetOrg).WithSummary("The caller's current organization.");
        org.MapGet("/members", ListMembers).WithSummary("Members of the current organization.");
        org.MapGet("/invitations", ListInvitations).RequireAccess(null, OrgRole.Admin).WithSummary("Pending invitations.");

        var manage = org.MapGroup("").RequireAccess(null, OrgRole.Admin).RequireSession();
        manage.MapPost("/members", Invite)
            .WithSummary("Add an existing user (201) or invite an email that has no account yet (202; joins on registration).");
        manage.MapPatch("/members/{memberId}", ChangeRole).WithSummary("Change a member's role.");
        manage.MapDelete("/members/{memberId}", Remove).WithSummary("Remove a member.");
        manage.MapDelete("/invitations/{invitationId}", CancelInvitation).WithSummary("Withdraw a pending invitation.");
    }

    private static async Task<Ok<OrgDto>> GetOrg(Caller caller, FentaDb db, CancellationToken ct) =>
        TypedResults.Ok(AuthEndpoints.ToDto(await db.Orgs.SingleAsync(o => o.Id == caller.OrgId, ct)));

    private static async Task<Ok<Page<MemberDto>>> ListMembers(Caller caller, [AsParameters] PageQuery page, FentaDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.OrgMembers.Include(m => m.User).Where(m => m.OrgId == caller.OrgId)
            .ToPageAsync(page, m => ToDto(m), ct));

    private static async Task<Ok<Page<InvitationDto>>> ListInvitations(Caller caller, [AsParameters] PageQuery page, FentaDb db, CancellationToken ct) =>
        TypedResults.Ok(await db.OrgInvitations.Where(i => i.OrgId == caller.OrgId && i.AcceptedAt == null)
            .ToPageAsync(page, ToDto, ct));

    private static async Task<Results<Created<MemberDto>, Accepted<InvitationDto>>> Invite(
        InviteRequest body, Caller caller, FentaDb db, AuditTrail audit, TimeProvider clock, CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (string.IsNullOrWhiteSpace(body.Email) || !body.Email.Contains('@') || body.Email.Length > 254) errors.Add("email", "must be a valid email address");
        if (!OrgRoles.TryParse(body.Role, out var role)) errors.Add("role", $"must be one of: {string.Join(", ", OrgRoles.Wire)}");
        errors.ThrowIfAny();
        GuardOwnerRole(caller, role);

        var now = clock.GetUtcNow();
        var email = User.NormalizeEmail(body.Email!);
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == email, ct);
        if (user is null)
        {
            if (role == OrgRole.Owner)
                throw new ValidationFailedException("role", "owners must already have an account; invite them as admin first");
            if (await db.OrgInvitations.AnyAsync(i => i.OrgId == caller.OrgId && i.Email == email, ct))
                throw new ConflictException("ALREADY_INVITED", $"{email} already has an invitation to this organization.");
            var invitation = new OrgInvitation { Id = Ids.New("invite"), OrgId = caller.OrgId, Email = email, Role = role, InvitedBy = caller.UserId, CreatedAt = now };
            db.OrgInvitations.Add(invitation);
            audit.Record(caller, "create", "invitation", invitation.Id, new { email, role = role.ToWire() });
            await db.SaveChangesAsync(ct);
            return TypedResults.Accepted($"/v1/org/invitations/{invitation.Id}", ToDto(invitation));
        }

        if (await db.OrgMembers.AnyAsync(m => m.OrgId == caller.OrgId && m.UserId == user.Id, ct))
            throw new ConflictException("ALREADY_MEMBER", $"{email} is already a member of this organization.");
        var member = Accounts.NewMember(caller.OrgId, user.Id, role, caller.UserId, now);
        db.OrgMembers.Add(member);
        audit.Record(caller, "create", "member", member.Id, new { user_id = user.Id, role = role.ToWire() });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/org/members/{member.Id}", ToDto(member, user));
    }

    private static async Task<Ok<MemberDto>> ChangeRole(string memberId, ChangeRoleRequest body, Caller caller, FentaDb db,
        AuditTrail audit, TimeProvider clock, CancellationToken ct)
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
        await tx.CommitAsync(ct);
        return TypedResults.Ok(ToDto(member));
    }

    private static async Task<NoContent> Remove(string memberId, Caller caller, FentaDb db, AuditTrail audit, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var member = await LockMemberAsync(db, caller.OrgId, memberId, ct);
        GuardOwnerRole(caller, member.Role);
        if (member.Role == OrgRole.Owner) await GuardLastOwnerAsync(db, caller.OrgId, ct);
        db.OrgMembers.Remove(member);
        audit.Record(caller, "delete", "member", member.Id, new { user_id = member.UserId, role = member.Role.ToWire() });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> CancelInvitation(string invitationId, Caller caller, FentaDb db, AuditTrail audit, CancellationToken ct)
    {
        var invitation = await db.OrgInvitations.SingleOrDefaultAsync(i => i.Id == invitationId && i.OrgId == caller.OrgId && i.AcceptedAt == null, ct)
            ?? throw new NotFoundException("invitation", invitationId);
        db.OrgInvitations.Remove(invitation);
        audit.Record(caller, "delete", "invitation", invitation.Id, new { invitation.Email });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
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

    private static MemberDto ToDto(OrgMember member, User? user = null)
    {
        user ??= member.User!;
        return new MemberDto(member.Id, member.UserId, user.Email, user.Name, member.Role.ToWire(), member.InvitedBy, member.JoinedAt);
    }

    private static InvitationDto ToDto(OrgInvitation i) => new(i.Id, i.Email, i.Role.ToWire(), i.InvitedBy, i.CreatedAt);
}
