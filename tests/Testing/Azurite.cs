using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FentaWeb.Testing;

/// <summary>
/// Microsoft's Azure Storage emulator (npm's azurite: blob, queue and table services) on free loopback ports, in memory,
/// with the emulator's well-known account: the local stand-in of Azure Storage for the tests. It runs the version pinned
/// in tools/azurite/package-lock.json, which ./test.sh installs (FENTA_AZURITE_BIN points at it).
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    /// <summary>The emulator's package and version, as pinned in tools/azurite/package.json.</summary>
    public const string Package = "azurite@3.37.0";
    public const string Account = "devstoreaccount1";
    /// <summary>The emulator's published development key (not a secret).</summary>
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly string _scheme;

    private Azurite(Process process, int port, int queuePort, int tablePort, string scheme)
    {
        _process = process;
        Port = port;
        QueuePort = queuePort;
        TablePort = tablePort;
        _scheme = scheme;
    }

    /// <summary>The blob service's port.</summary>
    public int Port { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    /// <summary>A connection string with explicit endpoints for all three services (https when started with a certificate).</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol={_scheme};AccountName={Account};AccountKey={Key};" +
        $"BlobEndpoint={_scheme}://127.0.0.1:{Port}/{Account};QueueEndpoint={_scheme}://127.0.0.1:{QueuePort}/{Account};" +
        $"TableEndpoint={_scheme}://127.0.0.1:{TablePort}/{Account};";

    /// <summary>The URL of a blob container in the emulator's account (over HTTPS, as Entra ID callers need).</summary>
    public string ContainerUrl(string container) => $"{_scheme}://127.0.0.1:{Port}/{Account}/{container}";

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Azurite? _shared;

    /// <summary>The run's one emulator (with OAuth over HTTPS), started on first use and stopped when the test process exits.</summary>
    public static async Task<Azurite> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is not null) return _shared;
            var azurite = await StartWithOAuthAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => azurite.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return _shared = azurite;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// An emulator that also takes Entra ID bearer tokens (<c>--oauth basic</c>: it checks a token's audience, issuer and
    /// lifetime, not its signature) and so issues user delegation keys, which Azurite only does over HTTPS. The
    /// certificate is the one ./test.sh makes (FENTA_AZURITE_CERT, FENTA_AZURITE_KEY) and has this process trust through
    /// SSL_CERT_FILE before it starts: .NET reads its trusted roots once, from the environment it started with.
    /// </summary>
    public static Task<Azurite> StartWithOAuthAsync()
    {
        string Required(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } path && File.Exists(path) ? path
            : throw new InvalidOperationException(
                $"{name} is not set to a file: the tests' Azurite serves HTTPS with the certificate ./test.sh makes and trusts. Run ./test.sh, " +
                "or run `eval \"$(scripts/azurite-tls.sh)\"` in the shell before dotnet test.");
        return StartAsync(["--oauth", "basic", "--cert", Required("FENTA_AZURITE_CERT"), "--key", Required("FENTA_AZURITE_KEY")]);
    }

    /// <summary>Starts an emulator with all three services on free ports; <paramref name="extra"/> is added to its arguments.</summary>
    private static Task<Azurite> StartAsync(IEnumerable<string>? extra = null) =>
        LocalTools.StartOnFreePortsAsync(3, ports => StartAsync(ports[0], ports[1], ports[2], extra?.ToArray() ?? []));

    private static async Task<Azurite> StartAsync(int blobPort, int queuePort, int tablePort, string[] extraArguments)
    {
        var scheme = extraArguments.Contains("--cert") ? "https" : "http";
        // Through a shell that stops Azurite when this process's end of its stdin closes: a test host that dies
        // without running its exit handlers (dotnet test may end it abruptly) leaves no emulator behind.
        var start = new ProcessStartInfo("/bin/sh", ["-c", "\"$0\" \"$@\" & child=$!; cat >/dev/null; kill $child", Binary(),
            "--blobHost", "127.0.0.1", "--blobPort", blobPort.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", queuePort.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", tablePort.ToString(),
            "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry", .. extraArguments])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        };
        var output = new StringBuilder();
        void Collect(object _, DataReceivedEventArgs line)
        {
            if (line.Data is null) return;
            lock (output) output.AppendLine(line.Data);
        }
        string Output() { lock (output) return output.ToString(); }

        var process = new Process { StartInfo = start };
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < StartTimeout)
        {
            if (process.HasExited)
            {
                await process.WaitForExitAsync(); // lets the output readers finish
                var code = process.ExitCode;
                process.Dispose();
                throw new InvalidOperationException($"azurite exited ({code}) during start-up: {Output()}");
            }
            if (await LocalTools.AcceptsAsync(blobPort) && await LocalTools.AcceptsAsync(queuePort) && await LocalTools.AcceptsAsync(tablePort))
                return new Azurite(process, blobPort, queuePort, tablePort, scheme);
            await Task.Delay(100);
        }
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
        throw new TimeoutException($"azurite did not listen on {blobPort}, {queuePort} and {tablePort} within {StartTimeout.TotalSeconds:0} s: {Output()}");
    }

    /// <summary>The pinned emulator (FENTA_AZURITE_BIN, else tools/azurite).</summary>
    public static string Binary() => LocalTools.NpmBinary("azurite", "FENTA_AZURITE_BIN", "Azurite");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
