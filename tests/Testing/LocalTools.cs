using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FentaWeb.Testing;

/// <summary>What the tests' local servers (Azurite, MailDev) share: finding their pinned npm binary and loopback ports.</summary>
public static class LocalTools
{
    /// <summary>
    /// The pinned tool: the path in <paramref name="variable"/> (set by ./test.sh), else
    /// tools/<paramref name="tool"/>/node_modules/.bin/<paramref name="tool"/> in a folder above the test assembly.
    /// </summary>
    public static string NpmBinary(string tool, string variable, string name)
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(variable);
        if (!string.IsNullOrEmpty(fromEnvironment) && File.Exists(fromEnvironment)) return fromEnvironment;
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "tools", tool, "node_modules", ".bin", tool);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"{name} is not installed: run ./test.sh, which installs it from tools/{tool} (npm ci there also does)" +
            (string.IsNullOrEmpty(fromEnvironment) ? "" : $"; {variable}={fromEnvironment} does not exist"));
    }

    public static async Task<bool> AcceptsAsync(int port)
    {
        try
        {
            using var probe = new TcpClient();
            await probe.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Starts a server on <paramref name="count"/> free ports, on new ones if another socket took a port between its
    /// choosing and the server binding it (the start's failure says EADDRINUSE or "already in use"); three tries.
    /// </summary>
    public static async Task<T> StartOnFreePortsAsync<T>(int count, Func<int[], Task<T>> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await start(FreePorts(count));
            }
            catch (Exception e) when (attempt < 3 && (e.ToString().Contains("EADDRINUSE", StringComparison.Ordinal) ||
                                                      e.ToString().Contains("already in use", StringComparison.OrdinalIgnoreCase)))
            {
            }
        }
    }

    /// <summary>
    /// Runs a tool to its end and returns its exit code and output (stdout, then stderr). One still running after
    /// <paramref name="timeout"/> (5 minutes) is killed and reported as exit -1.
    /// </summary>
    public static async Task<(int Exit, string Output)> RunAsync(string file, IEnumerable<string> arguments, string? folder = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (folder is not null) start.WorkingDirectory = folder;
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var limit = timeout ?? TimeSpan.FromMinutes(5);
        using var expired = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(expired.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            return (-1, $"{file} {string.Join(' ', start.ArgumentList)} did not finish within {limit.TotalMinutes:0} minutes:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Distinct free loopback ports (held together while chosen, so they differ).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners) listener.Start();
            return [.. listeners.Select(listener => ((IPEndPoint)listener.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners) listener.Stop();
        }
    }
}
