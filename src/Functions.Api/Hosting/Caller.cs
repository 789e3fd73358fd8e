using System.Security.Claims;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Hosting;

/// <summary>Who is calling, in which org, with which role, and (for API keys) which scopes.</summary>
public sealed record Caller(string UserId, string OrgId, OrgRole Role, string? ApiKeyId, IReadOnlySet<string>? Scopes)
{
    public const string OrgClaim = "org";
    public const string RoleClaim = "fw_role";
    public const string ApiKeyClaim = "fw_key";
    public const string ScopeClaim = "scope";

    public bool IsSession => ApiKeyId is null;

    public bool HasScope(string scope) => Scopes is null || Scopes.Contains(scope);

    public void Require(string? scope, OrgRole minimumRole)
    {
        if (scope is not null && !HasScope(scope))
            throw new ForbiddenException($"This API key lacks the '{scope}' scope.", requiredScope: scope);
        if (Role < minimumRole)
            throw new ForbiddenException($"This needs the {minimumRole.ToWire()} role or higher; you are {Role.ToWire()}.",
                requiredRole: minimumRole.ToWire());
    }

    /// <summary>Lets handlers take a <see cref="Caller"/> parameter.</summary>
    public static ValueTask<Caller?> BindAsync(HttpContext http) => ValueTask.FromResult<Caller?>(From(http.User));

    public static Caller From(ClaimsPrincipal user)
    {
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new UnauthorizedException("Authentication required.");
        var scopes = user.FindFirstValue(ScopeClaim);
        return new Caller(
            userId,
            user.FindFirstValue(OrgClaim)!,
            Enum.Parse<OrgRole>(user.FindFirstValue(RoleClaim)!, ignoreCase: true),
            user.FindFirstValue(ApiKeyClaim),
            scopes is null ? null : scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet());
    }
}

public static class AccessExtensions
{
    /// <summary>Every endpoint of the builder needs this scope (for API keys) and at least this role in the org.</summary>
    public static TBuilder RequireAccess<TBuilder>(this TBuilder builder, string? scope, OrgRole minimumRole)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            Caller.From(context.HttpContext.User).Require(scope, minimumRole);
            return await next(context);
        });

    /// <summary>Only a signed-in user (not an API key) may do this, e.g. mint more keys.</summary>
    public static TBuilder RequireSession<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            if (!Caller.From(context.HttpContext.User).IsSession)
                throw new ForbiddenException("API keys cannot do this; sign in as a user.");
            return await next(context);
        });
}
