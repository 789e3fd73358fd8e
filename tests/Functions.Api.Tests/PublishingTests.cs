using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FentaWeb.Simulators;
using FentaWeb.Runs.Publishing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Api.Tests;

/// <summary>
/// Publishing over HTTP against the real stack: the API, an orchestration worker and the renderer with the real node
/// activities, and the three platforms' simulators (strict to their documented protocols) as YouTube, TikTok and
/// Instagram. Connecting goes through each platform's consent redirect and the API's callback; the videos are real
/// renders, uploaded by the PublishRun orchestration.
/// </summary>
public class PublishingTests(PublishingTests.Host host) : IClassFixture<PublishingTests.Host>
{
    public sealed class Host : ApiHost
    {
        public YouTubeSimulator YouTube { get; } = new();
        public TikTokSimulator TikTok { get; } = new();
        public InstagramSimulator Instagram { get; } = new();
        public WebhookReceiver Webhooks { get; } = new();

        /// <summary>What the API and the worker log, HttpClient's request lines included, to look for tokens in.</summary>
        public CapturedLogs Logs { get; } = new();

        protected override bool RunsWorker => true;
        protected override bool RunsRenderer => true;
        protected override void ConfigureWorker(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);
        protected override void ConfigureApi(IServiceCollection services) => services.AddSingleton<ILoggerProvider>(Logs);

        protected override async Task BeforeStartAsync()
        {
            await YouTube.StartAsync();
            await TikTok.StartAsync();
            await Instagram.StartAsync();
            await Webhooks.StartAsync();
        }

        private Dictionary<string, string?> Platforms() => YouTube.Settings().Concat(TikTok.Settings()).Concat(Instagram.Settings())
            .ToDictionary(s => s.Key, s => (string?)s.Value);

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>(Platforms())
        {
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:System.Net.Http"] = "Trace",
        };

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>(Platforms())
        {
            ["Logging:LogLevel:FentaWeb"] = "Information",
            ["Logging:LogLevel:System.Net.Http"] = "Trace",
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
            // A quota that resets at Pacific midnight is looked at again every 2 s here.
            ["FENTA_PUBLISH_MAX_WAIT_SECONDS"] = "2",
            ["FENTA_WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = "true",
        };

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await YouTube.DisposeAsync();
            await TikTok.DisposeAsync();
            await Instagram.DisposeAsync();
            await Webhooks.DisposeAsync();
        }
    }

    [Fact]
    public async Task ConnectingTakesTheConsentWithPkceAndASingleUseStateAndAnswersNoToken()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();

        // Consent for state A, then its code sent back with state B: the API exchanges it with B's verifier, which the
        // platform refuses (PKCE): no account is connected.
        var first = await ConsentAsync(client, "youtube");
        var second = await ConsentAsync(client, "youtube");
        var swapped = await host.Client().GetAsync($"/v1/integrations/youtube/callback?code={Uri.EscapeDataString(first.Code)}&state={Uri.EscapeDataString(second.State)}");
        var refused = await swapped.ReadProblemAsync(409, "YOUTUBE_AUTHORIZATION_FAILED");
        Assert.Contains("verifier", refused.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty((await (await client.GetAsync("/v1/integrations")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());

        // A state once used is spent, whatever code comes with it.
        var reused = await host.Client().GetAsync($"/v1/integrations/youtube/callback?code={Uri.EscapeDataString(first.Code)}&state={Uri.EscapeDataString(second.State)}");
        Assert.Contains("state", (await reused.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());

        // The right pair connects the account; its answer carries who it is, never a token.
        var third = await ConsentAsync(client, "youtube");
        var connected = await host.Client().GetAsync($"/v1/integrations/youtube/callback?code={Uri.EscapeDataString(third.Code)}&state={Uri.EscapeDataString(third.State)}");
        var text = await connected.Content.ReadAsStringAsync();
        var integration = await connected.ReadJsonAsync(200);
        Assert.Equal(("youtube", "active"), (integration.GetProperty("platform").GetString(), integration.GetProperty("status").GetString()));
        Assert.Equal(host.YouTube.ChannelOf(YouTubeSimulator.DefaultAccount).Id, integration.GetProperty("account").GetProperty("id").GetString());
        Assert.DoesNotContain("token", text, StringComparison.OrdinalIgnoreCase);
        var listed = await (await client.GetAsync("/v1/integrations")).ReadJsonAsync(200);
        Assert.Equal(integration.GetProperty("id").GetString(), Assert.Single(listed.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());

        // At rest the tokens are one Data Protection payload (its magic header), not the platform's text.
        await using var cmd = host.Db.CreateCommand("SELECT credentials FROM integrations WHERE id = $1");
        cmd.Parameters.Add(new() { Value = integration.GetProperty("id").GetString() });
        var stored = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.StartsWith("CfDJ8", stored);
        Assert.DoesNotContain(third.Code, stored);

        // With return_to (the web app), the callback sends the browser back there saying what happened; only a path of this app is taken.
        var elsewhere = await client.PostAsJsonAsync("/v1/integrations/tiktok/connect", new { return_to = "https://evil.example/" });
        Assert.Contains("return_to", (await elsewhere.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        var web = await (await client.PostAsJsonAsync("/v1/integrations/tiktok/connect", new { return_to = "/settings/integrations" })).ReadJsonAsync(200);
        var (code, state) = await FollowConsentAsync(web.GetProperty("authorization_url").GetString()!);
        using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        var back = await noRedirects.GetAsync($"/v1/integrations/tiktok/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}");
        Assert.Equal(HttpStatusCode.Redirect, back.StatusCode);
        Assert.StartsWith("/settings/integrations?connected=tiktok&integration_id=int_", back.Headers.Location!.OriginalString);

        // Another org sees none of it.
        var stranger = (await host.RegisterAsync()).Client();
        Assert.Empty((await (await stranger.GetAsync("/v1/integrations")).ReadJsonAsync(200)).GetProperty("data").EnumerateArray());
        await DisconnectsAsync(stranger, integration.GetProperty("id").GetString()!, client);
        await (await stranger.GetAsync($"/v1/integrations/{integration.GetProperty("id").GetString()}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.DeleteAsync($"/v1/integrations/{integration.GetProperty("id").GetString()}")).ReadProblemAsync(404, "NOT_FOUND");
    }

    /// <summary>Another org's disconnect is a 404; the owner's revokes the grant at Google and erases the tokens.</summary>
    private async Task DisconnectsAsync(HttpClient stranger, string integrationId, HttpClient owner)
    {
        await (await stranger.DeleteAsync($"/v1/integrations/{integrationId}")).ReadProblemAsync(404, "NOT_FOUND");
        var revokes = host.YouTube.Requests.Count(r => r.Path.StartsWith("/revoke", StringComparison.Ordinal));
        var gone = await (await owner.DeleteAsync($"/v1/integrations/{integrationId}")).ReadJsonAsync(200);
        Assert.True(gone.GetProperty("revoked_at_platform").GetBoolean());
        Assert.Equal("revoked", gone.GetProperty("integration").GetProperty("status").GetString());
        Assert.Equal(revokes + 1, host.YouTube.Requests.Count(r => r.Path.StartsWith("/revoke", StringComparison.Ordinal)));
        await (await owner.GetAsync($"/v1/integrations/{integrationId}")).ReadProblemAsync(404, "NOT_FOUND");
        await using var cmd = host.Db.CreateCommand("SELECT credentials FROM integrations WHERE id = $1");
        cmd.Parameters.Add(new() { Value = integrationId });
        Assert.Equal("", (string)(await cmd.ExecuteScalarAsync())!);
    }

    [Fact]
    public async Task AWorkflowsPublishNodeAndThePublishEndpointPostTheVideoOnceToEachAccountAndItsCountersArrive()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var youtube = await ConnectAsync(client, "youtube");
        var tiktok = await ConnectAsync(client, "tiktok");
        var instagram = await ConnectAsync(client, "instagram");
        var youtubeBefore = host.YouTube.Videos.Count;

        // A workflow whose Output.Publish node posts its render to YouTube, titled by its script.
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph(new { integration_ids = new[] { youtube }, hashtags = new[] { "shorts" } }) })).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!, TimeSpan.FromMinutes(4));
        Assert.True(job.GetProperty("status").GetString() == "completed", job.ToString());
        var jobId = job.GetProperty("id").GetString()!;
        var node = job.GetProperty("nodes").EnumerateArray().Single(n => n.GetProperty("node_id").GetString() == "publish");
        var output = node.GetProperty("output");
        Assert.Equal("succeeded", output.GetProperty("status").GetString());
        var nodePublication = output.GetProperty("publication_id").GetString()!;
        var posted = Assert.Single(host.YouTube.Videos.Skip(youtubeBefore));
        Assert.Equal(("public", true, false), (posted.Privacy, posted.ContainsSyntheticMedia, posted.SelfDeclaredMadeForKids));
        Assert.Contains("shorts", posted.Tags);

        // Then the same video to TikTok (privately: the simulated app is unaudited) and Instagram, through the API, with the
        // org told by webhook.
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = host.Webhooks.Url(session.OrgId).ToString(), events = new[] { "publication.succeeded" } })).ReadJsonAsync(201);
        var tiktokBefore = host.TikTok.Videos.Count;
        var instagramBefore = host.Instagram.Videos.Count;
        var options = await (await client.GetAsync($"/v1/integrations/{tiktok}/options")).ReadJsonAsync(200);
        Assert.Equal(["SELF_ONLY"], options.GetProperty("privacy_options").EnumerateArray().Select(o => o.GetString()));
        Assert.False(string.IsNullOrEmpty(options.GetProperty("notice").GetString()));
        var publicOnTikTok = await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new
        {
            title = "Night buses", description = "The city at night", hashtags = new[] { "city", "night" },
            targets = new object[] { new { integration_id = tiktok, privacy = "public" } },
        });
        Assert.Contains("targets[0].privacy", (await publicOnTikTok.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());

        var accepted = await (await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new
        {
            title = "Night buses", description = "The city at night", hashtags = new[] { "city", "night" },
            targets = new object[] { new { integration_id = tiktok, privacy = "private" }, new { integration_id = instagram } },
        })).ReadJsonAsync(202);
        var publication = await PublicationEndedAsync(client, accepted.GetProperty("id").GetString()!);
        Assert.True(publication.GetProperty("status").GetString() == "succeeded", publication.ToString());
        Assert.All(publication.GetProperty("targets").EnumerateArray(), t =>
        {
            Assert.Equal("published", t.GetProperty("status").GetString());
            Assert.StartsWith("http://127.0.0.1:", t.GetProperty("url").GetString());
        });
        Assert.Equal(tiktokBefore + 1, host.TikTok.Videos.Count);
        var onTikTok = Assert.Single(host.TikTok.Videos.Values, v => v.Title?.Contains("Night buses") == true);
        Assert.Equal(("SELF_ONLY", true), (onTikTok.PrivacyLevel, onTikTok.IsAigc));
        var onInstagram = Assert.Single(host.Instagram.Videos.Skip(instagramBefore));
        Assert.Contains("#night", onInstagram.Caption);
        var told = await EventuallyAsync(() => Task.FromResult(host.Webhooks.Received.Where(r => r.Path.EndsWith(session.OrgId, StringComparison.Ordinal))
            .Select(r => JsonDocument.Parse(r.Body).RootElement.Clone()).Cast<JsonElement?>().FirstOrDefault()));
        Assert.Equal("publication.succeeded", told.GetProperty("type").GetString());
        Assert.Equal(accepted.GetProperty("id").GetString(), told.GetProperty("data").GetProperty("publication").GetProperty("id").GetString());
        Assert.Equal(2, told.GetProperty("data").GetProperty("publication").GetProperty("targets").GetArrayLength());

        // Once per account: asking again is refused, naming the account, and nothing is posted twice.
        var again = await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Again", targets = new object[] { new { integration_id = instagram } } });
        Assert.Contains("targets[0].integration_id", (await again.ReadProblemAsync(409, "ALREADY_PUBLISHED")).GetProperty("detail").GetString());
        Assert.Single(host.Instagram.Videos.Skip(instagramBefore));
        var listed = await (await client.GetAsync($"/v1/publications?job_id={jobId}")).ReadJsonAsync(200);
        Assert.Equal([accepted.GetProperty("id").GetString(), nodePublication], listed.GetProperty("data").EnumerateArray().Select(p => p.GetProperty("id").GetString()));

        // The statistics timer reads each video's counters; the analytics answer from them.
        var overview = await EventuallyAsync(async () =>
        {
            var o = await (await client.GetAsync("/v1/analytics/overview")).ReadJsonAsync(200);
            return o.GetProperty("totals").GetProperty("views").GetInt64() > 0 && o.GetProperty("videos").GetInt32() == 3 ? o : (JsonElement?)null;
        });
        Assert.Equal(3, overview.GetProperty("published_in_range").GetInt32());
        var platforms = await (await client.GetAsync("/v1/analytics/platforms")).ReadJsonAsync(200);
        Assert.Equal(["instagram", "tiktok", "youtube"], platforms.EnumerateArray().Select(p => p.GetProperty("platform").GetString()));
        var videos = await (await client.GetAsync("/v1/analytics/videos?platform=youtube")).ReadJsonAsync(200);
        Assert.Equal(posted.Id, Assert.Single(videos.EnumerateArray()).GetProperty("url").GetString()!.Split('/')[^1]);
        await (await client.GetAsync("/v1/analytics/overview?from=yesterday")).ReadProblemAsync(400, "VALIDATION_FAILED");

        // The platforms' tokens (read back from their protected form) are in no log line and no answer.
        using var keys = new ServiceCollection().AddTokenProtection(key => host.Storage.GetValueOrDefault(key)).BuildServiceProvider();
        var vault = keys.GetRequiredService<TokenVault>();
        var answers = (await (await client.GetAsync("/v1/integrations")).Content.ReadAsStringAsync()) + await (await client.GetAsync($"/v1/publications?job_id={jobId}")).Content.ReadAsStringAsync();
        foreach (var id in new[] { youtube, tiktok, instagram })
        {
            await using var read = host.Db.CreateCommand("SELECT credentials FROM integrations WHERE id = $1");
            read.Parameters.Add(new() { Value = id });
            var tokens = vault.Unprotect((string)(await read.ExecuteScalarAsync())!);
            foreach (var token in new[] { tokens.AccessToken, tokens.RefreshToken }.OfType<string>())
            {
                Assert.DoesNotContain(host.Logs.Lines, line => line.Contains(token, StringComparison.Ordinal));
                Assert.DoesNotContain(token, answers);
            }
        }
        Assert.Contains(host.Logs.Lines, line => line.Contains("/upload/youtube/v3/videos", StringComparison.Ordinal)); // the uploads were logged

        // Another org cannot see or cancel the publication.
        var stranger = (await host.RegisterAsync()).Client();
        await (await stranger.GetAsync($"/v1/publications/{nodePublication}")).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.PostAsync($"/v1/publications/{nodePublication}/cancel", null)).ReadProblemAsync(404, "NOT_FOUND");
        await (await stranger.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "x", targets = new object[] { new { integration_id = youtube } } })).ReadProblemAsync(404, "NOT_FOUND");
        // Nor name this org's account in a workflow of its own.
        var foreignGraph = await stranger.PostAsJsonAsync("/v1/jobs", new { graph = Graph(new { integration_ids = new[] { youtube } }) });
        Assert.Contains("graph.nodes[6].params.integration_ids[0]", (await foreignGraph.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
    }

    [Fact]
    public async Task ASpentQuotaWaitsARevokedGrantAsksToReconnectAndASpentPublishingLimitIsRefused()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var youtube = await ConnectAsync(client, "youtube");
        var tiktok = await ConnectAsync(client, "tiktok");
        var instagram = await ConnectAsync(client, "instagram");
        var job = await client.JobEndedAsync((await (await client.PostAsJsonAsync("/v1/jobs", new { graph = Graph(null) })).ReadJsonAsync(202)).GetProperty("id").GetString()!,
            TimeSpan.FromMinutes(4));
        var jobId = job.GetProperty("id").GetString()!;

        // YouTube's daily uploads are spent: the target waits (retry_later, until the quota resets), it does not fail.
        var before = host.YouTube.Videos.Count;
        host.YouTube.DailyUploadQuota = host.YouTube.UploadsToday;
        try
        {
            var accepted = await (await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Waits", targets = new object[] { new { integration_id = youtube } } })).ReadJsonAsync(202);
            var id = accepted.GetProperty("id").GetString()!;
            JsonElement last = default;
            var waiting = await EventuallyAsync(async () =>
            {
                var p = last = await (await client.GetAsync($"/v1/publications/{id}")).ReadJsonAsync(200);
                return p.GetProperty("targets")[0].GetProperty("status").GetString() == "retry_later" ? p : (JsonElement?)null;
            }, describe: () => last.ToString() + DebugRuns(id, last.GetProperty("targets")[0].GetProperty("id").GetString()!));
            var target = waiting.GetProperty("targets")[0];
            Assert.Equal("YOUTUBE_QUOTA_EXCEEDED", target.GetProperty("error").GetProperty("code").GetString());
            Assert.True(target.GetProperty("next_attempt_at").GetDateTimeOffset() > DateTimeOffset.UtcNow);
            Assert.Equal("publishing", waiting.GetProperty("status").GetString());
            Assert.Equal(before, host.YouTube.Videos.Count);

            // Cancelled while it waits; asked for again, it carries on and posts once the quota is back.
            var cancelled = await (await client.PostAsync($"/v1/publications/{id}/cancel", null)).ReadJsonAsync(202);
            Assert.Equal(("cancelled", "cancelled"), (cancelled.GetProperty("status").GetString(), cancelled.GetProperty("targets")[0].GetProperty("status").GetString()));
            Assert.Equal("cancelled", (await (await client.PostAsync($"/v1/publications/{id}/cancel", null)).ReadJsonAsync(202)).GetProperty("status").GetString());
            host.YouTube.DailyUploadQuota = 100;
            var again = await (await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Waits", targets = new object[] { new { integration_id = youtube } } })).ReadJsonAsync(202);
            var done = await PublicationEndedAsync(client, again.GetProperty("id").GetString()!);
            Assert.Equal("succeeded", done.GetProperty("status").GetString());
            Assert.Equal(before + 1, host.YouTube.Videos.Count);
            await (await client.PostAsync($"/v1/publications/{done.GetProperty("id").GetString()}/cancel", null)).ReadProblemAsync(409, "PUBLICATION_FINISHED");
        }
        finally
        {
            host.YouTube.DailyUploadQuota = 100;
        }

        // A video longer than the account may post is refused before anything is filed, naming the target.
        host.TikTok.MaxVideoPostDurationSec = 3;
        try
        {
            var tooLong = await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Long", targets = new object[] { new { integration_id = tiktok, privacy = "private" } } });
            Assert.Contains("targets[0]", (await tooLong.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        }
        finally
        {
            host.TikTok.MaxVideoPostDurationSec = 600;
        }

        // A token about to lapse is refreshed once, under the row's lock, however many calls need it at once: TikTok rotates
        // its refresh tokens, so a second refresh with the spent one would lose the grant.
        await using (var expire = host.Db.CreateCommand("UPDATE integrations SET expires_at = now() WHERE id = $1"))
        {
            expire.Parameters.Add(new() { Value = tiktok });
            await expire.ExecuteNonQueryAsync();
        }
        await Task.WhenAll(Enumerable.Range(0, 5).Select(async _ => await (await client.GetAsync($"/v1/integrations/{tiktok}/options")).ReadJsonAsync(200)));
        var refreshed = await (await client.GetAsync($"/v1/integrations/{tiktok}")).ReadJsonAsync(200);
        Assert.Equal("active", refreshed.GetProperty("status").GetString());
        Assert.True(refreshed.GetProperty("expires_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(30));

        // Instagram has no refresh token: its 60-day token is refreshed in its last week, when next used.
        host.Instagram.MinRefreshAge = TimeSpan.Zero;
        await using (var lastWeek = host.Db.CreateCommand("UPDATE integrations SET expires_at = now() + interval '3 days' WHERE id = $1"))
        {
            lastWeek.Parameters.Add(new() { Value = instagram });
            await lastWeek.ExecuteNonQueryAsync();
        }
        await (await client.GetAsync($"/v1/integrations/{instagram}/options")).ReadJsonAsync(200);
        Assert.True((await (await client.GetAsync($"/v1/integrations/{instagram}")).ReadJsonAsync(200)).GetProperty("expires_at").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddDays(50));

        // Instagram's 24-hour publishing limit is spent: refused clearly, nothing posted.
        var instagramBefore = host.Instagram.Videos.Count;
        host.Instagram.RecordPublishes(host.Instagram.PublishingQuotaTotal, DateTimeOffset.UtcNow);
        var limited = await (await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Limited", targets = new object[] { new { integration_id = instagram } } })).ReadJsonAsync(202);
        var refused = await PublicationEndedAsync(client, limited.GetProperty("id").GetString()!);
        Assert.Equal("failed", refused.GetProperty("status").GetString());
        Assert.Equal("INSTAGRAM_PUBLISHING_LIMIT", refused.GetProperty("targets")[0].GetProperty("error").GetProperty("code").GetString());
        Assert.Equal(instagramBefore, host.Instagram.Videos.Count);

        // The person revoked FentaWeb at TikTok: the account is marked reconnect_required, with the reason, and publishing says so.
        host.TikTok.RevokeAllGrants();
        var revoked = await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Revoked", targets = new object[] { new { integration_id = tiktok, privacy = "private" } } });
        await revoked.ReadProblemAsync(409, "RECONNECT_REQUIRED");
        var account = await (await client.GetAsync($"/v1/integrations/{tiktok}")).ReadJsonAsync(200);
        Assert.Equal("reconnect_required", account.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(account.GetProperty("status_reason").GetString()));
        var stillRefused = await client.PostAsJsonAsync($"/v1/jobs/{jobId}/publish", new { title = "Revoked", targets = new object[] { new { integration_id = tiktok } } });
        Assert.Contains("targets[0].integration_id", (await stillRefused.ReadProblemAsync(400, "VALIDATION_FAILED")).Fields());
        // Connecting again renews the same account.
        Assert.Equal(tiktok, await ConnectAsync(client, "tiktok"));
        Assert.Equal("active", (await (await client.GetAsync($"/v1/integrations/{tiktok}")).ReadJsonAsync(200)).GetProperty("status").GetString());

        // A publication the API filed but never started (its process stopped in between) is started by the statistics timer.
        await using var video = host.Db.CreateCommand("SELECT asset_id FROM publications WHERE job_id = $1 LIMIT 1");
        video.Parameters.Add(new() { Value = jobId });
        var lost = await PublicationStore.FileAsync(host.Db, session.OrgId, session.UserId, jobId, null, (string)(await video.ExecuteScalarAsync())!,
            [new TargetRequest(tiktok, new FentaWeb.Integrations.Publishing.PublishRequest("Lost", "", [], "SELF_ONLY", null, true, false, null))], CancellationToken.None);
        await using (var backdate = host.Db.CreateCommand("UPDATE publications SET created_at = now() - interval '2 minutes' WHERE id = $1"))
        {
            backdate.Parameters.Add(new() { Value = lost });
            await backdate.ExecuteNonQueryAsync();
        }
        Assert.Equal("succeeded", (await PublicationEndedAsync(client, lost)).GetProperty("status").GetString());

        // Retention forgets the job; what was published, and its analytics, stay.
        await using (var forget = host.Db.CreateCommand("DELETE FROM jobs WHERE id = $1"))
        {
            forget.Parameters.Add(new() { Value = jobId });
            await forget.ExecuteNonQueryAsync();
        }
        var kept = await (await client.GetAsync($"/v1/publications/{lost}")).ReadJsonAsync(200);
        Assert.Equal((JsonValueKind.Null, "published"), (kept.GetProperty("job_id").ValueKind, kept.GetProperty("targets")[0].GetProperty("status").GetString()));
        Assert.Contains((await (await client.GetAsync("/v1/analytics/videos")).ReadJsonAsync(200)).EnumerateArray(),
            v => v.GetProperty("publication_id").GetString() == lost && v.GetProperty("job_id").ValueKind == JsonValueKind.Null);
    }

    /// <summary>A short render (6 s, 720p draft) with, when given, an Output.Publish node of these params fed by the render and the script.</summary>
    private static object Graph(object? publish)
    {
        var nodes = new List<object>
        {
            new { id = "sources_0", type = "Input.Stock", @params = new { provider = "local", query = "city night", count = 3 } },
            new { id = "script", type = "Script.Generate", @params = new { prompt = "night buses start running in the city", genre = "news", duration_seconds = 6 } },
            new { id = "tts", type = "Voice.TTS", @params = new { provider = "espeak", speed = 1.1 } },
            new { id = "subtitles", type = "Subtitle.Auto", @params = new { style = "clean_box" } },
            new { id = "timeline", type = "Edit.Timeline", @params = new { template_id = "tmpl_shorts_v1" } },
            new { id = "render", type = "Output.Render", @params = new { profile = "9x16_720p", quality = "draft" } },
        };
        var edges = new List<object>
        {
            new { from = "sources_0", to = "timeline" }, new { from = "script", to = "tts" }, new { from = "tts", to = "subtitles" },
            new { from = "subtitles", to = "timeline" }, new { from = "timeline", to = "render" },
        };
        if (publish is not null)
        {
            nodes.Add(new { id = "publish", type = "Output.Publish", @params = publish });
            edges.Add(new { from = "render", to = "publish", toPort = "video" });
            edges.Add(new { from = "script", to = "publish", toPort = "script" });
        }
        return new { nodes, edges };
    }

    /// <summary>Connects the platform's simulated account to the caller's org; returns the integration's id.</summary>
    private async Task<string> ConnectAsync(HttpClient client, string platform)
    {
        var (code, state) = await ConsentAsync(client, platform);
        var connected = await host.Client().GetAsync($"/v1/integrations/{platform}/callback?code={Uri.EscapeDataString(code)}&state={Uri.EscapeDataString(state)}");
        return (await connected.ReadJsonAsync(200)).GetProperty("id").GetString()!;
    }

    /// <summary>Starts connecting and goes through the platform's consent page; returns the code and state it sent back.</summary>
    private async Task<(string Code, string State)> ConsentAsync(HttpClient client, string platform)
    {
        var connect = await (await client.PostAsJsonAsync($"/v1/integrations/{platform}/connect", new { })).ReadJsonAsync(200);
        var url = connect.GetProperty("authorization_url").GetString()!;
        Assert.DoesNotContain(' ', url); // escaped as the platform expects it, ready for a browser or curl
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(url).Query);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.Equal(43, query["code_challenge"]!.Length);
        return await FollowConsentAsync(url);
    }

    /// <summary>The consent page approves at once and redirects to the API's callback (at FENTA_PUBLIC_URL) with a code and the state.</summary>
    private static async Task<(string Code, string State)> FollowConsentAsync(string authorizationUrl)
    {
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var consent = await browser.GetAsync(authorizationUrl);
        Assert.Equal(HttpStatusCode.Redirect, consent.StatusCode);
        var back = consent.Headers.Location!;
        Assert.StartsWith(ApiHost.PublicUrl + "v1/integrations/", back.AbsoluteUri);
        var query = System.Web.HttpUtility.ParseQueryString(back.Query);
        return (query["code"]!, query["state"]!);
    }

    private string DebugRuns(string id, string target)
    {
        var run = host.Runs.GetInstanceAsync(id, true).GetAwaiter().GetResult();
        var child = host.Runs.GetInstanceAsync($"{id}:{target}", true).GetAwaiter().GetResult();
        using var cmd = host.Db.CreateCommand($"SELECT claimed_by, claimed_until, checkpoint, attempts, status, now() FROM publication_targets WHERE id = '{target}'");
        using var r = cmd.ExecuteReader();
        r.Read();
        var row = $"{r.GetValue(0)} {r.GetValue(1)} {r.GetValue(2)} {r.GetValue(3)} {r.GetValue(4)} {r.GetValue(5)}";
        return $"\nrow: {row}\nyoutube requests: {string.Join(" | ", host.YouTube.Requests.TakeLast(5).Select(q => q.Method + " " + q.Path))}\nrun: {run?.RuntimeStatus} {run?.FailureDetails?.ErrorMessage} {run?.SerializedOutput}\nchild: {child?.RuntimeStatus} {child?.FailureDetails?.ErrorMessage} {child?.SerializedCustomStatus}";
    }

    private static Task<JsonElement> PublicationEndedAsync(HttpClient client, string id) => EventuallyAsync(async () =>
    {
        var p = await (await client.GetAsync($"/v1/publications/{id}")).ReadJsonAsync(200);
        return p.GetProperty("status").GetString() is "succeeded" or "failed" or "partially_failed" or "cancelled" ? p : (JsonElement?)null;
    });

    private static async Task<JsonElement> EventuallyAsync(Func<Task<JsonElement?>> probe, int seconds = 90, Func<string>? describe = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            if (await probe() is { } found) return found;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not reached in {seconds} s; last seen: {describe?.Invoke()}");
            await Task.Delay(250);
        }
    }
}

/// <summary>A deployment without a platform's credentials: it says which setting is missing, and fails nothing else.</summary>
public class UnconfiguredPublishingTests(ApiHost host) : IClassFixture<ApiHost>
{
    [Fact]
    public async Task AnUnconfiguredPlatformIsA409NamingItsSetting()
    {
        var client = (await host.RegisterAsync()).Client();
        var platforms = await (await client.GetAsync("/v1/integrations/platforms")).ReadJsonAsync(200);
        Assert.Equal(["youtube", "tiktok", "instagram"], platforms.EnumerateArray().Select(p => p.GetProperty("platform").GetString()));
        Assert.All(platforms.EnumerateArray(), p => Assert.False(p.GetProperty("configured").GetBoolean()));
        var refused = await (await client.PostAsJsonAsync("/v1/integrations/youtube/connect", new { })).ReadProblemAsync(409, "PLATFORM_NOT_CONFIGURED");
        Assert.Contains("FENTA_YOUTUBE_CLIENT_ID", refused.GetProperty("detail").GetString());
        await (await client.PostAsJsonAsync("/v1/integrations/myspace/connect", new { })).ReadProblemAsync(400, "VALIDATION_FAILED");
    }
}
