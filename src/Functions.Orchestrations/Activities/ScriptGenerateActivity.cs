using FentaWeb.Domain.Engine;
using FentaWeb.Domain.Scripts;

namespace FentaWeb.Orchestrations.Activities;

public sealed record ScriptGenerateArgs(string Prompt, string Genre, string Lang, int DurationSeconds, int Scenes);

/// <summary>Script.Generate: the LLM when FENTA_LLM_* is configured, otherwise the offline template writer.</summary>
public sealed class ScriptGenerateActivity(IScriptWriter writer) : NodeActivity<ScriptGenerateArgs>
{
    public override string NodeType => "Script.Generate";

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, ScriptGenerateArgs args, CancellationToken ct)
    {
        var script = await writer.WriteAsync(new ScriptRequest(args.Prompt, args.Genre, args.Lang, args.DurationSeconds, args.Scenes), ct);
        await context.LogAsync("info", $"Script \"{script.Title}\": {script.Scenes.Count} scenes, {script.WordCount} words ({script.Source})", ct: ct);
        return ActivityResult.Done(script);
    }
}
