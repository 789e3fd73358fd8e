using System.Diagnostics;
using FentaWeb.Domain.Persistence;
using Npgsql;

namespace FentaWeb.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster for one test run: initdb into a temp folder, a free loopback port, fsync off.
/// Migrations are applied once into a template database; every test class clones it (CREATE DATABASE … TEMPLATE),
/// which takes milliseconds and isolates classes from each other. As root, the cluster runs as an unprivileged
/// user, because PostgreSQL refuses root.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private const string TemplateDatabase = "fenta_template";
    private const string OsUser = "fentapg";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static PostgresServer? _shared;

    private readonly string _bin;
    private readonly string _data;
    private int _databases;

    private PostgresServer(string bin, string data, int port)
    {
        _bin = bin;
        _data = data;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Include Error Detail=true;Maximum Pool Size=30";

    /// <summary>The run's one cluster, started on first use and stopped when the test process exits.</summary>
    public static async Task<PostgresServer> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is not null) return _shared;
            var server = await StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return _shared = server;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>A fresh, migrated database for one test class.</summary>
    public async Task<string> CreateDatabaseAsync(string? hint = null)
    {
        var name = $"t{Interlocked.Increment(ref _databases)}_{(hint ?? "db").ToLowerInvariant()}";
        name = new string(name.Where(c => char.IsAsciiLetterOrDigit(c) || c == '_').Take(60).ToArray());
        await ExecAsync("postgres", $"CREATE DATABASE {name} TEMPLATE {TemplateDatabase}");
        return ConnectionString(name);
    }

    /// <summary>An empty database with no migrations, for tests of the migrator itself.</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string hint)
    {
        var name = $"e{Interlocked.Increment(ref _databases)}_{hint.ToLowerInvariant()}";
        await ExecAsync("postgres", $"CREATE DATABASE {name}");
        return ConnectionString(name);
    }

    /// <summary>
    /// A cluster of its own, not shared. <paramref name="durable"/> keeps PostgreSQL's defaults (fsync and
    /// synchronous_commit on), for benchmarks whose numbers must mean what production would see.
    /// </summary>
    public static Task<PostgresServer> StartDedicatedAsync(bool durable) => StartAsync(durable);

    private static async Task<PostgresServer> StartAsync(bool durable = false)
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending()
            .Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")))
            ?? throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); run ./test.sh, which installs it.");
        RemoveStoppedClusters();
        var data = Path.Combine(Path.GetTempPath(), $"fenta-test-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(data);
        if (IsRoot) await RunAsync("chown", [OsUser, data]);
        await RunAsPgAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]);
        var port = await LocalTools.StartOnFreePortsAsync(1, async ports =>
        {
            var log = Path.Combine(data, "server.log");
            try
            {
                await RunAsPgAsync(Path.Combine(bin, "pg_ctl"),
                [
                    "-D", data, "-l", log, "-w", "-t", "60",
                    "-o", $"-p {ports[0]} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300"
                          + (durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"),
                    "start",
                ]);
                return ports[0];
            }
            catch (InvalidOperationException e) when (File.Exists(log))
            {
                // pg_ctl says only that the server did not start; its log says why.
                throw new InvalidOperationException($"{e.Message}\n{await File.ReadAllTextAsync(log)}", e);
            }
        });
        var server = new PostgresServer(bin, data, port);
        await server.ExecAsync("postgres", $"CREATE DATABASE {TemplateDatabase}");
        await using (var dataSource = FentaDb.CreateDataSource(server.ConnectionString(TemplateDatabase)))
            await Migrator.ApplyAsync(dataSource);
        // Templates must have no open connections when cloned.
        NpgsqlConnection.ClearAllPools();
        return server;
    }

    public async Task ExecAsync(string database, string sql)
    {
        await using var conn = new NpgsqlConnection(ConnectionString(database) + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RunAsPgAsync(Path.Combine(_bin, "pg_ctl"), ["-D", _data, "-m", "immediate", "-w", "stop"]);
        }
        finally
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    /// <summary>The test host may exit before its exit handler finishes deleting; sweep what earlier runs left.</summary>
    private static void RemoveStoppedClusters()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), "fenta-test-pg-*"))
        {
            // Named fenta-test-pg-<pid>-…: leave those of test processes still running (they may be initializing).
            var pid = Path.GetFileName(dir).Split('-')[3];
            if (int.TryParse(pid, out var owner) && Directory.Exists($"/proc/{owner}")) continue;
            if (File.Exists(Path.Combine(dir, "postmaster.pid"))) continue;
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static Task RunAsPgAsync(string file, string[] args) =>
        IsRoot ? RunAsync("runuser", ["-u", OsUser, "--", file, .. args]) : RunAsync(file, args);

    private static async Task RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
    }

}
