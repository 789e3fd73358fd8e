using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Npgsql;

namespace FentaWeb.Api.Health;

public sealed record HealthDto(string Status, string? Reason = null);

/// <summary>Probes: never limited, so they keep answering while a client is throttled.</summary>
[Tags("Health")]
public sealed class HealthFunctions(NpgsqlDataSource dataSource, IConfiguration configuration)
{
    [Function(nameof(Liveness)), Anonymous, RateLimit(RateLimitClass.Unlimited), EndpointSummary("Liveness: the process serves requests.")]
    public Ok<HealthDto> Liveness([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "healthz")] HttpRequest request) =>
        TypedResults.Ok(new HealthDto("healthy"));

    [Function(nameof(Readiness)), Anonymous, RateLimit(RateLimitClass.Unlimited), EndpointSummary("Readiness: every setting is resolved, the database answers and every migration is applied.")]
    public async Task<Results<Ok<HealthDto>, JsonHttpResult<HealthDto>>> Readiness(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "readyz")] HttpRequest request, CancellationToken ct)
    {
        // Start-up refuses these already (FentaOptions); asked again of the live configuration so the probe never
        // calls an instance ready on a reference its configuration holds now. Names the settings, never their values.
        if (SettingReferences.Problem(configuration.AsEnumerable()) is { } unresolved)
            return TypedResults.Json(new HealthDto("not_ready", unresolved), statusCode: 503);
        try
        {
            return await Migrator.IsUpToDateAsync(dataSource, ct)
                ? TypedResults.Ok(new HealthDto("ready"))
                : TypedResults.Json(new HealthDto("not_ready", "migrations are not all applied"), statusCode: 503);
        }
        catch (NpgsqlException e)
        {
            return TypedResults.Json(new HealthDto("not_ready", $"database unreachable: {e.Message}"), statusCode: 503);
        }
    }
}
