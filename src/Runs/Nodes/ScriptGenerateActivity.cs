using FentaWeb.Domain.Billing;
using FentaWeb.Domain.Scripts;
using FentaWeb.Integrations.OpenAi;
using Npgsql;

namespace FentaWeb.Runs.Nodes;

/// <param name="Script">A given script, passed through as is (no LLM).</param>
public sealed record ScriptGenerateArgs(string? Prompt, string Genre, string Lang, int DurationSeconds, int Scenes, GivenScript? Script = null);

/// <summary>Script.Generate: the LLM when FENTA_LLM_* is configured (its tokens metered), otherwise the offline template writer.</summary>
public sealed class ScriptGenerateActivity(IScriptWriter writer, NpgsqlDataSource db) : NodeActivity<ScriptGenerateArgs>
{
    public override string NodeType => "Script.Generate";

    protected override Spend Expected(ActivityContext context, ScriptGenerateArgs args) =>
        writer is ChatScriptWriter && args.Script is null ? new Spend(Estimates.WriteTokens(RequestOf(args)), 0, 0) : Spend.None;

    private static ScriptRequest RequestOf(ScriptGenerateArgs args) => new(args.Prompt ?? "", args.Genre, args.Lang, args.DurationSeconds, args.Scenes);

    protected override async Task<ActivityResult> ExecuteAsync(ActivityContext context, ScriptGenerateArgs args, CancellationToken ct)
    {
        var request = RequestOf(args);
        Script script;
        if (args.Script is { } given) script = given.ToScript(args.Lang, args.Genre);
        else if (writer is ChatScriptWriter llm)
        {
            (script, var tokens) = await llm.WriteMeteredAsync(request, ct);
            await MeterAsync(db, context, tokens, ct);
        }
        else script = await writer.WriteAsync(request, ct);
        await context.LogAsync("info", $"Script \"{script.Title}\": {script.Scenes.Count} scenes, {script.WordCount} words ({script.Source})", ct: ct);
        return ActivityResult.Done(script);
    }

    public static Task MeterAsync(NpgsqlDataSource db, ActivityContext context, TokenUsage tokens, CancellationToken ct) =>
        Metering.RecordTokensAsync(db, context.JobId, context.NodeId, context.ItemIndex, tokens.Prompt, tokens.Output, tokens.Model, ct);
}
