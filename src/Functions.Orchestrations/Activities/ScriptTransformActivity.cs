using System.Text.Json;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Scripts;
using FentaWeb.Orchestrations.Providers;

namespace FentaWeb.Orchestrations.Activities;

public sealed record ScriptTransformArgs(string Operation, string? TargetLang, int? TargetDurationSeconds, string? Instructions);

/// <summary>
/// Script.Transform: translate, compress or adapt with the LLM when one is configured. Offline, compress drops
/// sentences to fit and adapt rewrites the topic in the genre the instructions name; translation needs the LLM.
/// </summary>
public sealed class ScriptTransformActivity(IScriptWriter writer, Npgsql.NpgsqlDataSource db) : NodeActivity<ScriptTransformArgs>
{
    private static readonly string[] Genres = ["news", "story", "review", "education", "promo", "comedy", "motivation"];

    public override string NodeType => "Script.Transform";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, ScriptTransformArgs args, CancellationToken ct)
    {
        var script = context.Inputs["script"].Deserialize<Script>(FentaJson.Options)!;
        var targetWords = args.TargetDurationSeconds is { } seconds ? (int)(seconds * ScriptRequest.WordsPerSecond) : (int)(script.WordCount * 0.7);
        if (writer is ChatScriptWriter llm)
        {
            var instruction = args.Operation switch
            {
                "translate" => $"Translate the script into {args.TargetLang}. Keep the scenes, their order and meaning; translate search terms too.",
                "compress" => $"Shorten the script to about {targetWords} words of narration. Keep the hook, the scenes and the ending.",
                _ => $"Adapt the script: {args.Instructions}. Keep the number of scenes.",
            };
            var (transformed, tokens) = await llm.TransformAsync(script, instruction, args.TargetLang ?? script.Lang, ct);
            await ScriptGenerateActivity.MeterAsync(db, context, tokens, ct);
            return ActivityResult.Done(transformed);
        }
        return args.Operation switch
        {
            "compress" => ActivityResult.Done(ScriptCompressor.Compress(script, targetWords)),
            "adapt" when Genres.FirstOrDefault(g => (args.Instructions ?? "").Contains(g, StringComparison.OrdinalIgnoreCase)) is { } genre =>
                ActivityResult.Done(await writer.WriteAsync(new ScriptRequest(script.Title, genre, script.Lang,
                    (int)Math.Ceiling(script.WordCount / ScriptRequest.WordsPerSecond), script.Scenes.Count), ct)),
            "adapt" => new ActivityResult.Failed("ADAPT_NEEDS_LLM",
                $"Offline, adapt can only retarget a genre ({string.Join(", ", Genres)}); other instructions need an LLM (set FENTA_LLM_BASE_URL).", Permanent: true),
            _ => new ActivityResult.Failed("TRANSLATE_NEEDS_LLM", "Translation needs an LLM: set FENTA_LLM_BASE_URL and FENTA_LLM_API_KEY.", Permanent: true),
        };
    }
}
