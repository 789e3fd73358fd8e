using FentaWeb.Domain.Common;

namespace FentaWeb.Api.Identity;

/// <summary>
/// Sessions of the web app. Its requests say <c>X-Fenta-Client: web</c>; for them the refresh token travels in an HttpOnly
/// cookie scoped to <c>/v1/auth</c> instead of the JSON body, so no script on the page can read it (the access token stays
/// in the page's memory). The header is the CSRF guard: a cross-site form or link cannot send a custom header, and the
/// API answers no CORS preflight, so only a page of the API's own origin can; SameSite=Strict keeps the cookie off
/// cross-site requests besides. Without the header nothing changes: API clients keep <c>refresh_token</c> in the body.
/// </summary>
public static class BrowserSessions
{
    public const string ClientHeader = "X-Fenta-Client";
    public const string WebClient = "web";
    public const string RefreshCookie = "fenta_refresh";
    /// <summary>Sent only to the auth endpoints (refresh and logout read it), never with the rest of the API's requests.</summary>
    public const string CookiePath = "/v1/auth";

    public static bool IsWeb(HttpRequest request) => string.Equals(request.Headers[ClientHeader], WebClient, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The refresh token a refresh or logout names: the body's, else the cookie's, which only the web app's header unlocks
    /// (a cookie without it is refused rather than ignored, so a web client missing the header learns why). Null: a web
    /// request without the cookie.
    /// </summary>
    public static string? RefreshTokenOf(HttpRequest request, RefreshRequest? body)
    {
        if (body?.RefreshToken is { Length: > 0 } token) return token;
        var cookie = request.Cookies[RefreshCookie];
        if (IsWeb(request)) return cookie is { Length: > 0 } ? cookie : null;
        if (cookie is not null)
            throw new ForbiddenException($"The {RefreshCookie} cookie is used only with the header '{ClientHeader}: {WebClient}', which this request lacks.",
                code: "CLIENT_HEADER_MISSING");
        throw new ValidationFailedException("refresh_token", $"is required (the web app sends '{ClientHeader}: {WebClient}' and its session cookie instead)");
    }

    /// <summary>The session as the client keeps it: for the web app the refresh token moves from the body into the cookie.</summary>
    public static SessionResponse Answer(HttpContext http, SessionResponse session, TimeSpan refreshLifetime)
    {
        if (!IsWeb(http.Request)) return session;
        http.Response.Cookies.Append(RefreshCookie, session.RefreshToken!, Cookie(refreshLifetime));
        return session with { RefreshToken = null };
    }

    /// <summary>Removes the cookie (Max-Age=0 on the same path), for a web client whose session ended or was refused.</summary>
    public static void Clear(HttpContext http)
    {
        if (IsWeb(http.Request)) http.Response.Cookies.Append(RefreshCookie, "", Cookie(TimeSpan.Zero));
    }

    // Secure even on http://127.0.0.1: browsers treat loopback as a secure context and keep such cookies there.
    private static CookieOptions Cookie(TimeSpan maxAge) => new()
    {
        HttpOnly = true, Secure = true, SameSite = SameSiteMode.Strict, Path = CookiePath, MaxAge = maxAge,
    };
}
