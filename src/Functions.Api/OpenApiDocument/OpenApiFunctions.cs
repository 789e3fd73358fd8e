using FentaWeb.Api.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace FentaWeb.Api.OpenApiDocument;

public sealed class OpenApiFunctions
{
    /// <summary>The document the build generated from these functions (not itself an operation in it).</summary>
    [Function("OpenApiDocument"), Anonymous, RateLimit(RateLimitClass.Unlimited), ExcludeFromDescription]
    public IResult Document([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = OpenApi.DocumentFile)] HttpRequest request)
    {
        var path = Path.Combine(AppContext.BaseDirectory, OpenApi.DocumentFile);
        return File.Exists(path) ? Results.File(path, "application/json")
            : throw new InvalidOperationException($"The OpenAPI document is missing from {path}: the build writes it there (Functions.Api.csproj).");
    }
}
