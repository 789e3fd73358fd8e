using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FentaWeb.Domain.Assets;

namespace FentaWeb.Testing;

/// <summary>
/// Microsoft's Azure Storage emulator (npm's azurite, blob service only) on a free loopback port, in memory, with the
/// emulator's well-known account: the local stand-in of Azure Blob Storage for the blob client's tests.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    public const string Package = "azurite@3.37.0";
    public const string Account = "devstoreaccount1";
    /// <summary>The emulator's published development key (not a secret).</summary>
    public const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly Process _process;

    private Azurite(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public AzureBlobOptions Options(string container, string cacheFolder, string key = Key) =>
        new(new Uri($"http://127.0.0.1:{Port}/{Account}/{container}/"), Account, Convert.FromBase64String(key), null, Path.GetFullPath(cacheFolder), TimeSpan.FromSeconds(30));

    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static Azurite? _shared;

    /// <summary>The run's one emulator, started on first use and stopped when the test process exits.</summary>
    public static async Task<Azurite> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is not null) return _shared;
            var azurite = await StartAsync();
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
    /// lifetime, not its signature), which Azurite only does over HTTPS — with a self-signed certificate made here.
    /// </summary>
    public static Task<Azurite> StartWithOAuthAsync()
    {
        var folder = Directory.CreateTempSubdirectory("azurite-tls-").FullName;
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        File.WriteAllText(Path.Combine(folder, "cert.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "key.pem"), rsa.ExportPkcs8PrivateKeyPem());
        return StartAsync(["--oauth", "basic", "--cert", Path.Combine(folder, "cert.pem"), "--key", Path.Combine(folder, "key.pem")]);
    }

    public static async Task<Azurite> StartAsync(IEnumerable<string>? extra = null)
    {
        var port = FreePort();
        var start = new ProcessStartInfo("npx", ["--yes", "-p", Package, "azurite-blob", "--blobHost", "127.0.0.1", "--blobPort", port.ToString(),
            "--inMemoryPersistence", "--silent", "--skipApiVersionCheck", "--loose", .. extra ?? []])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        };
        var process = Process.Start(start)!;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromMinutes(2)) // the first run downloads the package
        {
            if (process.HasExited) throw new InvalidOperationException($"azurite exited ({process.ExitCode}): {await process.StandardError.ReadToEndAsync()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new Azurite(process, port);
            }
            catch (SocketException)
            {
                await Task.Delay(200);
            }
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"azurite did not listen on {port} within two minutes");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}
