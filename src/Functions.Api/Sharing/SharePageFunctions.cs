using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Identity;
using FentaWeb.Integrations.Blob;
using FentaWeb.Runs.Sharing;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Sharing;

/// <summary>
/// The public side of share links, served anonymously by the API's own host (so on Azure by the same Function app):
/// <c>/s/{token}</c> is a server-rendered page that unfurls (Open Graph and Twitter player tags) and plays the video;
/// <c>/s/{token}/video</c> and <c>/s/{token}/poster</c> answer 302 to a fresh read link of a few minutes at each request,
/// so the token is never the storage link and the page source holds none; <c>/s/{token}/embed</c> is the bare player
/// Twitter's card frames. Unknown tokens are 404, expired or revoked links (or a deleted video) 410. A password, when set,
/// is asked on the page and unlocks it with a signed cookie scoped to the link's path. Every request here counts against
/// the client address's share-page budget (<see cref="RateLimitClass.SharePage"/>).
/// </summary>
public sealed partial class SharePageFunctions(NpgsqlDataSource db, ShareSecrets secrets, AssetBlobs blobs, TimeProvider clock,
    ILogger<SharePageFunctions> logger)
{
    /// <summary>A read link's life beyond the video's own length: long enough to start and play it, not to pass around.</summary>
    public static readonly TimeSpan MediaLinkLifetime = TimeSpan.FromMinutes(5);
    /// <summary>Password attempts a minute for one link, from all addresses together (each address also has its share-page budget).</summary>
    public const int PasswordAttemptsPerMinute = 10;
    private const long MaxFormBytes = 4096;

    [Function(nameof(SharePage)), Anonymous, RateLimit(RateLimitClass.SharePage), ExcludeFromDescription]
    public async Task<IResult> SharePage([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "s/{token}")] HttpRequest request, string token,
        CancellationToken ct) => await PageAsync(request, token, embed: false, ct);

    [Function(nameof(SharePageEmbed)), Anonymous, RateLimit(RateLimitClass.SharePage), ExcludeFromDescription]
    public async Task<IResult> SharePageEmbed([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "s/{token}/embed")] HttpRequest request,
        string token, CancellationToken ct) => await PageAsync(request, token, embed: true, ct);

    /// <summary>The password form's answer: the right password sets the unlock cookie and goes back to the page (303).</summary>
    [Function(nameof(SharePageUnlock)), Anonymous, RateLimit(RateLimitClass.SharePage), ExcludeFromDescription]
    public async Task<IResult> SharePageUnlock([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "s/{token}")] HttpRequest request, string token,
        CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (shared, closed) = await OpenAsync(request, token, now, ct);
        if (shared is null) return closed!;
        var link = shared.Link;
        if (link.PasswordHash is null) return new SeeOther(PagePath(token));
        // Attempts are counted per link across addresses, so guessing from many addresses is as slow as from one, and
        // counted before the (deliberately slow) hash check, so attempts over the limit cost no hashing.
        var hits = await RateLimitWindows.HitAsync(db, [$"share-password:{link.Id}"], now, ct);
        if (hits.Values.Single() > PasswordAttemptsPerMinute)
            throw new RateLimitedException("share link's password", PasswordAttemptsPerMinute, RateLimitWindows.WindowStart(now) + RateLimitWindows.Window - now);
        // A form is a few bytes: nothing larger is read.
        var form = request.HasFormContentType && request.ContentLength is <= MaxFormBytes ? await request.ReadFormAsync(ct) : null;
        var password = form?["password"].ToString() ?? "";
        if (password.Length is 0 or > 200 || !PasswordHasher.Verify(password, link.PasswordHash))
        {
            LogWrongPassword(logger, link.Id);
            var nonce = SharePages.Nonce();
            return SharePages.Html(request, StatusCodes.Status403Forbidden, SharePages.PasswordForm(link.Title, PagePath(token), wrong: true, nonce), nonce);
        }
        var expires = now + ShareSecrets.UnlockLifetime;
        if (link.ExpiresAt is { } end && end < expires) expires = end;
        request.HttpContext.Response.Cookies.Append(ShareSecrets.CookieName, secrets.UnlockValue(link, expires), new CookieOptions
        {
            // Secure even on http://127.0.0.1: browsers treat loopback as a secure context and keep such cookies there.
            HttpOnly = true, Secure = true, SameSite = SameSiteMode.Lax, Path = PagePath(token), Expires = expires,
        });
        // 303: the browser follows with a GET of the page, so a reload does not post the password again.
        request.HttpContext.Response.Headers.CacheControl = "no-store";
        return new SeeOther(PagePath(token));
    }

    [Function(nameof(SharePageVideo)), Anonymous, RateLimit(RateLimitClass.SharePage), ExcludeFromDescription]
    public async Task<IResult> SharePageVideo([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "s/{token}/video")] HttpRequest request,
        string token, [FromQuery(Name = "download")] string? download, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (shared, closed) = await OpenAsync(request, token, now, ct);
        if (shared is null) return closed!;
        if (!Unlocked(request, shared.Link, now)) return SharePages.Message(request, StatusCodes.Status403Forbidden, "PASSWORD_REQUIRED", "This video needs its password: open the page to give it.");
        var asDownload = download is "1" or "true";
        if (asDownload && !shared.Link.AllowDownload) return SharePages.Message(request, StatusCodes.Status403Forbidden, "DOWNLOAD_NOT_ALLOWED", "This video can be watched here but not downloaded.");
        var media = shared.Media!;
        var lifetime = MediaLinkLifetime + TimeSpan.FromSeconds(Math.Min(media.DurationSeconds ?? 0, 3600));
        var name = asDownload ? SharePages.DownloadName(shared.Link.Title, media) : null;
        return await RedirectAsync(request, media, lifetime, name, ct);
    }

    [Function(nameof(SharePagePoster)), Anonymous, RateLimit(RateLimitClass.SharePage), ExcludeFromDescription]
    public async Task<IResult> SharePagePoster([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "s/{token}/poster")] HttpRequest request,
        string token, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (shared, closed) = await OpenAsync(request, token, now, ct);
        if (shared is null) return closed!;
        if (!Unlocked(request, shared.Link, now)) return SharePages.Message(request, StatusCodes.Status403Forbidden, "PASSWORD_REQUIRED", "This picture needs its password: open the page to give it.");
        return shared.Poster is { } poster
            ? await RedirectAsync(request, poster, MediaLinkLifetime, null, ct)
            : SharePages.Message(request, StatusCodes.Status404NotFound, "NOT_FOUND", "This link has no picture.");
    }

    private async Task<IResult> PageAsync(HttpRequest request, string token, bool embed, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var (shared, closed) = await OpenAsync(request, token, now, ct);
        if (shared is null) return closed!;
        var nonce = SharePages.Nonce();
        if (!Unlocked(request, shared.Link, now))
            return SharePages.Html(request, StatusCodes.Status200OK, SharePages.PasswordForm(shared.Link.Title, PagePath(token), wrong: false, nonce), nonce, embed);
        // A HEAD (a crawler checking the link) is no view; a view racing a revoke or the expiry is gone.
        long views = shared.Link.ViewCount;
        if (!HttpMethods.IsHead(request.Method))
        {
            if (await ShareLinkStore.CountViewAsync(db, shared.Link.Id, now, ct) is not { } counted) return Gone(request);
            views = counted;
        }
        var page = new SharePages.Page(shared, secrets.PageUrl(token), PagePath(token), views, blobs.Options.ContainerUrl);
        return SharePages.Html(request, StatusCodes.Status200OK, embed ? SharePages.Embed(page, nonce) : SharePages.Player(page, nonce), nonce, embed,
            blobs.Options.ContainerUrl);
    }

    /// <summary>The open link the token names; else the 404 (no such token) or 410 (expired, revoked, or its video deleted) to answer.</summary>
    private async Task<(SharedMedia? Shared, IResult? Closed)> OpenAsync(HttpRequest request, string token, DateTimeOffset now, CancellationToken ct)
    {
        var shared = ShareSecrets.IsWellFormed(token) ? await ShareLinkStore.ByTokenHashAsync(db, ShareSecrets.Hash(token), ct) : null;
        if (shared is null) return (null, SharePages.Message(request, StatusCodes.Status404NotFound, "NOT_FOUND", "There is no such link. Check that it was copied whole."));
        return shared.IsOpen(now) ? (shared, null) : (null, Gone(request));
    }

    private static IResult Gone(HttpRequest request) =>
        SharePages.Message(request, StatusCodes.Status410Gone, "SHARE_LINK_GONE", "This link has expired or was turned off by whoever shared it.");

    private bool Unlocked(HttpRequest request, ShareLink link, DateTimeOffset now) =>
        link.PasswordHash is null || secrets.IsUnlocked(link, request.Cookies[ShareSecrets.CookieName], now);

    private async Task<IResult> RedirectAsync(HttpRequest request, SharedFile file, TimeSpan lifetime, string? downloadName, CancellationToken ct)
    {
        var link = await blobs.ReadLinkAsync(file.StorageKey, lifetime, file.ContentType, downloadName, ct);
        var headers = request.HttpContext.Response.Headers;
        // Each request gets its own link: nothing on the way may keep this answer.
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Redirect(link.Url.ToString(), permanent: false, preserveMethod: false);
    }

    private static string PagePath(string token) => $"/s/{token}";

    /// <summary>A 303 See Other to a path (Results.Redirect has 302 and 307 only).</summary>
    private sealed class SeeOther(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext http)
        {
            http.Response.StatusCode = StatusCodes.Status303SeeOther;
            http.Response.Headers.Location = location;
            return Task.CompletedTask;
        }
    }

    [LoggerMessage(EventId = 2900, Level = LogLevel.Information, Message = "Wrong password for share link {LinkId}")]
    private static partial void LogWrongPassword(ILogger logger, string linkId);
}
