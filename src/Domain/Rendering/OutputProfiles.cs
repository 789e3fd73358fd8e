namespace FentaWeb.Domain.Rendering;

public sealed record OutputProfile(string Id, string Aspect, int Width, int Height);

/// <summary>The render profiles a workflow can ask for: four aspects, each at 1080p and 720p.</summary>
public static class OutputProfiles
{
    public static readonly IReadOnlyList<OutputProfile> All =
    [
        new("9x16_1080p", "9:16", 1080, 1920), new("9x16_720p", "9:16", 720, 1280),
        new("16x9_1080p", "16:9", 1920, 1080), new("16x9_720p", "16:9", 1280, 720),
        new("1x1_1080p", "1:1", 1080, 1080), new("1x1_720p", "1:1", 720, 720),
        new("4x5_1080p", "4:5", 1080, 1350), new("4x5_720p", "4:5", 720, 900),
    ];

    public static readonly IReadOnlyList<string> Aspects = ["9:16", "16:9", "1:1", "4:5"];

    public static OutputProfile? Find(string id) => All.FirstOrDefault(p => p.Id == id);
}

/// <summary>
/// Encoder effort of a render. <c>preview</c> is for drafts: the profile's aspect at 540 px on its short side, the
/// fastest x264 preset and no thumbnail, metered at a quarter of a render second per second of video (it costs the
/// renderer about that: a quarter of the pixels at the cheapest preset).
/// </summary>
public static class RenderQualities
{
    public const string Preview = "preview";
    public const string Standard = "standard";

    public static readonly IReadOnlyList<string> All = [Preview, "draft", Standard, "high"];

    private const int PreviewShortSide = 540;
    private const decimal PreviewMeterFactor = 0.25m;

    /// <summary>The canvas a render of <paramref name="profile"/> at <paramref name="quality"/> has.</summary>
    public static OutputProfile Canvas(OutputProfile profile, string quality)
    {
        if (quality != Preview) return profile;
        var scale = (double)PreviewShortSide / Math.Min(profile.Width, profile.Height);
        static int Even(double value) => (int)Math.Round(value / 2) * 2;
        return profile with { Width = Even(profile.Width * scale), Height = Even(profile.Height * scale) };
    }

    /// <summary>Render seconds metered (and reserved, and estimated) for <paramref name="videoSeconds"/> of video at <paramref name="quality"/>.</summary>
    public static decimal MeteredSeconds(string quality, double videoSeconds) =>
        decimal.Round((decimal)videoSeconds * (quality == Preview ? PreviewMeterFactor : 1m), 2);
}
