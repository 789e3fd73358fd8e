namespace FentaWeb.Domain.Identity;

/// <summary>Roles in an org, ordered by power: each role can do everything the ones below it can.</summary>
public enum OrgRole
{
    Viewer = 0,
    Editor = 1,
    Admin = 2,
    Owner = 3,
}

public static class OrgRoles
{
    public static string ToWire(this OrgRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out OrgRole role)
    {
        role = default;
        return value is not null && value == value.ToLowerInvariant() && Enum.TryParse(value, ignoreCase: true, out role)
               && Enum.IsDefined(role);
    }

    public static readonly string[] Wire = ["owner", "admin", "editor", "viewer"];

    /// <summary>Admins and owners invite members.</summary>
    public const OrgRole LeastToInvite = OrgRole.Admin;

    /// <summary>
    /// Whether a member with <paramref name="inviter"/>'s role may (still) invite someone as <paramref name="role"/>: admins and
    /// owners invite, never above their own role (nobody is invited as owner).
    /// </summary>
    public static bool MayInviteAs(this OrgRole inviter, OrgRole role) => inviter >= LeastToInvite && role <= inviter && role != OrgRole.Owner;
}

/// <summary>API key scopes. A user's session has all of them; a key has the ones it was created with.</summary>
public static class Scopes
{
    public const string WorkflowsRead = "workflows:read";
    public const string WorkflowsWrite = "workflows:write";
    public const string JobsExecute = "jobs:execute";
    public const string AssetsUpload = "assets:upload";
    public const string BillingView = "billing:view";

    public static readonly IReadOnlyList<string> All = [WorkflowsRead, WorkflowsWrite, JobsExecute, AssetsUpload, BillingView];
}
