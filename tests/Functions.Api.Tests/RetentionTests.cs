using System.Diagnostics;
using System.Net.Http.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Blob;
using FentaWeb.Testing;

namespace FentaWeb.Api.Tests;

/// <summary>
/// The hourly "Retention" timer function over HTTP, with the orchestration host's clock moved forward: finished jobs,
/// their history, finished deliveries and finished orchestration instances go after FENTA_JOB_RETENTION_DAYS (30);
/// usage records stay. Direct uploads left unfinished for a day go with their staged files.
/// </summary>
public class RetentionTests(RetentionTests.Host host) : IClassFixture<RetentionTests.Host>
{
    public sealed class Host : FakeClockHost;

    private static readonly object Graph = new
    {
        nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "scenes=1" } } },
        edges = Array.Empty<object>(),
    };

    private async Task<string> CompletedJobAsync(HttpClient client)
    {
        var id = (await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph })).ReadJsonAsync(202)).GetProperty("id").GetString()!;
        await UntilAsync(async () => (await (await client.GetAsync($"/v1/jobs/{id}")).ReadJsonAsync(200)).GetProperty("status").GetString() == "completed");
        return id;
    }

    private static async Task UntilAsync(Func<Task<bool>> condition)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("the condition never held");
            await Task.Delay(100);
        }
    }

    private async Task<bool> GoneAsync(HttpClient client, string jobId) => (await client.GetAsync($"/v1/jobs/{jobId}")).StatusCode == System.Net.HttpStatusCode.NotFound;

    [Fact]
    public async Task FinishedWorkPastTheRetentionIsRemovedWithItsInstancesAndUsageRecordsStay()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var old = await CompletedJobAsync(client);
        var recent = await CompletedJobAsync(client);
        // "old" finished 40 days ago as far as PostgreSQL knows; its orchestration instance is as new as the other's.
        await host.ScalarAsync("UPDATE jobs SET completed_at = now() - interval '40 days' WHERE id = $1", old);
        await host.ScalarAsync("INSERT INTO usage_records (id, org_id, job_id, resource_type, llm_tokens_prompt, cost_usd) VALUES ('use_old', $1, $2, 'llm_tokens', 10, 0.01)",
            session.OrgId, old);
        // An endpoint that is off, so its pending delivery stays pending.
        await host.ScalarAsync("INSERT INTO webhooks (id, org_id, url, events, secret, enabled) VALUES ('hook_kept', $1, 'https://example.com/h', '{*}', 'whsec_x', false)",
            session.OrgId);
        await host.ScalarAsync("""
            INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event, payload, status, created_at) VALUES
              ('whd_old', 'hook_kept', $1, 'evt_1', 'job.completed', '{}', 'success', now() - interval '40 days'),
              ('whd_old_pending', 'hook_kept', $1, 'evt_2', 'job.completed', '{}', 'pending', now() - interval '40 days'),
              ('whd_new', 'hook_kept', $1, 'evt_3', 'job.completed', '{}', 'failed', now())
            """, session.OrgId);
        // A direct upload put in but never completed.
        var bytes = await Uploads.ClipAsync();
        var abandoned = await client.InitUploadAsync("clip.mp4", bytes.Length);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await Uploads.PutAsync(abandoned, bytes)).StatusCode);
        var staged = AssetBlobs.StagingPrefix + (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", Uploads.Id(abandoned)))!;

        // Staging blobs that belong to no pending upload: what a completed upload leaves at its staging name, and a file
        // with no asset at all.
        var done = await client.InitUploadAsync("done.mp4", bytes.Length);
        Assert.Equal(System.Net.HttpStatusCode.Created, (await Uploads.PutAsync(done, bytes)).StatusCode);
        await (await client.CompleteUploadAsync(Uploads.Id(done))).ReadJsonAsync(200);
        var spent = AssetBlobs.StagingPrefix + (string)(await host.ScalarAsync("SELECT storage_key FROM assets WHERE id = $1", Uploads.Id(done)))!;
        var orphan = $"{AssetBlobs.StagingPrefix}{session.OrgId}/asset_orphan.mp4";
        await StoredAssets.WriteAsync(host.Storage, orphan, bytes);
        Assert.True(await StoredAssets.ExistsAsync(host.Storage, spent));

        // An hour on, past the upload links' lifetime (15 min): those go, while the pending upload's file stays for a day.
        host.Clock.Advance(TimeSpan.FromHours(1));
        await UntilAsync(async () => !await StoredAssets.ExistsAsync(host.Storage, orphan) && !await StoredAssets.ExistsAsync(host.Storage, spent));
        Assert.True(await StoredAssets.ExistsAsync(host.Storage, staged));
        Assert.Equal(200, (int)(await client.GetAsync($"/v1/assets/{Uploads.Id(done)}")).StatusCode);

        // 29 days on: only what PostgreSQL says finished more than 30 days ago goes; both instances are younger than that.
        host.Clock.Advance(TimeSpan.FromDays(29));
        await UntilAsync(() => GoneAsync(client, old));
        Assert.Equal(200, (int)(await client.GetAsync($"/v1/jobs/{recent}")).StatusCode);
        Assert.Equal(["whd_new", "whd_old_pending"], await host.StringsAsync("SELECT id FROM webhook_deliveries WHERE webhook_id = 'hook_kept' ORDER BY id"));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM node_runs WHERE job_id = $1", old));
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM job_logs WHERE job_id = $1", old));
        Assert.NotNull(await host.Runs.GetInstanceAsync(old));
        Assert.NotNull(await host.Runs.GetInstanceAsync(recent));
        // An upload left unfinished for a day is given up: its staged file goes, and its declared size no longer counts.
        await UntilAsync(async () => !await StoredAssets.ExistsAsync(host.Storage, staged));
        await (await client.GetAsync($"/v1/assets/{Uploads.Id(abandoned)}")).ReadProblemAsync(404, "NOT_FOUND");
        // Mail leaves nothing behind either: the registration's verification link (24 h) and the hour's send count go.
        await UntilAsync(async () => await host.CountAsync("SELECT count(*) FROM email_tokens WHERE user_id = $1", session.UserId) == 0 &&
                                     await host.CountAsync("SELECT count(*) FROM mail_send_windows WHERE address = $1", session.Email) == 0);

        // Two more days: the recent job is past the retention too, and both runs' instances leave the task hub.
        host.Clock.Advance(TimeSpan.FromDays(2));
        await UntilAsync(async () => await GoneAsync(client, recent) && await host.Runs.GetInstanceAsync(recent) is null);
        Assert.Null(await host.Runs.GetInstanceAsync(old));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM usage_records WHERE id = 'use_old' AND job_id IS NULL"));
    }
}
