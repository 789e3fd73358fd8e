using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FentaWeb.Testing;

/// <summary>
/// An SMTP catcher (npm's maildev) on free loopback ports: the API sends its mails there through MailKit as it would to a
/// real server, and tests read them back over MailDev's REST API. It runs the version pinned in
/// tools/maildev/package-lock.json, which ./test.sh installs (FENTA_MAILDEV_BIN points at it).
/// </summary>
public sealed partial class MailDev : IAsyncDisposable
{
    public const string Package = "maildev@3.0.0";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static MailDev? _shared;

    private readonly Process _process;
    private readonly string _folder;
    private readonly HttpClient _web;

    private MailDev(Process process, string folder, int smtpPort, int webPort)
    {
        _process = process;
        _folder = folder;
        SmtpPort = smtpPort;
        _web = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{webPort}/") };
    }

    public int SmtpPort { get; }

    /// <summary>The API settings that send its mail here (plain SMTP: the catcher is on loopback).</summary>
    public IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
    {
        ["FENTA_SMTP_HOST"] = "127.0.0.1",
        ["FENTA_SMTP_PORT"] = SmtpPort.ToString(),
        ["FENTA_SMTP_TLS"] = "none",
        ["FENTA_SMTP_FROM"] = "FentaWeb tests <no-reply@fentaweb.test>",
    };

    /// <summary>The run's one catcher, started on first use and stopped when the test process exits.</summary>
    public static async Task<MailDev> SharedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_shared is not null) return _shared;
            var mailDev = await StartAsync();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => mailDev.DisposeAsync().AsTask().GetAwaiter().GetResult();
            return _shared = mailDev;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The mails received for <paramref name="to"/>, oldest first.</summary>
    public async Task<IReadOnlyList<CaughtMail>> MailsToAsync(string to)
    {
        var all = await _web.GetFromJsonAsync<JsonElement>("api/email");
        return all.EnumerateArray()
            .Where(m => m.GetProperty("to").EnumerateArray().Any(a => string.Equals(a.GetProperty("address").GetString(), to, StringComparison.OrdinalIgnoreCase)))
            .Select(m => new CaughtMail(m.GetProperty("subject").GetString() ?? "", m.GetProperty("text").GetString() ?? "",
                m.GetProperty("from").EnumerateArray().First().GetProperty("address").GetString() ?? ""))
            .ToList();
    }

    /// <summary>
    /// Waits (the API sends after answering) for the <paramref name="count"/>th mail to <paramref name="to"/> whose subject
    /// has <paramref name="subject"/>, for 15 s or <paramref name="within"/>.
    /// </summary>
    public async Task<CaughtMail> WaitForAsync(string to, string subject, int count = 1, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(15);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var mails = (await MailsToAsync(to)).Where(m => m.Subject.Contains(subject, StringComparison.OrdinalIgnoreCase)).ToList();
            if (mails.Count >= count) return mails[count - 1];
            if (watch.Elapsed > limit)
                throw new TimeoutException($"no mail #{count} '{subject}' to {to} within {limit.TotalSeconds:0} s; it has {mails.Count}");
            await Task.Delay(50);
        }
    }

    private static Task<MailDev> StartAsync() => LocalTools.StartOnFreePortsAsync(2, ports => StartAsync(ports[0], ports[1]));

    private static async Task<MailDev> StartAsync(int smtpPort, int webPort)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"fenta-maildev-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        // Through a shell that stops MailDev when this process's end of its stdin closes, as for Azurite.
        var start = new ProcessStartInfo("/bin/sh", ["-c", "\"$0\" \"$@\" & child=$!; cat >/dev/null; kill $child", Binary(),
            "--smtp", smtpPort.ToString(), "--ip", "127.0.0.1", "--web", webPort.ToString(), "--web-ip", "127.0.0.1", "--mail-directory", folder])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder,
        };
        var output = new StringBuilder();
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, line) => { lock (output) output.AppendLine(line.Data); };
        process.ErrorDataReceived += (_, line) => { lock (output) output.AppendLine(line.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < StartTimeout)
        {
            if (process.HasExited) throw new InvalidOperationException($"maildev exited ({process.ExitCode}) during start-up: {output}");
            if (await LocalTools.AcceptsAsync(smtpPort) && await LocalTools.AcceptsAsync(webPort)) return new MailDev(process, folder, smtpPort, webPort);
            await Task.Delay(100);
        }
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"maildev did not listen on {smtpPort} and {webPort} within {StartTimeout.TotalSeconds:0} s: {output}");
    }

    /// <summary>The pinned catcher (FENTA_MAILDEV_BIN, else tools/maildev).</summary>
    public static string Binary() => LocalTools.NpmBinary("maildev", "FENTA_MAILDEV_BIN", "MailDev");

    public async ValueTask DisposeAsync()
    {
        _web.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        if (Directory.Exists(_folder)) Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>One caught mail.</summary>
public sealed partial record CaughtMail(string Subject, string Text, string From)
{
    [GeneratedRegex(@"\?token=([A-Za-z0-9_%\-]+)")]
    private static partial Regex TokenInLink();

    /// <summary>The token of the link in the mail (what a user's click would carry).</summary>
    public string Token => TokenInLink().Match(Text) is { Success: true } match ? Uri.UnescapeDataString(match.Groups[1].Value)
        : throw new InvalidOperationException($"no link with a token in: {Text}");

    /// <summary>The whole link, to check where it points.</summary>
    public string Link => Text.Split('\n').Select(l => l.Trim()).First(l => l.Contains("?token=", StringComparison.Ordinal));
}
