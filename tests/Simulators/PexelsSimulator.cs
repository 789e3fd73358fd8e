using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// Pexels video search (<c>GET /videos/search</c>): the key in <c>Authorization</c> without "Bearer", the
/// documented page/video/video_files shape, <c>X-Ratelimit-*</c> headers, and file links served from here.
/// Queries containing "nothing" find nothing.
/// </summary>
public sealed class PexelsSimulator : Simulator
{
    public const string ValidKey = "pexels-test-key";
    private byte[] _clip = [];

    public ConcurrentDictionary<string, int> Downloads { get; } = new();

    public override async Task StartAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pexels-sim-{Guid.NewGuid():N}.mp4");
        using (var ffmpeg = Process.Start("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=540x960:rate=25", "-t", "2",
                   "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path]))
            await ffmpeg!.WaitForExitAsync();
        _clip = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        await base.StartAsync();
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/videos/search", Search);
        app.MapGet("/videos/videos/{id:long}", async (HttpContext http, long id) =>
        {
            if (http.Request.Headers.Authorization.ToString() != ValidKey) http.Response.StatusCode = 401;
            else if (id is 1001 or 1002) await http.Response.WriteAsJsonAsync(Video(id, id == 1001 ? 8 : 12));
            else
            {
                http.Response.StatusCode = 404;
                await http.Response.WriteAsJsonAsync(new { status = 404, code = "Not Found" });
            }
        });
        app.MapGet("/files/{name}", (string name) =>
        {
            Downloads.AddOrUpdate(name, 1, (_, n) => n + 1);
            return Results.Bytes(_clip, "video/mp4");
        });
    }

    protected override Task NormalReplyAsync(HttpContext http) => Search(http);

    private async Task Search(HttpContext http)
    {
        if (http.Request.Headers.Authorization.ToString() != ValidKey)
        {
            http.Response.StatusCode = 401;
            await http.Response.WriteAsJsonAsync(new { error = "Authorization field missing or invalid" });
            return;
        }
        http.Response.Headers["X-Ratelimit-Limit"] = "200";
        http.Response.Headers["X-Ratelimit-Remaining"] = "199";
        http.Response.Headers["X-Ratelimit-Reset"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds().ToString();
        var query = http.Request.Query["query"].ToString();
        var videos = query.Contains("nothing") ? [] : new[] { Video(1001, 8), Video(1002, 12) };
        await http.Response.WriteAsJsonAsync(new
        {
            page = 1,
            per_page = int.TryParse(http.Request.Query["per_page"], out var n) ? n : 15,
            total_results = videos.Length,
            url = $"https://www.pexels.com/search/videos/{Uri.EscapeDataString(query)}/",
            videos,
        });
    }

    private object Video(long id, int duration) => new
    {
        id,
        width = 1080,
        height = 1920,
        url = $"https://www.pexels.com/video/{id}/",
        image = $"https://images.pexels.com/videos/{id}/preview.jpeg",
        duration,
        user = new { id = 7, name = "Sim Ulator", url = "https://www.pexels.com/@sim" },
        video_files = new object[]
        {
            new { id = id * 10 + 1, quality = "sd", file_type = "video/mp4", width = 540, height = 960, fps = 25.0, link = $"{BaseAddress}files/{id}-sd.mp4" },
            new { id = id * 10 + 2, quality = "hd", file_type = "video/mp4", width = 1080, height = 1920, fps = 25.0, link = $"{BaseAddress}files/{id}-hd.mp4" },
            new { id = id * 10 + 3, quality = "hls", file_type = "application/x-mpegURL", width = 0, height = 0, fps = 25.0, link = $"{BaseAddress}files/{id}.m3u8" },
        },
        video_pictures = Array.Empty<object>(),
    };
}
