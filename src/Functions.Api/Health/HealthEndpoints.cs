using FentaWeb.Domain.Persistence;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.RateLimiting;
using Npgsql;

namespace FentaWeb.Api.Health;

public sealed record HealthDto(string Status, string? Reason = null);

public static class HealthEndpoints
{
    public static void MapHealth(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Health").DisableRateLimiting();
        group.MapGet("/healthz", () => TypedResults.Ok(new HealthDto("healthy"))).WithSummary("Liveness: the process serves requests.");
        group.MapGet("/readyz", Ready).WithSummary("Readiness: the database answers and every migration is applied.");
    }

    private static async Task<Results<Ok<HealthDto>, JsonHttpResult<HealthDto>>> Ready(NpgsqlDataSource dataSource, CancellationToken ct)
    {
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
