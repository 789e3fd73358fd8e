using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// KIE.ai's contract for the market API (<c>jobs/createTask</c>, <c>jobs/recordInfo</c>), Veo 3.1 (<c>veo/generate</c>,
/// <c>veo/record-info</c>) and 4o Image (<c>gpt4o-image/generate</c>, <c>gpt4o-image/record-info</c>): Bearer auth,
/// the <c>{code, msg, data}</c> envelope, tasks that finish after <see cref="TaskDuration"/>, a callback POSTed to the
/// task's callBackUrl when <see cref="SendCallbacks"/> is on, generation failures (501) on request, and result
/// files served from here. Scripted errors (402, 422, 429 + Retry-After, 455, 500) go through <c>Enqueue*</c>.
/// </summary>
public sealed class KieSimulator : Simulator
{
    public const string ValidKey = "kie-test-key";
    private static readonly HttpClient Callbacks = new();
    private byte[] _clip = [];
    private byte[] _image = [];
    private int _created;

    public TimeSpan TaskDuration { get; set; } = TimeSpan.FromSeconds(1);
    public bool SendCallbacks { get; set; } = true;
    /// <summary>Tasks never finish (for deadline tests).</summary>
    public bool NeverFinish { get; set; }
    /// <summary>This many of the next tasks end in a generation failure (501 / state fail).</summary>
    public int FailNextGenerations;

    public int CreateTaskCalls => _created;
    public ConcurrentDictionary<string, SimTask> Tasks { get; } = new();
    public ConcurrentQueue<string> CallbacksSent { get; } = new();

    public sealed record SimTask(string Id, string Family, string Model, JsonElement Body, DateTimeOffset Created, bool Fails, string? CallbackUrl);

    public override async Task StartAsync()
    {
        _clip = await DrawAsync("mp4", ["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=25", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]);
        _image = await DrawAsync("png", ["-f", "lavfi", "-i", "testsrc2=size=360x640", "-frames:v", "1"]);
        await base.StartAsync();
    }

    private static async Task<byte[]> DrawAsync(string extension, string[] args)
    {
        var path = Path.Combine(Path.GetTempPath(), $"kie-sim-{Guid.NewGuid():N}.{extension}");
        using (var ffmpeg = Process.Start("ffmpeg", ["-y", "-v", "error", .. args, path]))
            await ffmpeg!.WaitForExitAsync();
        var bytes = await File.ReadAllBytesAsync(path);
        File.Delete(path);
        return bytes;
    }

    protected override void Map(WebApplication app)
    {
        app.MapPost("/api/v1/jobs/createTask", (Delegate)((HttpContext http) => Create(http, "market")));
        app.MapPost("/api/v1/veo/generate", (Delegate)((HttpContext http) => Create(http, "veo")));
        app.MapPost("/api/v1/gpt4o-image/generate", (Delegate)((HttpContext http) => Create(http, "gpt4o")));
        app.MapGet("/api/v1/jobs/recordInfo", (HttpContext http, string taskId) => Status(http, taskId, "market"));
        app.MapGet("/api/v1/veo/record-info", (HttpContext http, string taskId) => Status(http, taskId, "veo"));
        app.MapGet("/api/v1/gpt4o-image/record-info", (HttpContext http, string taskId) => Status(http, taskId, "gpt4o"));
        app.MapGet("/files/{name}", (string name) => name.EndsWith(".png") ? Results.Bytes(_image, "image/png") : Results.Bytes(_clip, "video/mp4"));
    }

    private static IResult Envelope(int code, string msg, object? data = null) => Results.Json(new { code, msg, data });

    private static bool Authorized(HttpContext http) => http.Request.Headers.Authorization.ToString() == $"Bearer {ValidKey}";

    private async Task<IResult> Create(HttpContext http, string family)
    {
        if (!Authorized(http)) return Envelope(401, "You do not have access permissions");
        var body = (await JsonDocument.ParseAsync(http.Request.Body)).RootElement.Clone();
        var prompt = family == "market" ? body.GetProperty("input").TryGetProperty("prompt", out var p) ? p.GetString() : null
            : body.TryGetProperty("prompt", out var q) ? q.GetString() : null;
        if (string.IsNullOrWhiteSpace(prompt)) return Envelope(422, "prompt is required");
        var model = body.TryGetProperty("model", out var m) ? m.GetString() ?? family : family;
        Interlocked.Increment(ref _created);
        var fails = Interlocked.Decrement(ref FailNextGenerations) >= 0;
        if (!fails) Interlocked.Exchange(ref FailNextGenerations, 0);
        var task = new SimTask(Guid.NewGuid().ToString("N"), family, model, body, DateTimeOffset.UtcNow, fails,
            body.TryGetProperty("callBackUrl", out var cb) ? cb.GetString() : null);
        Tasks[task.Id] = task;
        if (SendCallbacks && task.CallbackUrl is not null && !NeverFinish) _ = CallBackLaterAsync(task, $"{http.Request.Scheme}://{http.Request.Host}");
        return Envelope(200, "success", new { taskId = task.Id });
    }

    private bool Done(SimTask task) => !NeverFinish && DateTimeOffset.UtcNow - task.Created >= TaskDuration;

    private string FileUrl(SimTask task, string origin) => $"{origin}/files/{task.Id}.{(task.Family == "gpt4o" ? "png" : "mp4")}";

    private IResult Status(HttpContext http, string taskId, string family)
    {
        if (!Authorized(http)) return Envelope(401, "You do not have access permissions");
        if (!Tasks.TryGetValue(taskId, out var task) || task.Family != family) return Envelope(404, "task not found");
        var origin = $"{http.Request.Scheme}://{http.Request.Host}";
        var done = Done(task);
        if (family == "market")
            return Envelope(200, "success", new
            {
                taskId, model = task.Model, state = !done ? "generating" : task.Fails ? "fail" : "success",
                param = task.Body.GetRawText(),
                resultJson = done && !task.Fails ? JsonSerializer.Serialize(new { resultUrls = new[] { FileUrl(task, origin) } }) : null,
                failCode = done && task.Fails ? "501" : null, failMsg = done && task.Fails ? "content policy violation" : null,
                createTime = task.Created.ToUnixTimeMilliseconds(),
            });
        return Envelope(200, "success", new
        {
            taskId,
            successFlag = !done ? 0 : task.Fails ? 3 : 1,
            status = !done ? "GENERATING" : task.Fails ? "GENERATE_FAILED" : "SUCCESS",
            response = done && !task.Fails ? new { resultUrls = new[] { FileUrl(task, origin) } } : null,
            errorCode = done && task.Fails ? 501 : (int?)null,
            errorMessage = done && task.Fails ? "generation failed" : null,
        });
    }

    private async Task CallBackLaterAsync(SimTask task, string origin)
    {
        await Task.Delay(TaskDuration + TimeSpan.FromMilliseconds(50));
        object data = task.Family switch
        {
            "market" => new
            {
                taskId = task.Id, state = task.Fails ? "fail" : "success",
                resultJson = task.Fails ? null : JsonSerializer.Serialize(new { resultUrls = new[] { FileUrl(task, origin) } }),
                consumeCredits = 10, remainedCredits = 990, costTime = 1,
            },
            "gpt4o" => new { taskId = task.Id, info = new { result_urls = new[] { FileUrl(task, origin) } } },
            _ => new { taskId = task.Id, info = new { resultUrls = new[] { FileUrl(task, origin) } } },
        };
        try
        {
            using var response = await Callbacks.PostAsJsonAsync(task.CallbackUrl, new { code = task.Fails ? 501 : 200, msg = task.Fails ? "failed" : "success", data });
            CallbacksSent.Enqueue($"{task.Id}:{(int)response.StatusCode}");
        }
        catch (HttpRequestException)
        {
            CallbacksSent.Enqueue($"{task.Id}:unreachable");
        }
    }
}
