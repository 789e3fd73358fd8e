using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>
/// KIE.ai's contract for the market API (<c>jobs/createTask</c>, <c>jobs/recordInfo</c>), Veo 3.1 (<c>veo/generate</c>,
/// <c>veo/record-info</c>), 4o Image (<c>gpt4o-image/generate</c>, <c>gpt4o-image/record-info</c>), Midjourney
/// (<c>mj/generate</c>, <c>mj/record-info</c>: four images a task), ElevenLabs speech on the market API (real speech:
/// espeak-ng's reading of the text as MP3, so its length follows the text) and Suno
/// (<c>generate</c>, <c>generate/record-info</c>): Bearer auth, the <c>{code, msg, data}</c> envelope, tasks that finish
/// after <see cref="TaskDuration"/>, a callback POSTed to the task's callBackUrl when <see cref="SendCallbacks"/> is on,
/// generation failures (501) on request, and result files served from here. Input files named in a request (image and
/// video URLs) are fetched at once, as KIE does: one that cannot be read is a 422. Scripted errors (402, 422,
/// 429 + Retry-After, 455, 500) go through <c>Enqueue*</c>.
/// </summary>
public sealed class KieSimulator : Simulator
{
    public const string ValidKey = "kie-test-key";
    private static readonly HttpClient Callbacks = new();
    private byte[] _clip = [];
    private byte[] _image = [];
    private byte[] _track = [];
    /// <summary>The input-file fields of each family's create request (a URL or a list of them).</summary>
    private static readonly string[] InputFields = ["image_urls", "imageUrls", "filesUrl", "inputImage", "imageUrl", "videoUrl", "image_url", "video_url", "input_urls", "fileUrls"];
    private static readonly string[] SunoModels = ["V3_5", "V4", "V4_5", "V4_5PLUS", "V5"];
    public const string SpeechModel = "elevenlabs/text-to-speech-multilingual-v2";
    /// <summary>The voices KIE takes for <see cref="SpeechModel"/>, case-sensitive as KIE is.</summary>
    public static readonly string[] SpeechVoices =
        ["Rachel", "Alice", "Aria", "Charlotte", "Jessica", "Laura", "Lily", "Matilda", "Sarah", "Bill", "Brian", "Callum", "Charlie", "Chris", "Daniel", "Eric", "George", "Liam", "Roger", "Will"];
    /// <summary>Each speech task's audio (MP3), by task id.</summary>
    private readonly ConcurrentDictionary<string, byte[]> _speech = new();
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
    /// <summary>Input files fetched from the links in create requests: the URL, its HTTP status, content type and size.</summary>
    public ConcurrentQueue<(string Url, int Status, string? ContentType, long Bytes)> InputsFetched { get; } = new();
    private static readonly HttpClient Inputs = new() { Timeout = TimeSpan.FromSeconds(20) };

    public sealed record SimTask(string Id, string Family, string Model, JsonElement Body, DateTimeOffset Created, bool Fails, string? CallbackUrl);

    public override async Task StartAsync()
    {
        _clip = await DrawAsync("mp4", ["-f", "lavfi", "-i", "testsrc2=size=360x640:rate=25", "-t", "3", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast"]);
        _image = await DrawAsync("png", ["-f", "lavfi", "-i", "testsrc2=size=360x640", "-frames:v", "1"]);
        _track = await DrawAsync("mp3", ["-f", "lavfi", "-i", "sine=frequency=330:duration=12", "-c:a", "libmp3lame", "-b:a", "64k"]);
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
        app.MapPost("/api/v1/mj/generate", (Delegate)((HttpContext http) => Create(http, "mj")));
        app.MapGet("/api/v1/mj/record-info", (HttpContext http, string taskId) => Status(http, taskId, "mj"));
        app.MapPost("/api/v1/generate", (Delegate)((HttpContext http) => Create(http, "suno")));
        app.MapGet("/api/v1/generate/record-info", (HttpContext http, string taskId) => Status(http, taskId, "suno"));
        app.MapGet("/files/{name}", (string name) => _speech.TryGetValue(Path.GetFileNameWithoutExtension(name), out var speech) ? Results.Bytes(speech, "audio/mpeg")
            : name.EndsWith(".png") ? Results.Bytes(_image, "image/png")
            : name.EndsWith(".mp3") ? Results.Bytes(_track, "audio/mpeg") : Results.Bytes(_clip, "video/mp4"));
    }

    private static IResult Envelope(int code, string msg, object? data = null) => Results.Json(new { code, msg, data });

    private static bool Authorized(HttpContext http) => http.Request.Headers.Authorization.ToString() == $"Bearer {ValidKey}";

    private async Task<IResult> Create(HttpContext http, string family)
    {
        if (!Authorized(http)) return Envelope(401, "You do not have access permissions");
        var body = (await JsonDocument.ParseAsync(http.Request.Body)).RootElement.Clone();
        var prompt = family == "market" ? body.GetProperty("input").TryGetProperty("prompt", out var p) ? p.GetString() : null
            : body.TryGetProperty("prompt", out var q) ? q.GetString() : null;
        if (family == "suno" && SunoRefusal(body) is { } refusal) return Envelope(422, refusal);
        if (family == "mj" && MidjourneyRefusal(body) is { } mjRefusal) return Envelope(422, mjRefusal);
        var speaks = family == "market" && body.TryGetProperty("model", out var named) && named.GetString() == SpeechModel;
        if (speaks && SpeechRefusal(body.GetProperty("input")) is { } speechRefusal) return Envelope(422, speechRefusal);
        if (speaks) prompt = body.GetProperty("input").GetProperty("text").GetString();
        if (string.IsNullOrWhiteSpace(prompt) && family != "suno") return Envelope(422, "prompt is required");
        foreach (var url in InputUrls(family == "market" ? body.GetProperty("input") : body))
            if (await FetchInputAsync(url) is { } unreadable) return Envelope(422, unreadable);
        var model = body.TryGetProperty("model", out var m) ? m.GetString() ?? family : family;
        Interlocked.Increment(ref _created);
        var fails = Interlocked.Decrement(ref FailNextGenerations) >= 0;
        if (!fails) Interlocked.Exchange(ref FailNextGenerations, 0);
        var task = new SimTask(Guid.NewGuid().ToString("N"), family, model, body, DateTimeOffset.UtcNow, fails,
            body.TryGetProperty("callBackUrl", out var cb) ? cb.GetString() : null);
        if (speaks) _speech[task.Id] = await SpeakAsync(prompt!);
        Tasks[task.Id] = task;
        if (SendCallbacks && task.CallbackUrl is not null && !NeverFinish) _ = CallBackLaterAsync(task, $"{http.Request.Scheme}://{http.Request.Host}");
        return Envelope(200, "success", new { taskId = task.Id });
    }

    /// <summary>
    /// Suno's create rules: a known model; without customMode a prompt (at most 500 characters) and no style or title;
    /// in customMode a style and a title, and a prompt (the lyrics) unless instrumental; callBackUrl is required.
    /// </summary>
    private static string? SunoRefusal(JsonElement body)
    {
        string? Text(string name) => body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool? Flag(string name) => body.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;
        if (Flag("customMode") is not { } custom) return "customMode is required";
        if (Flag("instrumental") is not { } instrumental) return "instrumental is required";
        if (Text("model") is not { } model || !SunoModels.Contains(model)) return $"model must be one of {string.Join(", ", SunoModels)}";
        if (string.IsNullOrEmpty(Text("callBackUrl"))) return "callBackUrl is required";
        if (!custom)
        {
            if (string.IsNullOrWhiteSpace(Text("prompt"))) return "prompt is required";
            if (Text("prompt")!.Length > 500) return "prompt must be at most 500 characters in non-custom mode";
            if (Text("style") is not null || Text("title") is not null) return "style and title are for customMode";
            return null;
        }
        if (string.IsNullOrWhiteSpace(Text("style")) || string.IsNullOrWhiteSpace(Text("title"))) return "style and title are required in customMode";
        return !instrumental && string.IsNullOrWhiteSpace(Text("prompt")) ? "prompt (the lyrics) is required in customMode unless instrumental" : null;
    }

    /// <summary>ElevenLabs speech's rules: text of 1 to 5,000 characters, one of KIE's voices, settings in their ranges.</summary>
    private static string? SpeechRefusal(JsonElement input)
    {
        string? Text(string name) => input.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        bool InRange(string name, double min, double max) =>
            !input.TryGetProperty(name, out var v) || (v.ValueKind == JsonValueKind.Number && v.GetDouble() >= min && v.GetDouble() <= max);
        if (string.IsNullOrWhiteSpace(Text("text"))) return "text is required";
        if (Text("text")!.Length > 5000) return "text must be at most 5000 characters";
        if (Text("voice") is { } voice && !SpeechVoices.Contains(voice)) return "This voice is not within the range of allowed options";
        foreach (var name in new[] { "stability", "similarity_boost", "style" })
            if (!InRange(name, 0, 1)) return $"{name} must be a number from 0 to 1";
        return InRange("speed", 0.7, 1.2) ? null : "speed must be a number from 0.7 to 1.2";
    }

    /// <summary>The text read by espeak-ng, as MP3: real speech whose length grows with the text.</summary>
    private static async Task<byte[]> SpeakAsync(string text)
    {
        var wav = Path.Combine(Path.GetTempPath(), $"kie-sim-{Guid.NewGuid():N}.wav");
        try
        {
            using (var espeak = Process.Start("espeak-ng", ["-v", "en-us", "-w", wav, "--", text]))
                await espeak!.WaitForExitAsync();
            return await DrawAsync("mp3", ["-i", wav, "-c:a", "libmp3lame", "-b:a", "64k"]);
        }
        finally
        {
            File.Delete(wav);
        }
    }

    /// <summary>Midjourney's create rules: a known taskType and speed; image-to-image needs fileUrls, text-to-image takes none.</summary>
    private static string? MidjourneyRefusal(JsonElement body)
    {
        string? Text(string name) => body.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var images = body.TryGetProperty("fileUrls", out var f) && f.ValueKind == JsonValueKind.Array ? f.GetArrayLength() : 0;
        return Text("taskType") switch
        {
            not ("mj_txt2img" or "mj_img2img" or "mj_video") => "taskType must be mj_txt2img, mj_img2img or mj_video",
            "mj_txt2img" when images > 0 => "fileUrls are for mj_img2img",
            "mj_img2img" or "mj_video" when images == 0 => "fileUrls is required for this taskType",
            _ when Text("speed") is { } speed && speed is not ("relaxed" or "fast" or "turbo") => "speed must be relaxed, fast or turbo",
            _ => null,
        };
    }

    private static IEnumerable<string> InputUrls(JsonElement fields)
    {
        foreach (var name in InputFields)
            if (fields.TryGetProperty(name, out var value))
            {
                if (value.ValueKind == JsonValueKind.String) yield return value.GetString()!;
                else if (value.ValueKind == JsonValueKind.Array)
                    foreach (var item in value.EnumerateArray()) yield return item.GetString()!;
            }
    }

    /// <summary>Reads an input file as KIE would; the reason it cannot, or null.</summary>
    private async Task<string?> FetchInputAsync(string url)
    {
        try
        {
            using var response = await Inputs.GetAsync(url);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            InputsFetched.Enqueue((url, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes.LongLength));
            return response.IsSuccessStatusCode && bytes.Length > 0 ? null : $"input file could not be fetched ({(int)response.StatusCode}): {url}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException or InvalidOperationException)
        {
            InputsFetched.Enqueue((url, 0, null, 0));
            return $"input file could not be fetched ({e.Message}): {url}";
        }
    }

    private bool Done(SimTask task) => !NeverFinish && DateTimeOffset.UtcNow - task.Created >= TaskDuration;

    private string FileUrl(SimTask task, string origin, int track = 0) =>
        $"{origin}/files/{task.Id}{(track > 0 ? $"-{track}" : "")}.{task.Family switch { "gpt4o" or "mj" => "png", "suno" => "mp3", _ when task.Model == SpeechModel => "mp3", _ => "mp4" }}";

    /// <summary>Suno's status: PENDING, then the lyrics (TEXT_SUCCESS), the first track (FIRST_SUCCESS), both (SUCCESS).</summary>
    private string SunoStatus(SimTask task)
    {
        if (Done(task)) return task.Fails ? "GENERATE_AUDIO_FAILED" : "SUCCESS";
        var share = (DateTimeOffset.UtcNow - task.Created) / TaskDuration;
        // A task that will fail gets no further than its lyrics.
        return NeverFinish || share < 0.34 ? "PENDING" : share < 0.67 || task.Fails ? "TEXT_SUCCESS" : "FIRST_SUCCESS";
    }

    /// <summary>The task's tracks: the first once it is done (FIRST_SUCCESS), both when <paramref name="complete"/>.</summary>
    private object[] SunoTracks(SimTask task, string origin, bool complete) =>
        [.. Enumerable.Range(0, complete ? 2 : 1).Select(i => new
        {
            id = $"{task.Id}-{i}", audioUrl = FileUrl(task, origin, i), streamAudioUrl = FileUrl(task, origin, i),
            imageUrl = $"{origin}/files/{task.Id}-{i}.png", prompt = "[Instrumental]", modelName = task.Model, title = "Simulated track",
            tags = task.Body.TryGetProperty("style", out var style) ? style.GetString() : "ambient", createTime = task.Created.ToUnixTimeMilliseconds(),
            duration = 12.0,
        })];

    private IResult Status(HttpContext http, string taskId, string family)
    {
        if (!Authorized(http)) return Envelope(401, "You do not have access permissions");
        if (!Tasks.TryGetValue(taskId, out var task) || task.Family != family) return Envelope(404, "task not found");
        var origin = $"{http.Request.Scheme}://{http.Request.Host}";
        var done = Done(task);
        if (family == "suno")
        {
            var status = SunoStatus(task);
            return Envelope(200, "success", new
            {
                taskId, parentMusicId = "", param = task.Body.GetRawText(), type = "chirp-v3-5",
                response = status is "SUCCESS" or "FIRST_SUCCESS" ? new { taskId, sunoData = SunoTracks(task, origin, status == "SUCCESS") } : null,
                status, operationType = "generate", errorCode = task.Fails && done ? 501 : (int?)null,
                errorMessage = task.Fails && done ? "audio generation failed" : null,
            });
        }
        if (family == "mj")
            return Envelope(200, "success", new
            {
                taskId, taskType = task.Body.GetProperty("taskType").GetString(), paramJson = task.Body.GetRawText(),
                successFlag = !done ? 0 : task.Fails ? 3 : 1,
                resultInfoJson = done && !task.Fails ? new { resultUrls = Enumerable.Range(0, 4).Select(i => new { resultUrl = FileUrl(task, origin, i) }).ToArray() } : null,
                errorCode = done && task.Fails ? 501 : (int?)null, errorMessage = done && task.Fails ? "generation failed" : null,
            });
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
            "mj" => new { taskId = task.Id, resultUrls = Enumerable.Range(0, 4).Select(i => FileUrl(task, origin, i)).ToArray() },
            "suno" => new { callbackType = task.Fails ? "error" : "complete", task_id = task.Id, data = task.Fails ? null : SunoTracks(task, origin, true) },
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
