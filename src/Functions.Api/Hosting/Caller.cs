using System.Net;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;

namespace FentaWeb.Api.Hosting;

/// <summary>Who is calling, in which org, with which role, (for API keys) which scopes, and from where.</summary>
public sealed record Caller(string UserId, string OrgId, OrgRole Role, string? ApiKeyId, IReadOnlySet<string>? Scopes)
{
    /// <summary>The access token's claim naming the org a session starts in.</summary>
    public const string OrgClaim = "org";

    public IPAddress? ClientAddress { get; init; }
    public string? UserAgent { get; init; }

    public bool IsSession => ApiKeyId is null;

    public bool HasScope(string scope) => Scopes is null || Scopes.Contains(scope);

    public void Require(AccessAttribute access)
    {
        if (access.SessionOnly && !IsSession)
            throw new ForbiddenException("API keys cannot do this; sign in as a user.");
        if (access.Scope is { } scope && !HasScope(scope))
            throw new ForbiddenException($"This API key lacks the '{scope}' scope.", requiredScope: scope);
        if (Role < access.Role)
            throw new ForbiddenException($"This needs the {access.Role.ToWire()} role or higher; you are {Role.ToWire()}.",
                requiredRole: access.Role.ToWire());
    }

    /// <summary>
    /// Where the request came from. On Azure the Functions host proxies every request to this worker over loopback, and the
    /// platform's front end appends the caller's address to X-Forwarded-For: the last entry is the one a client cannot forge.
    /// </summary>
    public static IPAddress? ClientAddressOf(HttpRequest request)
    {
        var peer = request.HttpContext.Connection.RemoteIpAddress;
        if (peer is null || !IPAddress.IsLoopback(peer)) return peer;
        var forwarded = request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return forwarded.Length > 0 && IPEndPoint.TryParse(forwarded[^1], out var client) ? client.Address : peer;
    }

    /// <summary>
    /// The gate binds a function's <see cref="Caller"/> parameter; this ASP.NET binding hook also tells the OpenAPI generator
    /// that the parameter is not read from the request.
    /// </summary>
    public static ValueTask<Caller?> BindAsync(HttpContext http) => ValueTask.FromResult(http.Features.Get<Caller>());
}
