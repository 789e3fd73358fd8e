using FentaWeb.Domain.Publishing;
using System.Security.Cryptography;
using System.Text;
using FentaWeb.Domain.Assets;
using FentaWeb.Integrations.Publishing;
using FentaWeb.Integrations.YouTube;
using FentaWeb.Orchestrations.Tests;
using FentaWeb.Runs;
using FentaWeb.Runs.Assets;
using FentaWeb.Runs.Publishing;
using FentaWeb.Simulators;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace FentaWeb.EndToEnd.Tests;

/// <summary>A publication's upload across a worker process SIGKILLed in the middle of it.</summary>
public class PublishCrashTests(RunHostWithoutWorker host) : IClassFixture<RunHostWithoutWorker>
{
    private static readonly Uri Redirect = new("http://127.0.0.1:9/v1/integrations/youtube/callback");

    [Fact]
    public async Task AWorkerKilledMidUploadIsReplacedAndTheUploadResumesFromTheAcknowledgedByteIntoOneVideo()
    {
        // Uploads go in 256 KiB chunks, each held 300 ms by "YouTube", so the kill lands mid-upload.
        await using var youtube = new YouTubeSimulator { ChunkDelay = TimeSpan.FromMilliseconds(300) };
        await youtube.StartAsync();
        var settings = host.WorkerSettings();
        foreach (var (key, value) in youtube.Settings()) settings[key] = value;
        settings["FENTA_YOUTUBE_CHUNK_BYTES"] = (256 * 1024).ToString();

        // A finished job's video (about 2 MB: 8 chunks or more), and the org's YouTube account, connected as the API connects it.
        var job = await host.StartJobAsync("""{"nodes": [{"id": "s", "type": "Script.Generate", "params": {"prompt": "scenes=1"}}], "edges": []}""");
        var video = Path.Combine(host.LocalFolder, "upload.mp4");
        Directory.CreateDirectory(host.LocalFolder);
        await FfmpegAsync($"-y -f lavfi -i testsrc2=size=540x960:rate=30 -f lavfi -i sine=frequency=440 -t 4 -c:v libx264 -b:v 6M -minrate 6M -maxrate 6M -bufsize 2M -x264-params nal-hrd=cbr -c:a aac -shortest {video}");
        Assert.True(new FileInfo(video).Length > 8 * 256 * 1024, $"the test video is only {new FileInfo(video).Length} bytes");
        var asset = await host.Assets().AddFileAsync(new NewAsset(RunHost.OrgId, "render", "video/mp4", "upload.mp4", job), video, CancellationToken.None);
        var integration = await ConnectAsync(settings);
        var publication = await PublicationStore.FileAsync(host.Db, RunHost.OrgId, null, job, null, asset.Id,
            [new TargetRequest(integration, new PublishRequest("Resumed", "Across a crash", ["shorts"], "public", null, true, false, null))], CancellationToken.None);
        await host.Runs.ScheduleNewOrchestrationInstanceAsync(RunNames.PublishRun, publication, new StartOrchestrationOptions(InstanceId: publication));

        long acknowledgedAtKill;
        using (var doomed = WorkerProcess.Start(settings))
        {
            await WaitForAsync(() => youtube.Sessions is [{ Received: >= 3 * 256 * 1024 }], TimeSpan.FromSeconds(90));
            doomed.Kill();
            acknowledgedAtKill = youtube.Sessions[0].Received;
        }
        Assert.True(acknowledgedAtKill < new FileInfo(video).Length);
        Assert.Empty(youtube.Videos);

        using var replacement = WorkerProcess.Start(settings);
        // The dead worker's partitions and its claim on the target lapse first (6 s each here).
        var status = "";
        await WaitForAsync(() => (status = (string)host.ScalarAsync("SELECT status FROM publications WHERE id = $1", publication).GetAwaiter().GetResult()!)
            is "succeeded" or "failed" or "partially_failed", TimeSpan.FromSeconds(120));
        Assert.Equal("succeeded", status);

        // One session, asked where it stood, continued from the byte it had acknowledged: one video, the whole file.
        var session = Assert.Single(youtube.Sessions);
        Assert.True(session.StatusQueries >= 1);
        Assert.Contains(session.Chunks, c => c.First == acknowledgedAtKill);
        Assert.Equal(session.Chunks.Sum(c => (long)c.Length), new FileInfo(video).Length);
        var posted = Assert.Single(youtube.Videos);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(video))), posted.Sha256);
        Assert.Equal(posted.Id, (string)(await host.ScalarAsync("SELECT platform_video_id FROM publication_targets WHERE publication_id = $1", publication))!);
    }

    /// <summary>Consent on the simulator and the code exchange, then the account stored with its tokens protected, as the API's callback does.</summary>
    private async Task<string> ConnectAsync(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(host.Db);
        services.AddPublishing(key => settings.GetValueOrDefault(key));
        await using var provider = services.BuildServiceProvider();
        var youtube = provider.GetServices<IPublishingPlatform>().Single(p => p.Name == Platforms.YouTube);
        var verifier = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var challenge = Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        using var browser = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        var consent = await browser.GetAsync(youtube.AuthorizationUrl("state", challenge, Redirect));
        var code = System.Web.HttpUtility.ParseQueryString(consent.Headers.Location!.Query)["code"]!;
        var grant = await youtube.ExchangeCodeAsync(code, verifier, Redirect, CancellationToken.None);
        var account = await youtube.AccountAsync(grant, CancellationToken.None);
        return await provider.GetRequiredService<IntegrationStore>().SaveConsentAsync(RunHost.OrgId, "user_test", Platforms.YouTube, grant, account, CancellationToken.None);
    }

    private static async Task FfmpegAsync(string arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("ffmpeg", arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await errors);
    }

    private static async Task WaitForAsync(Func<bool> done, TimeSpan timeout)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!done())
        {
            if (watch.Elapsed > timeout) throw new TimeoutException($"not done within {timeout.TotalSeconds} s");
            await Task.Delay(50);
        }
    }
}
