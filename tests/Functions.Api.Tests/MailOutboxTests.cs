using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Mails wait in the outbox (PostgreSQL) until they are sent: one that fails because the SMTP server is down goes out
/// on a later attempt, with a link that works; a link no longer wanted by then is never mailed. The API's SMTP port is a
/// relay the test opens only after the first attempts failed, forwarding to the run's MailDev.
/// </summary>
public class MailOutboxTests(MailOutboxTests.Host host) : IClassFixture<MailOutboxTests.Host>
{
    public sealed class Host : ApiHost
    {
        /// <summary>The API's SMTP port: closed until a test opens a relay on it.</summary>
        public int SmtpPort { get; } = LocalTools.FreePorts(1)[0];

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_SMTP_PORT"] = SmtpPort.ToString(),
        };
    }

    [Fact]
    public async Task MailsQueuedWhileTheSmtpServerIsDownAreSentWhenItIsBackWithWorkingLinks()
    {
        var owner = await host.RegisterAsync();
        // Only a verified address may invite, and its verification mail cannot arrive while SMTP is down: marked verified in
        // the database for the invitations, then unmarked, so the mailed link below still has something to prove.
        await host.ScalarAsync("UPDATE users SET email_verified_at = now() WHERE id = $1", owner.UserId);
        var invited = $"invited-{Guid.NewGuid():N}@example.test";
        var cancelled = $"cancelled-{Guid.NewGuid():N}@example.test";
        await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = invited, role = "editor" })).ReadJsonAsync(202);
        var toCancel = await (await owner.Client().PostAsJsonAsync("/v1/org/members", new { email = cancelled, role = "editor" })).ReadJsonAsync(202);
        await host.ScalarAsync("UPDATE users SET email_verified_at = NULL WHERE id = $1", owner.UserId);

        // Three mails (the owner's verification, two invitations) each failed once and wait for their retry.
        await Until(async () => await host.CountAsync("SELECT count(*) FROM mail_outbox WHERE attempts >= 1 AND last_error IS NOT NULL") == 3,
            "three failed first attempts");
        await (await owner.Client().DeleteAsync($"/v1/org/invitations/{toCancel.GetProperty("id").GetString()}")).ReadJsonAsync(204);
        Assert.Empty(await host.Mail.MailsToAsync(owner.Email));

        using var relay = SmtpRelay.Open(host.SmtpPort, host.Mail.SmtpPort);
        var verification = await host.Mail.WaitForAsync(owner.Email, "Confirm your email", within: TimeSpan.FromSeconds(60));
        var invitation = await host.Mail.WaitForAsync(invited, "invited you", within: TimeSpan.FromSeconds(60));
        await Until(async () => await host.CountAsync("SELECT count(*) FROM mail_outbox") == 0, "an empty outbox");

        Assert.Empty(await host.Mail.MailsToAsync(cancelled));
        Assert.Single(await host.Mail.MailsToAsync(owner.Email));
        await (await host.Client().PostAsJsonAsync("/v1/auth/verify-email", new { token = verification.Token })).ReadJsonAsync(200);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM users WHERE id = $1 AND email_verified_at IS NOT NULL", owner.UserId));
        Assert.StartsWith("inv_", invitation.Token);
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM org_invitations WHERE token_hash = $1", FentaWeb.Domain.Identity.ApiKey.Hash(invitation.Token)));
    }

    private static async Task Until(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {what} within 60 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Listens on a port and forwards each connection, one at a time, to a target port, until disposed.</summary>
    private sealed class SmtpRelay(TcpListener listener) : IDisposable
    {
        public static SmtpRelay Open(int port, int targetPort)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            _ = Task.Run(async () =>
            {
                while (true)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    using var target = new TcpClient();
                    await target.ConnectAsync(IPAddress.Loopback, targetPort);
                    await using NetworkStream from = client.GetStream(), to = target.GetStream();
                    await Task.WhenAny(from.CopyToAsync(to), to.CopyToAsync(from));
                }
            });
            return new SmtpRelay(listener);
        }

        public void Dispose() => listener.Stop();
    }
}
