using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FentaWeb.Domain.Media;

/// <summary>
/// The offline stand-in for KIE.ai generations: a still is the prompt's words on a gradient whose colours come from
/// the prompt, and a clip is that still with a slow Ken-Burns push-in; from an input image, a clip animates that image
/// and an edit recolours and captions it; music is a generated instrumental bed. Same node semantics, no key, clearly local.
/// </summary>
public static class LocalGenerator
{
    public static (int Width, int Height) SizeOf(string aspectRatio) => aspectRatio switch
    {
        "16:9" => (1280, 720),
        "1:1" => (1024, 1024),
        "4:5" => (864, 1080),
        _ => (720, 1280),
    };

    public static async Task DrawStillAsync(string prompt, string aspectRatio, string path, CancellationToken ct)
    {
        var (w, h) = SizeOf(aspectRatio);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prompt));
        string Colour(int i) => $"0x{hash[i]:x2}{hash[i + 1]:x2}{hash[i + 2]:x2}";
        var textFile = path + ".txt";
        await File.WriteAllTextAsync(textFile, Wrap(prompt, Math.Max(12, w / 40)), ct);
        try
        {
            await ProcessRunner.RunCheckedAsync("ffmpeg",
            [
                "-y", "-v", "error", "-f", "lavfi", "-i", $"gradients=s={w}x{h}:c0={Colour(0)}:c1={Colour(3)}:c2={Colour(6)}:seed={hash[9]}:d=1",
                "-frames:v", "1", "-vf",
                $"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:textfile={textFile}:fontsize={w / 18}:fontcolor=white" +
                $":box=1:boxcolor=black@0.35:boxborderw={w / 40}:line_spacing={w / 60}:x=(w-text_w)/2:y=(h-text_h)/2," +
                $"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='local generation':fontsize={w / 40}:fontcolor=white@0.7:x=w-text_w-{w / 30}:y=h-text_h-{w / 30}",
                path,
            ], "could not draw a local image", ct);
        }
        finally
        {
            File.Delete(textFile);
        }
    }

    /// <summary>A clip of <paramref name="seconds"/> pushing slowly into the still drawn for the prompt.</summary>
    public static async Task DrawClipAsync(string prompt, string aspectRatio, double seconds, string path, CancellationToken ct)
    {
        var (w, h) = SizeOf(aspectRatio);
        var still = Path.ChangeExtension(path, ".still.png");
        await DrawStillAsync(prompt, aspectRatio, still, ct);
        try
        {
            var frames = (int)Math.Ceiling(seconds * 25);
            await ProcessRunner.RunCheckedAsync("ffmpeg",
            [
                "-y", "-v", "error", "-i", still, "-vf",
                $"scale={w * 2}:{h * 2},zoompan=z='min(zoom+0.0012,1.2)':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={frames}:s={w}x{h}:fps=25,format=yuv420p",
                "-frames:v", frames.ToString(CultureInfo.InvariantCulture), "-c:v", "libx264", "-preset", "veryfast", "-crf", "24", path,
            ], "could not draw a local clip", ct);
        }
        finally
        {
            File.Delete(still);
        }
    }

    /// <summary>
    /// A local edit of a clip: "restyle" grades it warm and grainy, "inpaint" softens a band across the middle (where
    /// an object would be painted out), "extend" plays it forward then backward to twice its length.
    /// </summary>
    public static async Task EditClipAsync(string source, string operation, string aspectRatio, string path, CancellationToken ct)
    {
        var (w, h) = SizeOf(aspectRatio);
        var fit = $"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1";
        string[] graph = operation switch
        {
            "inpaint" => ["-filter_complex", $"[0:v]{fit},split[a][b];[b]crop=iw:ih/4:0:ih*3/8,gblur=sigma=18[band];[a][band]overlay=0:H*3/8,format=yuv420p[v]"],
            "extend" => ["-filter_complex", $"[0:v]{fit},split[a][b];[b]reverse[r];[a][r]concat=n=2:v=1:a=0,format=yuv420p[v]"],
            _ => ["-filter_complex", $"[0:v]{fit},eq=saturation=1.25:contrast=1.08,colorbalance=rs=0.08:bs=-0.08,noise=alls=8:allf=t,format=yuv420p[v]"],
        };
        await ProcessRunner.RunCheckedAsync("ffmpeg",
            ["-y", "-v", "error", "-t", "20", "-i", source, .. graph, "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "24", path], "could not edit the clip locally", ct);
    }

    /// <summary>
    /// Image-to-video drawn locally: a clip of <paramref name="seconds"/> made FROM <paramref name="source"/> (filled to the
    /// aspect), pushing in while it pans slowly across, so a chain of image → clip shows its own image moving.
    /// </summary>
    public static async Task AnimateStillAsync(string source, string aspectRatio, double seconds, string path, CancellationToken ct)
    {
        var (w, h) = SizeOf(aspectRatio);
        var frames = (int)Math.Ceiling(seconds * 25);
        await ProcessRunner.RunCheckedAsync("ffmpeg",
        [
            "-y", "-v", "error", "-i", source, "-vf",
            $"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},setsar=1," +
            $"zoompan=z='min(zoom+0.0015,1.25)':x='(iw-iw/zoom)*on/{frames}':y='ih/2-(ih/zoom/2)':d={frames}:s={w}x{h}:fps=25,format=yuv420p",
            "-frames:v", frames.ToString(CultureInfo.InvariantCulture), "-c:v", "libx264", "-preset", "veryfast", "-crf", "24", path,
        ], "could not animate the image locally", ct);
    }

    /// <summary>
    /// An image edit drawn locally: <paramref name="source"/> filled to the aspect, its colours turned by an angle the
    /// prompt picks, with the prompt captioned along the bottom: visibly the input image, visibly edited.
    /// </summary>
    public static async Task DeriveStillAsync(string source, string prompt, string aspectRatio, string path, CancellationToken ct)
    {
        var (w, h) = SizeOf(aspectRatio);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prompt));
        var textFile = path + ".txt";
        await File.WriteAllTextAsync(textFile, Wrap(prompt, Math.Max(12, w / 30)), ct);
        try
        {
            await ProcessRunner.RunCheckedAsync("ffmpeg",
            [
                "-y", "-v", "error", "-i", source, "-frames:v", "1", "-vf",
                $"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,hue=h={30 + hash[0] % 300}:s=1.2,eq=contrast=1.06," +
                $"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf:textfile={textFile}:fontsize={w / 24}:fontcolor=white" +
                $":box=1:boxcolor=black@0.45:boxborderw={w / 50}:x=(w-text_w)/2:y=h-text_h-{h / 12}," +
                $"drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text='local edit':fontsize={w / 40}:fontcolor=white@0.7:x={w / 30}:y={w / 30}",
                path,
            ], "could not edit the image locally", ct);
        }
        finally
        {
            File.Delete(textFile);
        }
    }

    /// <summary>
    /// An instrumental bed drawn locally (the offline stand-in for Suno): a I–V–vi–IV progression of soft sine chords, two
    /// seconds each, over a root bass and a quiet kick on every beat (120 bpm), faded in and out, <paramref name="seconds"/>
    /// long, as MP3. The key comes from the prompt, so the same prompt gives the same bed; nothing is downloaded.
    /// </summary>
    public static async Task DrawMusicBedAsync(string prompt, double seconds, string path, CancellationToken ct)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(prompt));
        var root = 220 * Math.Pow(2, hash[0] % 5 / 12.0); // A3 to C#4
        string F(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
        // The chord of bar floor(t/2): root offset and third in semitones; each bar swells in and eases out so chord changes do not click.
        const string Offset = "if(eq(mod(floor(t/2),4),0),0,if(eq(mod(floor(t/2),4),1),7,if(eq(mod(floor(t/2),4),2),9,5)))";
        const string Third = "if(eq(mod(floor(t/2),4),2),3,4)";
        const string Swell = "(1-exp(-mod(t,2)*6))*min(1,(2-mod(t,2))*6)";
        string Tone(string semitones, double octave, double gain) =>
            $"{F(gain)}*sin(2*PI*{F(root * octave)}*pow(2,({semitones})/12)*t)";
        var chord = $"({Tone(Offset, 1, 0.10)}+{Tone($"{Offset}+{Third}", 1, 0.08)}+{Tone($"{Offset}+7", 1, 0.08)}+{Tone(Offset, 0.25, 0.16)})*{Swell}";
        const string Kick = "0.22*sin(2*PI*50*mod(t,0.5))*exp(-mod(t,0.5)*14)";
        var fadeOut = Math.Max(0, seconds - 2);
        await ProcessRunner.RunCheckedAsync("ffmpeg",
        [
            "-y", "-v", "error", "-f", "lavfi", "-i", $"aevalsrc='{chord}+{Kick}':s=44100:d={F(seconds)}",
            "-af", $"afade=t=in:d=1.5,afade=t=out:st={F(fadeOut)}:d={F(Math.Min(2, seconds))},aformat=channel_layouts=stereo",
            "-c:a", "libmp3lame", "-b:a", "128k", path,
        ], "could not draw a local music bed", ct);
    }

    private static string Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(40))
        {
            if (line.Length > 0 && line.Length + word.Length + 1 > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            line.Append(line.Length > 0 ? " " : "").Append(word);
        }
        if (line.Length > 0) lines.Add(line.ToString());
        return string.Join('\n', lines.Take(8));
    }
}
