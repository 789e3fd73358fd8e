using System.CommandLine;
using FentaWeb.Render;

var doctor = new Command("doctor", "Check that ffmpeg, ffprobe, encoders, filters and fonts the renderer needs are installed.");
doctor.SetAction(async (_, ct) =>
{
    var capabilities = await Toolchain.CheckAsync(ct);
    foreach (var c in capabilities)
        Console.WriteLine($"{(c.Present ? "ok     " : "MISSING")}  {c.Name,-26} {c.Why}");
    return capabilities.All(c => c.Present) ? 0 : 1;
});

var root = new RootCommand("FentaWeb renderer: turns render specs into MP4s with FFmpeg.") { doctor };
return await root.Parse(args).InvokeAsync();
