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

    /// <summary>Whether the user has proven their address (followed a mailed link); false until the authenticator says so.</summary>
    public bool EmailVerified { get; init; }

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
        if (access.VerifiedEmail && !EmailVerified)
            throw new ForbiddenException("Verify your email address first: follow the link mailed at registration, or ask for a new one with " +
                "POST /v1/auth/verify-email/send. Minting API keys, inviting members and paid plans need a verified address.", code: "EMAIL_NOT_VERIFIED");
    }

    /// <summary>The header App Service's front end sets to the address it took the connection from.</summary>
    public const string ClientAddressHeader = "X-Client-IP";

    /// <summary>
    /// Where the request came from: the <c>X-Client-IP</c> a front end set, where one stands before the API
    /// (<see cref="FentaOptions.ClientAddressFromFrontEnd"/>: behind the Functions host, whose proxy replaces X-Forwarded-For
    /// with its own peer and passes the other headers on); else the connection's peer, whatever headers say.
    /// </summary>
    public static IPAddress? ClientAddressOf(HttpRequest request)
    {
        var peer = request.HttpContext.Connection.RemoteIpAddress;
        if (request.HttpContext.RequestServices.GetService<FentaOptions>() is not { ClientAddressFromFrontEnd: true }) return peer;
        return IPEndPoint.TryParse(request.Headers[ClientAddressHeader].ToString(), out var client) ? client.Address : peer;
    }

    /// <summary>
    /// The gate binds a function's <see cref="Caller"/> parameter; this ASP.NET binding hook also tells the OpenAPI generator
    /// that the parameter is not read from the request.
    /// </summary>
    public static ValueTask<Caller?> BindAsync(HttpContext http) => ValueTask.FromResult(http.Features.Get<Caller>());
}
