using System.Text.Json;
using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Scripts;
using FentaWeb.Integrations.OpenAi;

namespace FentaWeb.Runs.Nodes;

public sealed record ScriptTransformArgs(string Operation, string? TargetLang, int? TargetDurationSeconds, string? Instructions);

/// <summary>
/// Script.Transform: translate, compress or adapt with the LLM when one is configured. Offline, compress drops
/// sentences to fit and adapt rewrites the topic in the genre the instructions name; translation needs the LLM.
/// </summary>
public sealed class ScriptTransformActivity(IScriptWriter writer, Npgsql.NpgsqlDataSource db) : NodeActivity<ScriptTransformArgs>
{
    private static readonly string[] Genres = ["news", "story", "review", "education", "promo", "comedy", "motivation"];

    public override string NodeType => "Script.Transform";

    protected override Spend Expected(ActivityContext context, ScriptTransformArgs args)
    {
        if (writer is not ChatScriptWriter) return Spend.None;
        var (script, targetWords) = Read(context, args);
        return new Spend(Estimates.RewriteTokens(ScriptPrompts.Instruction(args.Operation, args.TargetLang, targetWords, args.Instructions),
            script.WordCount, script.Scenes.Count, targetWords), 0, 0);
    }

    private static (Script Script, int TargetWords) Read(ActivityContext context, ScriptTransformArgs args)
    {
        var script = context.Inputs["script"].Deserialize<Script>(FentaJson.Options)!;
        return (script, ScriptPrompts.TargetWords(script.WordCount, args.Operation, args.TargetDurationSeconds));
    }

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, ScriptTransformArgs args, CancellationToken ct)
    {
        var (script, targetWords) = Read(context, args);
        if (writer is ChatScriptWriter llm)
        {
            var instruction = ScriptPrompts.Instruction(args.Operation, args.TargetLang, targetWords, args.Instructions);
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
