using System.CommandLine;
using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Rendering;
using FentaWeb.Render;
using Microsoft.Extensions.Hosting;

var doctor = new Command("doctor", "Check that ffmpeg, ffprobe, encoders, filters and fonts the renderer needs are installed.");
doctor.SetAction(async (_, ct) =>
{
    var capabilities = await Toolchain.CheckAsync(ct: ct);
    foreach (var c in capabilities)
        Console.WriteLine($"{(c.Present ? "ok     " : "MISSING")}  {c.Name,-26} {c.Why}");
    return capabilities.All(c => c.Present) ? 0 : 1;
});

var specOption = new Option<FileInfo>("--spec") { Description = "Render spec JSON whose sources are file paths.", Required = true };
var outOption = new Option<FileInfo>("--out") { Description = "Where to write the MP4 (thumbnail and SRT go beside it).", Required = true };
var qualityOption = new Option<string>("--quality") { Description = "draft, standard or high.", DefaultValueFactory = _ => "standard" };
var render = new Command("render", "Render a spec to MP4.") { specOption, outOption, qualityOption };
render.SetAction(async (parse, ct) =>
{
    var spec = JsonSerializer.Deserialize<RenderSpec>(await File.ReadAllTextAsync(parse.GetValue(specOption)!.FullName, ct), FentaJson.Options)!;
    var output = parse.GetValue(outOption)!.FullName;
    var result = await FfmpegRenderer.RenderAsync(spec, output, RenderQuality.For(parse.GetValue(qualityOption)!),
        p => Console.Error.Write($"\rrendering {p:P0}  "), ct);
    Console.Error.WriteLine();
    Console.WriteLine($"{result.VideoPath}\n{result.ThumbnailPath}\n{result.SrtPath}\nrendered in {result.RenderSeconds:0.0} s");
    return 0;
});

var onceOption = new Option<bool>("--once") { Description = "Take one render request (or none) and exit, as a Container Apps job execution." };
var worker = new Command("worker", "Render requests from the render queue and report their outcomes on the results queue.") { onceOption };
worker.SetAction(async (parse, ct) =>
{
    using var host = RenderHost.Build(args, parse.GetValue(onceOption));
    await host.RunAsync(ct);
    return 0;
});

var root = new RootCommand("FentaWeb renderer: turns render specs into MP4s with FFmpeg.") { doctor, render, worker };
return await root.Parse(args).InvokeAsync();
