using FentaWeb.Simulators;

// `platforms <first port>`: the publishing platforms' simulators as local sandboxes (./run.sh starts them when no
// platform credentials are set): YouTube, TikTok and Instagram on three consecutive loopback ports. Prints the settings
// that point the product at them (KEY=VALUE lines, then "ready") and serves until stopped.
if (args is not ["platforms", var portText] || !int.TryParse(portText, out var port))
{
    Console.Error.WriteLine("usage: FentaWeb.Simulators platforms <first port>");
    return 2;
}
await using var youtube = new YouTubeSimulator { ListenUrl = $"http://127.0.0.1:{port}" };
await using var tiktok = new TikTokSimulator { ListenUrl = $"http://127.0.0.1:{port + 1}", Audited = true };
await using var instagram = new InstagramSimulator { ListenUrl = $"http://127.0.0.1:{port + 2}" };
await youtube.StartAsync();
await tiktok.StartAsync();
await instagram.StartAsync();
foreach (var (key, value) in youtube.Settings().Concat(tiktok.Settings()).Concat(instagram.Settings()))
    Console.WriteLine($"{key}={value}");
Console.WriteLine("ready");
// Serves until a signal (TERM, Ctrl-C) stops the hosts; then returns, and they are disposed.
await Task.WhenAny(youtube.Stopping, tiktok.Stopping, instagram.Stopping);
return 0;
