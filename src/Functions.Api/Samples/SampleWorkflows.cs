using System.Text.Json;
using FentaWeb.Domain.Assets;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Media;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Workflows;
using FentaWeb.Runs.Assets;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Samples;

/// <summary>The sample workflows of seed 000, put into the demo org so ./run.sh --demo has something to run.</summary>
public static class SampleWorkflows
{
    public const string DailyNewsShorts = "Daily News Shorts";
    public const string ProductReview = "Product Review";
    public const string AiStory = "AI Story with Generated Clips";

    /// <summary>Seed 002's graph exactly as written.</summary>
    public const string DailyNewsGraph = """
        {"nodes": [
          {"id": "n1", "type": "Input.Stock", "params": {"provider": "pexels", "query": "breaking news city"}, "position": {"x": 100, "y": 100}},
          {"id": "n2", "type": "Script.Generate", "params": {"genre": "news", "lang": "en", "prompt": "30s punchy headline + 3 beats"}, "position": {"x": 100, "y": 250}},
          {"id": "n3", "type": "Voice.TTS", "params": {"voice": "alloy_en", "speed": 1.02}, "position": {"x": 100, "y": 400}},
          {"id": "n4", "type": "Subtitle.Auto", "params": {"style": "clean_box"}, "position": {"x": 300, "y": 400}},
          {"id": "n5", "type": "Edit.Timeline", "params": {"template_id": "tmpl_shorts_v1"}, "position": {"x": 500, "y": 300}},
          {"id": "n6", "type": "Output.Render", "params": {"profile": "9x16_1080p"}, "position": {"x": 700, "y": 300}}],
         "edges": [{"id": "e1", "from": "n1", "to": "n5"}, {"id": "e2", "from": "n2", "to": "n3"}, {"id": "e3", "from": "n3", "to": "n4"},
                   {"id": "e4", "from": "n4", "to": "n5"}, {"id": "e5", "from": "n5", "to": "n6"}]}
        """;

    /// <summary>Seed 000's "Product Review": Upload → Timeline → Render → Download, with Script → TTS → Subtitles.</summary>
    internal const string ProductReviewGraph = """
        {"nodes": [
          {"id": "upload", "type": "Input.Upload", "params": {"asset_ids": ["{{clip}}"]}},
          {"id": "script", "type": "Script.Generate", "params": {"genre": "review", "prompt": "{{product}}", "duration_seconds": 20}},
          {"id": "voice", "type": "Voice.TTS"},
          {"id": "subs", "type": "Subtitle.Auto", "params": {"style": "karaoke_bounce"}},
          {"id": "timeline", "type": "Edit.Timeline", "params": {"template_id": "tmpl_karaoke_square_v1", "transition": "cut"}},
          {"id": "render", "type": "Output.Render", "params": {"profile": "1x1_1080p"}},
          {"id": "download", "type": "Output.Download"}],
         "edges": [{"from": "upload", "to": "timeline"}, {"from": "script", "to": "voice"}, {"from": "voice", "to": "subs"},
                   {"from": "subs", "to": "timeline"}, {"from": "timeline", "to": "render"}, {"from": "render", "to": "download"}]}
        """;

    /// <summary>
    /// Seed 000's "AI Story with Generated Clips": the script's scenes fan out to one generated clip each (KIE.ai
    /// when configured, else the local generator), fanning back in to the timeline in scene order.
    /// </summary>
    internal const string AiStoryGraph = """
        {"nodes": [
          {"id": "script", "type": "Script.Generate", "params": {"genre": "story", "prompt": "{{topic}}", "duration_seconds": 20, "scenes": 3}},
          {"id": "clips", "type": "Input.KAI.GenerateVideo", "params": {"model": "veo-3.1-fast", "prompt": "cinematic, soft light", "duration": 6}},
          {"id": "voice", "type": "Voice.TTS"},
          {"id": "subs", "type": "Subtitle.Auto", "params": {"style": "bold_outline"}},
          {"id": "timeline", "type": "Edit.Timeline", "params": {"template_id": "tmpl_shorts_v1"}},
          {"id": "render", "type": "Output.Render", "params": {"profile": "9x16_1080p"}}],
         "edges": [{"from": "script", "to": "clips"}, {"from": "script", "to": "voice"}, {"from": "voice", "to": "subs"},
                   {"from": "clips", "to": "timeline"}, {"from": "subs", "to": "timeline"}, {"from": "timeline", "to": "render"}]}
        """;

    public static async Task SeedAsync(FentaDb db, AssetStore assets, string orgId, string userId, DateTimeOffset now, CancellationToken ct)
    {
        var existing = await db.Workflows.Where(w => w.OrgId == orgId && w.DeletedAt == null).Select(w => w.Name).ToListAsync(ct);
        if (!existing.Contains(DailyNewsShorts))
            Add(db, orgId, userId, now, DailyNewsShorts, "Stock footage, a news script, voice and boxed subtitles on the Shorts template.", DailyNewsGraph, "{}");
        if (!existing.Contains(AiStory))
            Add(db, orgId, userId, now, AiStory, "Three AI-generated clips, one per scene, under a story narration.", AiStoryGraph,
                JsonSerializer.Serialize(new { topic = "a lighthouse keeper who finds a message in a bottle" }));
        if (!existing.Contains(ProductReview))
        {
            var clip = await SampleClipAsync(assets, orgId, userId, ct);
            Add(db, orgId, userId, now, ProductReview, "An uploaded product clip with a review voice-over and karaoke captions.", ProductReviewGraph,
                JsonSerializer.Serialize(new { clip = clip.Id, product = "the Aurora desk lamp" }));
        }
        else
        {
            await RenewSampleClipAsync(db, assets, orgId, userId, now, ct);
        }
    }

    /// <summary>
    /// A demo org seeded when asset bytes still lived in a local folder has lost its sample clip (migration 0015 retired
    /// such assets): the sample gets a fresh clip (a new version of the workflow), so ./run.sh --demo review keeps working.
    /// </summary>
    private static async Task RenewSampleClipAsync(FentaDb db, AssetStore assets, string orgId, string userId, DateTimeOffset now, CancellationToken ct)
    {
        var workflow = await db.Workflows.FirstOrDefaultAsync(w => w.OrgId == orgId && w.Name == ProductReview && w.DeletedAt == null, ct);
        if (workflow?.Variables is not { ValueKind: JsonValueKind.Object } variables || !variables.TryGetProperty("clip", out var clipId)) return;
        var clipInBlob = await db.Assets.AnyAsync(a => a.Id == clipId.GetString() && a.OrgId == orgId && a.DeletedAt == null && a.StorageProvider == Asset.BlobProvider, ct);
        if (clipInBlob) return;
        var clip = await SampleClipAsync(assets, orgId, userId, ct);
        var renewed = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(variables.GetRawText())!;
        renewed["clip"] = JsonSerializer.SerializeToElement(clip.Id);
        workflow.Variables = JsonSerializer.SerializeToElement(renewed);
        db.WorkflowVersions.Add(workflow.Snapshot(userId, now));
    }

    private static void Add(FentaDb db, string orgId, string userId, DateTimeOffset now, string name, string description, string graph, string variables)
    {
        var workflow = new Workflow
        {
            Id = Ids.New("wf"), OrgId = orgId, Name = name, Description = description, Status = "production",
            Graph = JsonSerializer.Deserialize<WorkflowGraph>(graph, FentaJson.Options)!, Variables = JsonDocument.Parse(variables).RootElement.Clone(),
            CreatedBy = userId, CreatedAt = now, UpdatedAt = now,
        };
        GraphValidator.Validate(workflow.Graph);
        db.Workflows.Add(workflow);
        db.WorkflowVersions.Add(workflow.Snapshot(userId, now));
    }

    /// <summary>A stand-in "product clip" drawn by ffmpeg, uploaded as the demo user's asset.</summary>
    private static async Task<Asset> SampleClipAsync(AssetStore assets, string orgId, string userId, CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"fenta-sample-{Guid.NewGuid():N}.mp4");
        try
        {
            await ProcessRunner.RunCheckedAsync("ffmpeg", ["-y", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=720x720:rate=25", "-t", "6",
                "-vf", "hue=s=0.6,format=yuv420p", "-c:v", "libx264", "-preset", "ultrafast", path], "could not draw the sample clip", ct);
            return await assets.AddFileAsync(new NewAsset(orgId, "upload", "video/mp4", "product-clip.mp4", CreatedBy: userId), path, ct);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
