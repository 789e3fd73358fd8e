using FentaWeb.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Net.Http.Headers;

namespace FentaWeb.Api.Web;

/// <summary>
/// The web app (src/Web's build, in FENTA_WEB_DIR) on the API's own origin, so its calls to <c>/v1</c> need no CORS and its
/// session cookie stays first-party. This is the one catch-all function: a GET or HEAD outside the API's paths is a file of
/// the build, or else an app route (<c>/jobs/job_123</c>, <c>/verify-email?token=…</c>) answered with <c>index.html</c>;
/// everything else no function takes gets the API's 404 or 405 (<see cref="UnmatchedRequests"/>).
/// </summary>
public sealed class WebAppFunctions(FentaOptions options)
{
    /// <summary>
    /// The Functions host tries routes in function-name order and the first match wins, so the catch-all is named to sort
    /// last (FunctionListTests checks that and that no route hides another).
    /// </summary>
    public const string FunctionName = "ZzWebApp";

    // Unlimited: a page load fetches a dozen files, which must not spend the anonymous rate limit that sign-in counts on.
    [Function(FunctionName), Anonymous, RateLimit(RateLimitClass.Unlimited), ExcludeFromDescription]
    public IResult ServeWebApp([HttpTrigger(AuthorizationLevel.Anonymous, "get", "post", "put", "patch", "delete", "head", "options",
        Route = "{*path}")] HttpRequest request) =>
        (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method)) && !WebAppFiles.IsApiPath(request.Path)
            ? WebAppFiles.Serve(request, options.WebDirectory)
            : throw UnmatchedRequests.Problem(request);
}

/// <summary>Files of the web app's build, with the cache headers its Vite output calls for.</summary>
public static class WebAppFiles
{
    /// <summary>
    /// First path segments that belong to the API (and its public share pages, <c>/s/…</c>): these never fall back to the
    /// app, so a wrong API path stays a 404 problem.
    /// </summary>
    private static readonly string[] ApiSegments = ["v1", "openapi", "healthz", "readyz", "s"];

    /// <summary>Vite's content-hashed output: a changed file gets a new name, so browsers may keep these for a year unasked.</summary>
    private const string AssetsFolder = "assets/";
    private const string Immutable = "public, max-age=31536000, immutable";
    /// <summary>Everything else (index.html above all) is asked again each time, so a new build shows at the next load; the ETag makes that a 304.</summary>
    private const string Revalidate = "no-cache";

    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    public static bool IsApiPath(PathString path) =>
        ApiSegments.Contains((path.Value ?? "").TrimStart('/').Split('/')[0], StringComparer.OrdinalIgnoreCase);

    public static IResult Serve(HttpRequest request, string root)
    {
        // Kestrel has decoded the path (all but %2F) and removed its dot segments; it is not decoded again here.
        var relative = (request.Path.Value ?? "").TrimStart('/');
        if (Find(root, relative) is { } file)
            return File(request, file, relative.StartsWith(AssetsFolder, StringComparison.Ordinal) ? Immutable : Revalidate);
        // A chunk of another build (a tab open across a deploy) must fail as a missing file, not load index.html as script.
        if (relative.StartsWith(AssetsFolder, StringComparison.Ordinal))
            throw new BadHttpRequestException($"The web app has no file {request.Path}; reload the page for the current build.", 404);
        return Find(root, "index.html") is { } index ? File(request, index, Revalidate)
            : throw new BadHttpRequestException("The web app is not built here (FENTA_WEB_DIR has no index.html); the API is served under /v1 " +
                "and described at /openapi/v1.json.", 404);
    }

    /// <summary>The file at this path under the root, if one is there: never a hidden file or one outside the root.</summary>
    private static FileInfo? Find(string root, string relative)
    {
        if (relative.Split('/').Any(segment => segment.StartsWith('.'))) return null;
        var full = Path.GetFullPath(Path.Join(root, relative));
        return full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && new FileInfo(full) is { Exists: true } file ? file : null;
    }

    /// <summary>The build's compressed copies (src/Web/precompress.ts), best first, as Accept-Encoding names them.</summary>
    private static readonly (string Encoding, string Suffix)[] Encodings = [("br", ".br"), ("gzip", ".gz")];

    private static PhysicalFileHttpResult File(HttpRequest request, FileInfo file, string cacheControl)
    {
        var headers = request.HttpContext.Response.Headers;
        headers.CacheControl = cacheControl;
        var type = ContentTypes.TryGetContentType(file.Name, out var known) ? known : "application/octet-stream";
        var sent = file;
        var accepted = request.GetTypedHeaders().AcceptEncoding;
        // Each copy is looked up once: the best the browser accepts is sent, and any copy at all means the answer varies.
        foreach (var (encoding, suffix) in Encodings)
        {
            if (new FileInfo(file.FullName + suffix) is not { Exists: true } compressed) continue;
            headers.Vary = HeaderNames.AcceptEncoding;
            if (sent != file || !accepted.Any(a => a.Value.Equals(encoding, StringComparison.OrdinalIgnoreCase) && a.Quality is not 0)) continue;
            sent = compressed;
            headers.ContentEncoding = encoding;
        }
        if (type.StartsWith("text/html", StringComparison.Ordinal))
        {
            // Pages opened from mailed links carry their token in the query: no Referer may take it elsewhere.
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
        }
        // The tag names the bytes sent: each encoding of a file is its own representation.
        return TypedResults.PhysicalFile(sent.FullName, type, lastModified: file.LastWriteTimeUtc,
            entityTag: new EntityTagHeaderValue($"\"{sent.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\""));
    }
}
