using FentaWeb.Domain.Common;
using FentaWeb.Domain.Persistence;
using Npgsql;

namespace FentaWeb.Api.Hosting;

/// <summary>
/// <c>FentaWeb.Functions.Api migrate</c>: applies the migrations and grants the apps' roles, then exits (0 when the database
/// is up to date). In Azure the migrate job runs it from the API's image, signed in as the database administrator identity
/// that owns the tables, so the apps themselves sign in as ordinary read-write roles (infra/migrate.sh starts it).
/// Settings come from the environment: FENTA_DB, FENTA_DB_AUTH, FENTA_DB_READWRITE_PRINCIPALS.
/// </summary>
public static partial class MigrateCommand
{
    public static async Task<int> RunAsync()
    {
        var config = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        using var loggers = LoggerFactory.Create(logging => logging.AddSimpleConsole(console => console.SingleLine = true));
        var logger = loggers.CreateLogger("FentaWeb.Migrate");
        try
        {
            SettingReferences.ThrowIfUnresolved(config.AsEnumerable());
            var principals = DatabaseSetup.ReadWritePrincipals(key => config[key]);
            await using var dataSource = FentaDb.FromSettings(key => config[key]);
            DatabaseStartup.Log(logger, await DatabaseSetup.ApplyAsync(dataSource, principals));
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or MigrationException or NpgsqlException)
        {
            LogFailed(logger, e.Message);
            return 1;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Migration failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason);
}
