using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Templates;

namespace FentaWeb.Domain.Tests;

public class TemplateValidatorTests
{
    private const string SeedSpec = """
    {"tracks": [{"type": "video", "id": "main", "z": 0},
                {"type": "subtitle", "id": "subs", "z": 10, "style": {"font": "Inter", "size": 44, "shadow": true, "bg": "box", "position": "bottom", "margin": 120}},
                {"type": "overlay", "id": "top_text", "z": 20}],
     "overlays": [{"track": "top_text", "from": 0, "to": 3, "content": {"type": "text", "text": "BREAKING STORY", "pos": "top", "anim": "slide-down"}}],
     "placeholders": {"cover": "image", "logo": "image_optional", "music": "audio_optional"},
     "rules": {"cuts": "auto_by_beats_or_speech", "min_scene": 1.2, "max_scene": 4.0},
     "subtitle_style_presets": ["karaoke_bounce", "clean_box"]}
    """;

    private static IReadOnlyList<FieldError> Check(string aspect, string resolution, string spec)
    {
        var errors = new FieldErrors();
        TemplateValidator.Validate(aspect, resolution, JsonSerializer.Deserialize<TemplateSpec>(spec, FentaJson.Options)!, errors);
        return errors.All;
    }

    [Fact]
    public void SeedTemplateSpecIsValid() => Assert.Empty(Check("9:16", "1080x1920", SeedSpec));

    [Theory]
    [InlineData("9:16", "1920x1080", "resolution")]
    [InlineData("3:2", "1080x720", "aspect")]
    [InlineData("1:1", "big", "resolution")]
    [InlineData("1:1", "9000x9000", "resolution")]
    public void AspectAndResolutionMustAgree(string aspect, string resolution, string field) =>
        Assert.Equal(field, Assert.Single(Check(aspect, resolution, SeedSpec)).Field);

    [Fact]
    public void EachSpecProblemNamesItsField()
    {
        var errors = Check("9:16", "1080x1920", """
        {"tracks": [{"type": "video", "id": "main"}, {"type": "hologram", "id": "main", "z": 500},
                    {"type": "subtitle", "id": "subs", "style": {"size": 2, "bg": "glow", "position": "left", "color": "red"}}],
         "overlays": [{"track": "subs", "from": 5, "to": 2, "content": {"type": "text", "text": "", "anim": "spin"}},
                      {"track": "nope", "from": 0, "to": 1, "content": {"type": "image", "placeholder": "music"}}],
         "placeholders": {"cover": "picture"},
         "rules": {"cuts": "random", "min_scene": 5, "max_scene": 2},
         "subtitle_style_presets": ["clean_box", "clean_box", "sparkle"]}
        """);
        string[] expected =
        [
            "spec.tracks[1].type", "spec.tracks[1].id", "spec.tracks[1].z",
            "spec.tracks[2].style.size", "spec.tracks[2].style.bg", "spec.tracks[2].style.position", "spec.tracks[2].style.color",
            "spec.placeholders.cover",
            "spec.overlays[0].track", "spec.overlays[0].to", "spec.overlays[0].content.text", "spec.overlays[0].content.anim",
            "spec.overlays[1].track", "spec.overlays[1].content.placeholder",
            "spec.rules.cuts", "spec.rules.max_scene",
            "spec.subtitle_style_presets[1]", "spec.subtitle_style_presets[2]",
        ];
        Assert.Equal(expected.Order(), errors.Select(e => e.Field).Order());
    }

    [Fact]
    public void TemplateWithoutVideoTrackIsRejected()
    {
        var error = Assert.Single(Check("1:1", "1080x1080", """{"tracks": [{"type": "audio", "id": "music"}]}"""));
        Assert.Equal("spec.tracks", error.Field);
    }
}
