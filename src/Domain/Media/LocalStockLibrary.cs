using System.Globalization;
using System.Text.Json;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Media;

public sealed record StockClip(string File, IReadOnlyList<string> Tags, double DurationSeconds, int Width, int Height);

/// <summary>
/// The offline stock library: short, varied, tagged clips drawn by ffmpeg's own sources (gradients, fractals,
/// cellular patterns, noise) once into a folder, then searched by tag. It stands in for Pexels without a key.
/// </summary>
public sealed class LocalStockLibrary(string folder, int clipCount = 24)
{
    private const string ManifestName = "manifest.json";
    private static readonly SemaphoreSlim Gate = new(1, 1);

    // Each look: an ffmpeg source, and the words it can stand for.
    private static readonly (string Source, string[] Tags)[] Looks =
    [
        ("gradients=s={0}:c0=0x0b1d51:c1=0x1f6feb:c2=0x00d4ff:speed=0.02:d={1}", ["city", "night", "technology", "news", "blue", "calm"]),
        ("gradients=s={0}:c0=0xff7e5f:c1=0xfeb47b:c2=0xffd200:speed=0.015:d={1}", ["sunrise", "sunset", "warm", "nature", "morning", "food"]),
        ("gradients=s={0}:c0=0x134e5e:c1=0x71b280:c2=0x2f8f46:speed=0.02:d={1}", ["nature", "forest", "green", "outdoors", "travel"]),
        ("mandelbrot=s={0}:rate=25:end_scale=0.3", ["abstract", "science", "space", "fractal", "technology"]),
        // Coarse cells evolving five times a second and softened: per-pixel flicker at 25 generations/s looked like
        // static and encoded at ~22 Mbit/s, nothing like footage.
        ("life=s={2}:mold=10:r=5:ratio=0.15:death_color=#101820:life_color=#2ec4b6,scale={0}:flags=neighbor,gblur=sigma=3,fps=25", ["abstract", "data", "technology", "network", "business"]),
        ("cellauto=s={0}:rule=110:r=25", ["pattern", "data", "abstract", "texture", "code"]),
        ("gradients=s={0}:c0=0x3a0ca3:c1=0xf72585:c2=0x4cc9f0:speed=0.03:d={1}", ["party", "music", "neon", "night", "fun", "comedy"]),
        ("gradients=s={0}:c0=0x232526:c1=0x414345:c2=0x8e9eab:speed=0.01:d={1}", ["news", "serious", "business", "grey", "office"]),
    ];

    public string Folder { get; } = Path.GetFullPath(folder);

    /// <summary>The library FENTA_STOCK_DIR and FENTA_STOCK_CLIPS name (by default 24 clips under .local/stock), shared by the API and the workers.</summary>
    public static LocalStockLibrary FromSettings(Func<string, string?> setting) =>
        new(setting("FENTA_STOCK_DIR") is { Length: > 0 } folder ? folder : Path.Combine(".local", "stock"),
            int.TryParse(setting("FENTA_STOCK_CLIPS"), out var n) && n > 0 ? n : 24);

    /// <summary>
    /// Generates the library the first time. Callers in one process wait on a semaphore, processes sharing the folder
    /// (the API and workers on one file share) on an exclusive lock file, so one draws and the others read its manifest.
    /// </summary>
    public async Task<IReadOnlyList<StockClip>> EnsureAsync(CancellationToken ct)
    {
        var manifest = Path.Combine(Folder, ManifestName);
        if (File.Exists(manifest)) return Read(manifest);
        await Gate.WaitAsync(ct);
        try
        {
            Directory.CreateDirectory(Folder);
            await using var folderLock = await LockAsync(ct);
            if (File.Exists(manifest)) return Read(manifest);
            var clips = new StockClip[clipCount];
            // ffmpeg's drawing sources run on one thread, so one clip per core at a time draws the library that much sooner.
            await Parallel.ForAsync(0, clipCount, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = ct },
                async (i, token) => clips[i] = await DrawAsync(i, token));
            var temp = manifest + ".partial";
            await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(clips, FentaJson.Options), ct);
            File.Move(temp, manifest, overwrite: true);
            return clips;
        }
        finally
        {
            Gate.Release();
        }
    }

    private async Task<FileStream> LockAsync(CancellationToken ct)
    {
        var path = Path.Combine(Folder, ".lock");
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                await Task.Delay(200, ct); // another process is drawing the library
            }
        }
    }

    private async Task<StockClip> DrawAsync(int i, CancellationToken ct)
    {
        var (source, tags) = Looks[i % Looks.Length];
        var portrait = i % 3 != 2;
        var (width, height) = portrait ? (540, 960) : (960, 540);
        var duration = 5 + i % 4;
        var file = $"stock-{i:D2}.mp4";
        var input = string.Format(CultureInfo.InvariantCulture, source, $"{width}x{height}", duration, $"{width / 4}x{height / 4}");
        await ProcessRunner.RunCheckedAsync("ffmpeg",
        [
            "-y", "-v", "error", "-f", "lavfi", "-i", input, "-t", duration.ToString(CultureInfo.InvariantCulture),
            "-vf", $"hue=h={i * 37 % 360},format=yuv420p", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "28",
            Path.Combine(Folder, file),
        ], $"could not draw stock clip {file}", ct);
        return new StockClip(file, [.. tags, portrait ? "portrait" : "landscape"], duration, width, height);
    }

    /// <summary>
    /// The best clips for the terms: most matching tags first, then the wanted orientation, then variety (a clip
    /// already used ranks lower). With no match at all, the broadest fallback is any clip of the orientation.
    /// </summary>
    public static IReadOnlyList<StockClip> Search(IReadOnlyList<StockClip> library, IEnumerable<string> terms, string orientation, int count,
        double minDuration, ISet<string>? used = null)
    {
        var words = terms.SelectMany(t => t.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        return library
            .Where(c => c.DurationSeconds >= minDuration)
            .OrderByDescending(c => c.Tags.Count(words.Contains))
            .ThenByDescending(c => c.Tags.Contains(orientation == "square" ? "portrait" : orientation))
            .ThenBy(c => used?.Contains(c.File) == true)
            .ThenBy(c => c.File, StringComparer.Ordinal)
            .Take(count)
            .ToList();
    }

    private static List<StockClip> Read(string manifest) =>
        JsonSerializer.Deserialize<List<StockClip>>(File.ReadAllText(manifest), FentaJson.Options)!;
}
