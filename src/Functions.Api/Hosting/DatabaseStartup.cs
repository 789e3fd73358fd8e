using FentaWeb.Api.Identity;
using FentaWeb.Api.Samples;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Runs.Assets;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// Applies migrations before the server takes traffic (unless FENTA_MIGRATE_ON_START=false: in Azure the migrate job does,
/// <see cref="MigrateCommand"/>), then seeds the demo account when asked to.
/// </summary>
public sealed partial class DatabaseStartup(NpgsqlDataSource dataSource, IServiceScopeFactory scopes, FentaOptions options,
    TimeProvider clock, ILogger<DatabaseStartup> logger) : IHostedService
{
    public const string DemoEmail = "demo@fentaweb.local";

    public async Task StartAsync(CancellationToken ct)
    {
        if (options.MigratesOnStart) Log(logger, await DatabaseSetup.ApplyAsync(dataSource, options.ReadWritePrincipals, ct));
        if (options.DemoApiKey is { } demoKey && options.DemoPassword is { } demoPassword)
            await SeedDemoAsync(demoKey, demoPassword, ct);
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;

    private async Task SeedDemoAsync(string demoKey, string demoPassword, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<FentaDb>();
        var now = clock.GetUtcNow();
        var user = await db.Users.SingleOrDefaultAsync(u => u.Email == DemoEmail, ct);
        string orgId;
        if (user is null)
        {
            var (created, org) = await Accounts.CreateAsync(db, DemoEmail, "Demo", demoPassword, now, ct);
            org.Name = "Demo Studio";
            user = created;
            orgId = org.Id;
        }
        else
        {
            orgId = await db.Orgs.Where(o => o.OwnerId == user.Id).OrderBy(o => o.CreatedAt).Select(o => o.Id).FirstAsync(ct);
        }
        // The operator's own local account: its .local address can receive no mail, so it counts as verified.
        user.EmailVerifiedAt ??= now;
        // Unlimited, so demos run however often they are run this month (a free org would pause at its 300 render seconds).
        await db.Orgs.Where(o => o.Id == orgId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Plan, "enterprise"), ct);
        var hash = ApiKey.Hash(demoKey);
        if (!await db.ApiKeys.AnyAsync(k => k.KeyHash == hash, ct))
        {
            db.ApiKeys.Add(new ApiKey
            {
                Id = Domain.Common.Ids.New("key"),
                UserId = user.Id,
                OrgId = orgId,
                Name = "Demo key (seeded by run.sh)",
                KeyHash = hash,
                KeyPrefix = demoKey[..11],
                Scopes = [.. Scopes.All],
                CreatedAt = now,
            });
        }
        await db.SaveChangesAsync(ct);
        await SampleWorkflows.SeedAsync(db, scope.ServiceProvider.GetRequiredService<AssetStore>(), orgId, user.Id, now, ct);
        await db.SaveChangesAsync(ct);
        LogDemoSeeded(logger, DemoEmail, orgId);
    }

    /// <summary>What a database setup did, in the log of the host or command that ran it.</summary>
    public static void Log(ILogger logger, DatabaseSetupResult result)
    {
        LogMigrated(logger, result.Applied, Migrator.All.Count);
        foreach (var role in result.ReadWriteRoles) LogGranted(logger, role);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Database ready: {Applied} new of {Known} migrations applied")]
    private static partial void LogMigrated(ILogger logger, int applied, int known);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Database role {Role} may read and write the product's tables")]
    private static partial void LogGranted(ILogger logger, string role);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Demo account {Email} in org {OrgId} is ready")]
    private static partial void LogDemoSeeded(ILogger logger, string email, string orgId);
}
