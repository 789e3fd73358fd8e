using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using FentaWeb.Api.Hosting;
using FentaWeb.Runs.Sharing;
using Microsoft.Net.Http.Headers;

namespace FentaWeb.Api.Sharing;

/// <summary>
/// The share pages' HTML, written here without script: what an unfurler reads (Open Graph and Twitter player tags with
/// absolute URLs on FENTA_PUBLIC_URL) and what a person sees (the player, the title, the view count). Nothing about the
/// org is on it but the title, HTML-escaped; the media are the page's own <c>/video</c> and <c>/poster</c> paths, so its
/// source holds no storage link.
/// </summary>
public static class SharePages
{
    /// <summary>The sizes announced when the file's own are unknown (a 9:16 short).</summary>
    private const int DefaultWidth = 720, DefaultHeight = 1280;

    public sealed record Page(SharedMedia Shared, Uri PublicPage, string Path, long Views, Uri MediaContainer)
    {
        public string Title => Shared.Link.Title;
        public bool IsVideo => Shared.MediaType == "video";
        public int Width => Shared.Media?.Width ?? DefaultWidth;
        public int Height => Shared.Media?.Height ?? DefaultHeight;
        public string Absolute(string suffix) => PublicPage + suffix;
    }

    public static string Nonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));

    private static string E(string text) => HtmlEncoder.Default.Encode(text);

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static string Player(Page page, string nonce)
    {
        var html = new StringBuilder();
        Head(html, page.Title, nonce, embed: false);
        var shared = page.Shared;
        Meta(html, "property", "og:title", page.Title);
        Meta(html, "property", "og:url", page.PublicPage.ToString());
        Meta(html, "property", "og:site_name", "FentaWeb");
        if (shared.Poster is not null) Meta(html, "property", "og:image", page.Absolute("/poster"));
        if (page.IsVideo)
        {
            var video = page.Absolute("/video");
            var type = shared.Media!.ContentType ?? "video/mp4";
            Meta(html, "property", "og:type", "video.other");
            Meta(html, "property", "og:video", video);
            if (page.PublicPage.Scheme == Uri.UriSchemeHttps) Meta(html, "property", "og:video:secure_url", video);
            Meta(html, "property", "og:video:type", type);
            Meta(html, "property", "og:video:width", N(page.Width));
            Meta(html, "property", "og:video:height", N(page.Height));
            Meta(html, "name", "twitter:card", "player");
            Meta(html, "name", "twitter:title", page.Title);
            Meta(html, "name", "twitter:player", page.Absolute("/embed"));
            Meta(html, "name", "twitter:player:width", N(page.Width));
            Meta(html, "name", "twitter:player:height", N(page.Height));
            Meta(html, "name", "twitter:player:stream", video);
            Meta(html, "name", "twitter:player:stream:content_type", type);
            if (shared.Poster is not null) Meta(html, "name", "twitter:image", page.Absolute("/poster"));
        }
        else
        {
            Meta(html, "property", "og:type", "website");
            Meta(html, "name", "twitter:card", "summary_large_image");
            Meta(html, "name", "twitter:title", page.Title);
            if (shared.Poster is not null) Meta(html, "name", "twitter:image", page.Absolute("/poster"));
        }
        html.Append("</head>\n<body>\n<main>\n");
        Media(html, page);
        html.Append("<h1>").Append(E(page.Title)).Append("</h1>\n<p class=\"meta\">")
            .Append(page.Views == 1 ? "1 view" : $"{page.Views.ToString("N0", CultureInfo.InvariantCulture)} views").Append("</p>\n");
        if (shared.Link.AllowDownload)
            html.Append("<p><a class=\"button\" href=\"").Append(E(page.Path)).Append("/video?download=1\" download>Download</a></p>\n");
        html.Append("</main>\n<footer>Shared with FentaWeb</footer>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>The bare player Twitter's card frames (twitter:player), filling its frame.</summary>
    public static string Embed(Page page, string nonce)
    {
        var html = new StringBuilder();
        Head(html, page.Title, nonce, embed: true);
        html.Append("</head>\n<body class=\"embed\">\n");
        Media(html, page);
        html.Append("</body>\n</html>\n");
        return html.ToString();
    }

    public static string PasswordForm(string title, string path, bool wrong, string nonce)
    {
        var html = new StringBuilder();
        Head(html, title, nonce, embed: false);
        Meta(html, "property", "og:title", title);
        html.Append("</head>\n<body>\n<main class=\"narrow\">\n<h1>").Append(E(title)).Append("</h1>\n")
            .Append("<form method=\"post\" action=\"").Append(E(path)).Append("\">\n")
            .Append("<p>This video is protected with a password.</p>\n");
        if (wrong) html.Append("<p class=\"error\" role=\"alert\" id=\"password-error\">That password is not right. Try again.</p>\n");
        html.Append("<label for=\"password\">Password</label>\n")
            .Append("<input id=\"password\" name=\"password\" type=\"password\" required maxlength=\"200\" autocomplete=\"current-password\" autofocus")
            .Append(wrong ? " aria-invalid=\"true\" aria-describedby=\"password-error\"" : "").Append(">\n")
            .Append("<button type=\"submit\">Watch</button>\n</form>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Media(StringBuilder html, Page page)
    {
        var path = E(page.Path);
        if (page.IsVideo)
        {
            html.Append("<video controls playsinline preload=\"metadata\" src=\"").Append(path).Append("/video\"");
            if (page.Shared.Poster is not null) html.Append(" poster=\"").Append(path).Append("/poster\"");
            html.Append(" width=\"").Append(N(page.Width)).Append("\" height=\"").Append(N(page.Height)).Append("\" aria-label=\"")
                .Append(E(page.Title)).Append("\"></video>\n");
        }
        else
        {
            html.Append("<img src=\"").Append(path).Append("/poster\" alt=\"").Append(E(page.Title)).Append("\" width=\"").Append(N(page.Width))
                .Append("\" height=\"").Append(N(page.Height)).Append("\">\n");
        }
    }

    private static void Head(StringBuilder html, string title, string nonce, bool embed)
    {
        html.Append("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<meta name=\"robots\" content=\"noindex, nofollow\">\n")
            .Append("<meta name=\"referrer\" content=\"no-referrer\">\n")
            .Append("<title>").Append(E(title)).Append("</title>\n")
            .Append("<style nonce=\"").Append(nonce).Append("\">").Append(embed ? EmbedStyle : Style).Append("</style>\n");
    }

    private static void Meta(StringBuilder html, string attribute, string name, string content) =>
        html.Append("<meta ").Append(attribute).Append("=\"").Append(name).Append("\" content=\"").Append(E(content)).Append("\">\n");

    private const string Style = """
        :root{color-scheme:dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
        body{margin:0;min-height:100vh;display:flex;flex-direction:column;background:#0f1115;color:#e8eaf0}
        main{flex:1;width:min(100%,960px);margin:0 auto;padding:24px 16px;box-sizing:border-box}
        main.narrow{width:min(100%,420px);padding-top:12vh}
        video,img{display:block;width:100%;height:auto;max-height:78vh;object-fit:contain;background:#000;border-radius:12px}
        h1{font-size:1.4rem;margin:16px 0 4px;overflow-wrap:anywhere}
        .meta{margin:0;color:#9aa3b5}
        .error{color:#ff8a8a}
        label{display:block;margin:12px 0 6px;font-weight:600}
        input{width:100%;box-sizing:border-box;padding:10px;border-radius:8px;border:1px solid #3a4150;background:#171a21;color:inherit;font-size:1rem}
        button,.button{display:inline-block;margin-top:12px;padding:10px 18px;border:0;border-radius:8px;background:#4f7cff;color:#fff;font-size:1rem;text-decoration:none;cursor:pointer}
        footer{padding:16px;text-align:center;color:#6b7385;font-size:.85rem}
        """;

    private const string EmbedStyle = """
        html,body{margin:0;height:100%;background:#000}
        video,img{display:block;width:100%;height:100%;object-fit:contain}
        """;

    /// <summary>
    /// An HTML answer with the page headers: no caching (a view count, a cookie-dependent body), no referrer (the URL is the
    /// secret), no indexing, and a CSP that allows no script at all, styles only by this answer's nonce, media only from the
    /// page's origin and the storage account its redirects lead to, and framing only for the embed.
    /// </summary>
    public static IResult Html(HttpRequest request, int status, string html, string nonce, bool embed = false, Uri? mediaOrigin = null)
    {
        var headers = request.HttpContext.Response.Headers;
        var media = mediaOrigin is null ? "'self'" : $"'self' {mediaOrigin.GetLeftPart(UriPartial.Authority)}";
        headers.ContentSecurityPolicy = $"default-src 'none'; style-src 'nonce-{nonce}'; img-src {media}; media-src {media}; form-action 'self'; " +
            $"base-uri 'none'; frame-ancestors {(embed ? "*" : "'none'")}";
        if (!embed) headers.XFrameOptions = "DENY";
        headers.CacheControl = "no-store";
        headers["Referrer-Policy"] = "no-referrer";
        headers["X-Robots-Tag"] = "noindex, nofollow";
        headers.XContentTypeOptions = "nosniff";
        return Results.Text(html, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A closed or refused page: problem+json for a client that asks for JSON, else a small HTML page saying why.</summary>
    public static IResult Message(HttpRequest request, int status, string code, string text)
    {
        if (WantsJson(request))
        {
            request.HttpContext.Response.Headers.CacheControl = "no-store";
            return TypedResults.Problem(Titles.Problem(status, code, text));
        }
        var nonce = Nonce();
        var html = new StringBuilder();
        Head(html, Titles.For(status), nonce, embed: false);
        html.Append("</head>\n<body>\n<main class=\"narrow\">\n<h1>").Append(E(Titles.For(status))).Append("</h1>\n<p>").Append(E(text))
            .Append("</p>\n</main>\n</body>\n</html>\n");
        return Html(request, status, html.ToString(), nonce);
    }

    /// <summary>JSON when it is preferred to HTML (an API client), HTML otherwise (browsers, crawlers, no Accept at all).</summary>
    private static bool WantsJson(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(Func<string, bool> matches) =>
            accept.Where(a => a.MediaType.Value is { } type && matches(type)).Select(a => a.Quality ?? 1).DefaultIfEmpty(0).Max();
        var json = Quality(t => t.Equals("application/json", StringComparison.OrdinalIgnoreCase) || t.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var html = Quality(t => t.Equals("text/html", StringComparison.OrdinalIgnoreCase));
        return json > 0 && json > html;
    }

    /// <summary>The downloaded file's name: the title, with the file's own extension.</summary>
    public static string DownloadName(string title, SharedFile media)
    {
        var extension = Path.GetExtension(media.Filename ?? "") is { Length: > 1 and <= 8 } known ? known : ".mp4";
        // Without what any system's file names (Windows' above all) or a quoted header value cannot hold.
        var name = new string(title.Select(c => c is '"' or '\\' or '/' or ':' or '*' or '?' or '<' or '>' or '|' || char.IsControl(c) ? '_' : c).ToArray()).Trim(' ', '.');
        return (name.Length == 0 ? "video" : name) + extension;
    }
}
