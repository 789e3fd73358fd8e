using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Web;
using FentaWeb.Integrations.Kie;
using FentaWeb.Orchestrations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Api.Tests;

/// <summary>Signed links are credentials: neither the API nor a worker writes one to its log, even at Information level.</summary>
public partial class LogRedactionTests(LogRedactionTests.Host host) : IClassFixture<LogRedactionTests.Host>
{
    public sealed class Host : ApiHost
    {
        public CapturedLogs ApiLogs { get; } = new();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:System.Net.Http"] = "Trace",
        };

        protected override void ConfigureApi(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(ApiLogs);
    }

    [Fact]
    public async Task SignedLinksTheApiHandsOutLeaveNoSignatureInItsLog()
    {
        var client = (await host.RegisterAsync()).Client();
        var bytes = await Uploads.ClipAsync();
        var ticket = await client.InitUploadAsync("clip.mp4", bytes.Length);
        await Uploads.PutAsync(ticket, bytes);
        var id = Uploads.Id(ticket);
        await (await client.CompleteUploadAsync(id)).ReadJsonAsync(200);
        var link = (await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200)).GetProperty("download_url").GetString()!;

        AssertNoSignatures(host.ApiLogs, link, ticket.GetProperty("upload_url").GetString()!);
        Assert.Contains(host.ApiLogs.Lines, l => l.Contains($"/v1/assets/{id}", StringComparison.Ordinal)); // the requests were logged
    }

    [Fact]
    public async Task ABlobFetchByAWorkerLeavesNoSignatureInItsLog()
    {
        var client = (await host.RegisterAsync()).Client();
        var id = (await client.UploadAsync(await Uploads.ClipAsync(), "clip.mp4")).GetProperty("id").GetString();
        var link = (await (await client.GetAsync($"/v1/assets/{id}")).ReadJsonAsync(200)).GetProperty("download_url").GetString()!;

        var logs = new CapturedLogs();
        var settings = new Dictionary<string, string?>(host.Storage)
        {
            ["FENTA_DB"] = host.Db.ConnectionString,
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:System.Net.Http"] = "Trace",
        };
        using var worker = WorkerHost.Build([], settings, services => services.AddSingleton<ILoggerProvider>(logs));
        using (var fetched = await worker.Services.GetRequiredService<IHttpClientFactory>().CreateClient("KieClient").GetAsync(link))
            Assert.True(fetched.IsSuccessStatusCode);

        AssertNoSignatures(logs, link);
        AssertLoggedWithoutQuery(logs, link);
    }

    [Fact]
    public async Task AnInvitationTokenInTheRequestPathIsLoggedAsItsName()
    {
        var (admin, invitee) = (await host.RegisterVerifiedAsync(), await host.RegisterAsync());
        await host.VerifyEmailAsync(invitee);
        await (await admin.Client().PostAsJsonAsync("/v1/org/members", new { email = invitee.Email, role = "editor" })).ReadJsonAsync(202);
        var token = (await host.Mail.WaitForAsync(invitee.Email, "invited you")).Token;
        await (await invitee.Client().PostAsync($"/v1/invitations/{token}/accept", null)).ReadJsonAsync(200);
        await (await invitee.Client().PostAsync($"/v1/invitations/{token}/accept", null)).ReadProblemAsync(404, "NOT_FOUND"); // used
        Assert.Equal(404, (int)(await invitee.Client().GetAsync("/v1/no-such-route")).StatusCode); // no function: logged all the same

        // The answer's line is written once the response completes, just after the client has it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!host.ApiLogs.Lines.Any(l => l.Contains("GET /v1/no-such-route answered", StringComparison.Ordinal)) && DateTime.UtcNow < deadline)
            await Task.Delay(50);
        Assert.Contains(host.ApiLogs.Lines, l => l.Contains("POST /v1/invitations/{token}/accept answered 200", StringComparison.Ordinal));
        Assert.Contains(host.ApiLogs.Lines, l => l.Contains("POST /v1/invitations/{token}/accept answered 404", StringComparison.Ordinal));
        Assert.Contains(host.ApiLogs.Lines, l => l.Contains("GET /v1/no-such-route answered 404", StringComparison.Ordinal));
        Assert.DoesNotContain(host.ApiLogs.Lines, l => l.Contains(token, StringComparison.Ordinal));
    }

    /// <summary>
    /// The fetch was logged (so the check above looked at something), with its query cut: HttpClientFactory's loggers
    /// redact the whole query string since .NET 9, which is what keeps the signature out. Never set the
    /// System.Net.Http.DisableUriRedaction switch.
    /// </summary>
    private static void AssertLoggedWithoutQuery(CapturedLogs logs, string link)
    {
        var path = new Uri(link).GetLeftPart(UriPartial.Path);
        Assert.Contains(logs.Lines, l => l.Contains(path + "?*", StringComparison.Ordinal));
    }

    private static void AssertNoSignatures(CapturedLogs logs, params string[] links)
    {
        Assert.NotEmpty(logs.Lines);
        foreach (var line in logs.Lines) Assert.DoesNotMatch(Signature(), line);
        foreach (var link in links)
        {
            var signature = HttpUtility.ParseQueryString(new Uri(link).Query)["sig"]!;
            Assert.DoesNotContain(logs.Lines, l => l.Contains(signature, StringComparison.Ordinal) || l.Contains(Uri.EscapeDataString(signature), StringComparison.Ordinal));
        }
    }

    [GeneratedRegex("[?&]sig=", RegexOptions.IgnoreCase)]
    private static partial Regex Signature();
}

/// <summary>Every message a host logs (at the levels its configuration lets through), with its exception.</summary>
public sealed class CapturedLogs : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue($"{logLevel} {formatter(state, exception)} {exception}");

    public void Dispose() { }
}
