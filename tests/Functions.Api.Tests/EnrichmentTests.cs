using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Scripts;
using FentaWeb.Simulators;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.Api.Tests;

/// <summary>What every enrichment answer must obey, whoever wrote it (seed 003's platforms' limits).</summary>
internal static class EnrichmentAssertions
{
    public static JsonElement Item(JsonElement answer, string platform) =>
        answer.GetProperty("items").EnumerateArray().Single(i => i.GetProperty("platform").GetString() == platform);

    public static List<string> Tags(JsonElement item) => [.. item.GetProperty("hashtags").EnumerateArray().Select(t => t.GetString()!)];

    public static void ObeysThePlatformRules(JsonElement answer)
    {
        foreach (var item in answer.GetProperty("items").EnumerateArray())
        {
            var title = item.GetProperty("title").GetString()!;
            var description = item.GetProperty("description").GetString()!;
            var tags = Tags(item);
            Assert.NotEmpty(title);
            Assert.All(tags, t => Assert.Matches(@"^[\p{Ll}\p{Lo}\p{N}_]+$", t));
            Assert.Equal(tags.Count, tags.Distinct().Count());
            switch (item.GetProperty("platform").GetString())
            {
                case "youtube":
                    Assert.InRange(title.Length, 1, 100);
                    Assert.DoesNotContain('<', title + description);
                    Assert.DoesNotContain('>', title + description);
                    Assert.InRange(Encoding.UTF8.GetByteCount(description), 1, 5000);
                    Assert.InRange(tags.Sum(t => t.Length) + Math.Max(0, tags.Count - 1), 0, 500);
                    break;
                case "tiktok":
                    // The caption is the post's only text: the title, ending with the hashtags.
                    Assert.InRange(title.Length, 1, 2200);
                    Assert.EndsWith(string.Join(" ", tags.Select(t => "#" + t)), title);
                    Assert.StartsWith(description, title);
                    break;
                case "instagram":
                    Assert.InRange(description.Length, 1, 2200);
                    Assert.InRange(tags.Count, 0, 30);
                    Assert.EndsWith(string.Join(" ", tags.Select(t => "#" + t)), description);
                    break;
                default:
                    Assert.Fail($"unexpected platform in {item}");
                    break;
            }
        }
    }
}

/// <summary>
/// Enrichment offline (no LLM configured) over HTTP, on jobs the real Script.Generate activity completed (the offline
/// script writer): the extractive writer's answer obeys each platform's rules, the monthly allowance holds under
/// concurrent requests, and the request is refused as documented.
/// </summary>
public class EnrichmentTests(EnrichmentTests.Host host) : IClassFixture<EnrichmentTests.Host>
{
    public sealed class Host : ApiHost
    {
        protected override bool RunsWorker => true;
        // The real node activities: Script.Generate with the offline writer.
        protected override void ConfigureWorker(IServiceCollection services) { }

        protected override IReadOnlyDictionary<string, string?> WorkerSettings => new Dictionary<string, string?>
        {
            ["FENTA_STOCK_DIR"] = Path.Combine(LocalFolder, "stock-library"),
            ["FENTA_STOCK_CLIPS"] = "6",
        };
    }

    private const string Topic = "night buses start running every ten minutes in the old town";

    /// <summary>A job of one Script.Generate node, run to completion by the worker.</summary>
    private static async Task<string> CompletedJobAsync(HttpClient client)
    {
        var graph = new
        {
            nodes = new object[] { new { id = "script", type = "Script.Generate", @params = new { prompt = Topic, genre = "news", duration_seconds = 30 } } },
            edges = Array.Empty<object>(),
        };
        var started = await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202);
        var job = await client.JobEndedAsync(started.GetProperty("id").GetString()!, TimeSpan.FromSeconds(60));
        Assert.Equal("completed", job.GetProperty("status").GetString());
        return job.GetProperty("id").GetString()!;
    }

    private static Task<HttpResponseMessage> GenerateAsync(HttpClient client, object body) => client.PostAsJsonAsync("/v1/enrichment/generate", body);

    [Fact]
    public async Task OfflineTheScriptBecomesATitleDescriptionAndHashtagsPerPlatformWithinEachPlatformsRules()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var jobId = await CompletedJobAsync(client);
        var script = JsonDocument.Parse((await host.StringsAsync(
            "SELECT output::text FROM node_runs WHERE job_id = $1 AND node_id = 'script'", jobId)).Single()).RootElement;
        var narration = string.Join(" ", script.GetProperty("scenes").EnumerateArray().Select(s => s.GetProperty("narration").GetString()));

        var answer = await (await GenerateAsync(client, new { job_id = jobId })).ReadJsonAsync(200);

        Assert.Equal(jobId, answer.GetProperty("job_id").GetString());
        Assert.Equal("offline", answer.GetProperty("model").GetString());
        Assert.Equal(["youtube", "tiktok", "instagram"], answer.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("platform").GetString()));
        EnrichmentAssertions.ObeysThePlatformRules(answer);
        var youtube = EnrichmentAssertions.Item(answer, "youtube");
        // Extractive: the script's own title, its opening sentences, its words as hashtags (the topic's among the first).
        Assert.Equal(script.GetProperty("title").GetString(), youtube.GetProperty("title").GetString());
        var firstSentence = Sentences.Split(narration)[0];
        Assert.StartsWith(firstSentence, youtube.GetProperty("description").GetString());
        Assert.StartsWith(firstSentence, EnrichmentAssertions.Item(answer, "tiktok").GetProperty("title").GetString());
        var instagramTags = EnrichmentAssertions.Tags(EnrichmentAssertions.Item(answer, "instagram"));
        Assert.Equal(5, instagramTags.Count);
        Assert.Contains(instagramTags, t => Topic.Contains(t, StringComparison.Ordinal) || narration.Contains(t, StringComparison.OrdinalIgnoreCase));
        var youtubeTags = EnrichmentAssertions.Tags(youtube);
        Assert.Equal(script.GetProperty("hashtags").EnumerateArray().Select(t => t.GetString()!.TrimStart('#').ToLowerInvariant()),
            youtubeTags.Take(script.GetProperty("hashtags").GetArrayLength()));
        Assert.Contains(youtubeTags, t => Topic.Split(' ').Contains(t));

        // Deterministic: the same job gives the same text; each generation counts.
        var again = await (await GenerateAsync(client, new { job_id = jobId, platforms = new[] { "instagram" } })).ReadJsonAsync(200);
        Assert.Equal(EnrichmentAssertions.Item(answer, "instagram").GetRawText(), again.GetProperty("items").EnumerateArray().Single().GetRawText());
        var usage = again.GetProperty("usage");
        Assert.Equal((2, 10, 8), (usage.GetProperty("used").GetInt32(), usage.GetProperty("limit").GetInt32(), usage.GetProperty("remaining").GetInt32()));
        var monthStart = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(monthStart.AddMonths(1), usage.GetProperty("resets_at").GetDateTimeOffset());
        // Offline, no tokens are recorded.
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1 AND node_id = 'enrichment'", jobId));
    }

    [Fact]
    public async Task TheFreePlansTenEnrichmentsAMonthHoldUnderConcurrentRequestsAndTheQuotaShowsThem()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var jobId = await CompletedJobAsync(client);
        var fresh = await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200);
        var line = fresh.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "enrichments");
        Assert.Equal((10m, 0m, 10m), (line.GetProperty("limit").GetDecimal(), line.GetProperty("used").GetDecimal(), line.GetProperty("remaining").GetDecimal()));

        // Last month's do not count.
        await host.ScalarAsync("INSERT INTO enrichments (id, org_id, job_id, created_at, completed_at) VALUES ('enr_old', $1, $2, now() - interval '40 days', now() - interval '40 days')",
            session.OrgId, jobId);
        for (var i = 0; i < 4; i++) await (await GenerateAsync(client, new { job_id = jobId, platforms = new[] { "tiktok" } })).ReadJsonAsync(200);

        // Twelve at once for the last six: exactly six pass.
        var racing = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => GenerateAsync(client, new { job_id = jobId, platforms = new[] { "youtube" } })));
        Assert.Equal(6, racing.Count(r => (int)r.StatusCode == 200));
        var refused = racing.Where(r => (int)r.StatusCode != 200).ToList();
        Assert.Equal(6, refused.Count);
        foreach (var response in refused)
        {
            var problem = await response.ReadProblemAsync(402, "QUOTA_EXCEEDED");
            Assert.Equal("enrichments", problem.GetProperty("resource").GetString());
            Assert.Equal(10m, problem.GetProperty("limit").GetDecimal());
        }
        var eleventh = await (await GenerateAsync(client, new { job_id = jobId })).ReadProblemAsync(402, "QUOTA_EXCEEDED");
        var monthStart = new DateTimeOffset(DateTime.UtcNow.Year, DateTime.UtcNow.Month, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(monthStart.AddMonths(1), eleventh.GetProperty("resets_at").GetDateTimeOffset());
        Assert.Equal(11, await host.CountAsync("SELECT count(*) FROM enrichments WHERE org_id = $1", session.OrgId));

        var spent = await (await client.GetAsync("/v1/usage/quota")).ReadJsonAsync(200);
        line = spent.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("resource").GetString() == "enrichments");
        Assert.Equal((10m, 10m, 0m), (line.GetProperty("limit").GetDecimal(), line.GetProperty("used").GetDecimal(), line.GetProperty("remaining").GetDecimal()));
        // Enrichments are not jobs' work: a free org that used them up still starts jobs.
        await CompletedJobAsync(client);

        // A paid plan has more.
        await host.ScalarAsync("UPDATE orgs SET plan = 'starter' WHERE id = $1", session.OrgId);
        var paid = await (await GenerateAsync(client, new { job_id = jobId, platforms = new[] { "tiktok" } })).ReadJsonAsync(200);
        Assert.Equal((11, 100, 89), (paid.GetProperty("usage").GetProperty("used").GetInt32(), paid.GetProperty("usage").GetProperty("limit").GetInt32(),
            paid.GetProperty("usage").GetProperty("remaining").GetInt32()));
    }

    [Fact]
    public async Task AnotherOrgsJobIsNotFoundAndNothingIsCounted()
    {
        var owner = await host.RegisterAsync();
        var jobId = await CompletedJobAsync(owner.Client());
        var stranger = await host.RegisterAsync();

        await (await GenerateAsync(stranger.Client(), new { job_id = jobId })).ReadProblemAsync(404, "NOT_FOUND");
        await (await GenerateAsync(stranger.Client(), new { job_id = "job_missing" })).ReadProblemAsync(404, "NOT_FOUND");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM enrichments WHERE job_id = $1 OR org_id = $2", jobId, stranger.OrgId));
    }

    [Fact]
    public async Task ABadRequestIsRefusedNamingEachFieldAndAKeyNeedsTheJobsExecuteScope()
    {
        var session = await host.RegisterVerifiedAsync();
        var client = session.Client();

        var problem = await (await GenerateAsync(client, new { job_id = "job_x", platforms = new[] { "youtube", "myspace", "TikTok" } }))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["platforms[1]"], problem.Fields());
        problem = await (await GenerateAsync(client, new { platforms = Array.Empty<string>(), instructions = new string('x', 501), language = "not a language" }))
            .ReadProblemAsync(400, "VALIDATION_FAILED");
        Assert.Equal(["instructions", "job_id", "language", "platforms"], problem.Fields().Order());
        await (await GenerateAsync(client, new { job_id = "job_x", tone = "fun" })).ReadProblemAsync(400, "VALIDATION_FAILED");

        var (readOnly, _) = await session.CreateKeyAsync("workflows:read");
        await (await GenerateAsync(host.Client(readOnly), new { job_id = "job_x" })).ReadProblemAsync(403, "FORBIDDEN");
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM enrichments WHERE org_id = $1", session.OrgId));
    }
}

/// <summary>
/// Enrichment with the chat LLM configured (the OpenAI simulator): the job's script, transcript and names go to the
/// model, its answer comes back trimmed to each platform's rules, and its tokens are recorded as the org's usage.
/// These jobs are stored as a finished run leaves them (no worker runs here, so a job started through the API stays queued).
/// </summary>
public class EnrichmentLlmTests(EnrichmentLlmTests.Host host) : IClassFixture<EnrichmentLlmTests.Host>
{
    public sealed class Host : ApiHost
    {
        public OpenAiSimulator Llm { get; } = new();
        protected override Task BeforeStartAsync() => Llm.StartAsync();

        protected override IReadOnlyDictionary<string, string?> ApiSettings => new Dictionary<string, string?>
        {
            ["FENTA_LLM_BASE_URL"] = Llm.ApiBase.ToString(),
            ["FENTA_LLM_API_KEY"] = OpenAiSimulator.ValidKey,
            ["FENTA_LLM_MODEL"] = "gpt-sim-mini",
        };

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await Llm.DisposeAsync();
        }
    }

    private static readonly Script Script = new("Harbor Lights After Dark", "The harbor never really sleeps.",
        [
            new Scene(0, "The harbor never really sleeps. Fishing boats return long after midnight.", ["harbor night"], "harbor at night"),
            new Scene(1, "Their lanterns trace the water like a slow parade.", ["lanterns"], "lanterns on water"),
        ], ["#harbor", "#night"], "en", "story", "llm:gpt-sim-mini");

    /// <summary>A completed job as its run leaves it: the script and subtitle nodes' outputs in node_runs.</summary>
    private async Task<string> CompletedJobAsync(Session session)
    {
        var jobId = "job_" + Guid.NewGuid().ToString("N");
        var config = JsonSerializer.Serialize(new
        {
            graph = new
            {
                nodes = new object[]
                {
                    new { id = "script", type = "Script.Generate", @params = new { prompt = "boats coming home to the harbor at night" } },
                    new { id = "subs", type = "Subtitle.Auto", @params = new { } },
                    new { id = "timeline", type = "Edit.Timeline", @params = new { template_id = "tmpl_shorts_v1" } },
                },
                edges = Array.Empty<object>(),
            },
            variables = new { mood = "calm" },
        });
        await host.ScalarAsync("""
            INSERT INTO jobs (id, org_id, status, progress, config, node_count, nodes_done, created_by, started_at, completed_at)
            VALUES ($1, $2, 'completed', 100, $3::jsonb, 3, 3, $4, now(), now())
            """, jobId, session.OrgId, config, session.UserId);
        var subtitles = new SubtitleTrack("clean_box",
            [new Cue(0, 0, 1.5, ["Lanterns on the water,", "a slow parade."], [])], "asset_srt", "asset_ass",
            new Narration("asset_voice", 1.5, [], "alloy", "en", "openai"));
        foreach (var (node, type, output) in new[] { ("script", "Script.Generate", (object)Script), ("subs", "Subtitle.Auto", subtitles) })
            await host.ScalarAsync("""
                INSERT INTO node_runs (job_id, node_id, item_index, node_type, status, output, completed_at)
                VALUES ($1, $2, 0, $3, 'succeeded', $4::jsonb, now())
                """, jobId, node, type, JsonSerializer.Serialize(output, FentaJson.Options));
        return jobId;
    }

    private static Task<HttpResponseMessage> GenerateAsync(HttpClient client, object body) => client.PostAsJsonAsync("/v1/enrichment/generate", body);

    [Fact]
    public async Task TheScriptGoesToTheChatModelAndItsOvershootingAnswerComesBackTrimmedWithItsTokensRecorded()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var jobId = await CompletedJobAsync(session);
        var manyTags = Enumerable.Range(0, 45).Select(i => $"#Harbor_Tag{i}").Append("#HARBOR_TAG0").Append("night-life").Append("🌙").ToArray();
        host.Llm.Content = JsonSerializer.Serialize(new
        {
            items = new object[]
            {
                new { platform = "youtube", title = "<b>Harbor</b> " + new string('a', 150), description = string.Concat(Enumerable.Repeat("Ölhafen bei Nacht. ", 400)),
                      hashtags = Enumerable.Range(0, 80).Select(i => $"harborlights{i:D3}").ToArray() },
                new { platform = "tiktok", title = "Night boats", description = new string('b', 2500) + " #InlineTag",
                      hashtags = new[] { "#Harbor_Tag0", "HARBOR_TAG0", "night-life", "🌙", "#Boats" } },
                new { platform = "instagram", title = "Harbor", description = "Lanterns on the water.", hashtags = manyTags },
            },
        });

        var answer = await (await GenerateAsync(client, new { job_id = jobId, instructions = "Mention the lanterns.", language = "de" })).ReadJsonAsync(200);

        // What the model was asked: the script, the transcript, the names, the guidance and the language.
        var ask = host.Llm.Requests.Last(r => r.Path == "/v1/chat/completions").Body!.Value;
        Assert.Equal("gpt-sim-mini", ask.GetProperty("model").GetString());
        Assert.Equal("json_object", ask.GetProperty("response_format").GetProperty("type").GetString());
        var prompt = ask.GetProperty("messages")[1].GetProperty("content").GetString()!;
        foreach (var expected in new[] { "Fishing boats return long after midnight.", "Their lanterns trace the water", "Lanterns on the water, a slow parade.",
                     "Harbor Lights After Dark", "boats coming home to the harbor at night", "Mention the lanterns.", "Language: de", "Shorts", "mood: calm" })
            Assert.Contains(expected, prompt);

        Assert.Equal("gpt-sim-mini", answer.GetProperty("model").GetString());
        EnrichmentAssertions.ObeysThePlatformRules(answer);
        var youtube = EnrichmentAssertions.Item(answer, "youtube");
        Assert.StartsWith("b Harbor /b aaaa", youtube.GetProperty("title").GetString());
        Assert.Equal(100, youtube.GetProperty("title").GetString()!.Length);
        Assert.InRange(Encoding.UTF8.GetByteCount(youtube.GetProperty("description").GetString()!), 4900, 5000);
        Assert.Equal(31, EnrichmentAssertions.Tags(youtube).Count); // 31 × 15 characters and 30 commas fit in 500; 32 would not
        var tiktok = EnrichmentAssertions.Item(answer, "tiktok");
        Assert.Equal(2200, tiktok.GetProperty("title").GetString()!.Length);
        // '#' dropped, lower-cased, deduplicated, only letters, digits and '_'; the one written into the text taken out of it and kept.
        Assert.Equal(["harbor_tag0", "nightlife", "boats", "inlinetag"], EnrichmentAssertions.Tags(tiktok));
        Assert.EndsWith("bbb… #harbor_tag0 #nightlife #boats #inlinetag", tiktok.GetProperty("title").GetString());
        Assert.DoesNotContain("🌙", tiktok.GetProperty("title").GetString());
        var instagram = EnrichmentAssertions.Item(answer, "instagram");
        Assert.Equal(30, EnrichmentAssertions.Tags(instagram).Count);
        Assert.StartsWith("Lanterns on the water.\n\n#harbor_tag0 #harbor_tag1", instagram.GetProperty("description").GetString());

        // The tokens are the org's LLM usage, filed under the job's "enrichment"; a second enrichment is a record of its own.
        var (prompted, completed) = host.Llm.LastUsage;
        Assert.Equal([$"{prompted}/{completed}/gpt-sim-mini"], await host.StringsAsync(
            "SELECT llm_tokens_prompt || '/' || llm_tokens_output || '/' || llm_model FROM usage_records WHERE job_id = $1 AND node_id = 'enrichment' AND resource_type = 'llm_tokens'",
            jobId));
        await (await GenerateAsync(client, new { job_id = jobId, platforms = new[] { "youtube" } })).ReadJsonAsync(200);
        Assert.Equal(2, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1 AND node_id = 'enrichment'", jobId));
        var usage = await (await client.GetAsync("/v1/usage")).ReadJsonAsync(200);
        Assert.True(usage.GetProperty("totals").GetProperty("llm_tokens").GetInt64() >= prompted + completed);
        // The job's own cost stays what producing it cost.
        Assert.Equal(0, await host.CountAsync("SELECT cost_tokens FROM jobs WHERE id = $1", jobId));
    }

    [Fact]
    public async Task APlatformTheModelLeftOutGetsTheOfflineTextAndAnAnswerThatIsNotJsonCountsNothing()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var jobId = await CompletedJobAsync(session);

        host.Llm.Content = """{"items": [{"platform": "youtube", "title": "Harbor at night", "description": "Boats come home.", "hashtags": ["harbor"]}]}""";
        var answer = await (await GenerateAsync(client, new { job_id = jobId, platforms = new[] { "youtube", "instagram" } })).ReadJsonAsync(200);
        EnrichmentAssertions.ObeysThePlatformRules(answer);
        Assert.Equal("Harbor at night", EnrichmentAssertions.Item(answer, "youtube").GetProperty("title").GetString());
        Assert.Equal("Boats come home.\n\n#harbor", EnrichmentAssertions.Item(answer, "youtube").GetProperty("description").GetString());
        Assert.StartsWith("The harbor never really sleeps.", EnrichmentAssertions.Item(answer, "instagram").GetProperty("description").GetString());
        Assert.Equal(["harbor", "night"], EnrichmentAssertions.Tags(EnrichmentAssertions.Item(answer, "instagram")).Take(2));

        host.Llm.Content = "Sure! Here are some titles: ...";
        await (await GenerateAsync(client, new { job_id = jobId })).ReadProblemAsync(502, "LLM_BAD_OUTPUT");
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM enrichments WHERE org_id = $1", session.OrgId));
        Assert.Equal(1, await host.CountAsync("SELECT count(*) FROM usage_records WHERE job_id = $1", jobId));
    }

    [Fact]
    public async Task AJobThatHasNotFinishedIsAConflict()
    {
        var session = await host.RegisterAsync();
        var client = session.Client();
        var graph = new { nodes = new object[] { new { id = "s", type = "Script.Generate", @params = new { prompt = "a queued job" } } }, edges = Array.Empty<object>() };
        var queued = await (await client.PostAsJsonAsync("/v1/jobs", new { graph })).ReadJsonAsync(202);

        var problem = await (await GenerateAsync(client, new { job_id = queued.GetProperty("id").GetString() })).ReadProblemAsync(409, "JOB_NOT_FINISHED");
        Assert.Contains("queued", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(host.Llm.Requests, r => r.Body?.ToString().Contains("a queued job") == true);
        Assert.Equal(0, await host.CountAsync("SELECT count(*) FROM enrichments WHERE org_id = $1", session.OrgId));
    }
}
