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
