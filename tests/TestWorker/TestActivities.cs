using System.Text.Json;
using System.Text.RegularExpressions;
using FentaWeb.Runs.Nodes;
using FentaWeb.Runs;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace FentaWeb.TestWorker;

/// <summary>
/// Test doubles that stand in for real node activities so the engine's control flow can be proven on real node
/// types. Each reads directives from its text param (<c>scenes=1000</c>, <c>sleep=300</c>, <c>fail=2</c>,
/// <c>failperm</c>, <c>failperm-first-job</c>, <c>block</c>, <c>hold=30000</c>, <c>wait=2</c>, <c>noop</c>) and records every execution in
/// <c>test_executions</c>, so tests can count runs per item and per worker.
/// </summary>
public static partial class TestActivities
{
    public const string Schema = """
        CREATE TABLE IF NOT EXISTS test_executions (
          id bigint GENERATED ALWAYS AS IDENTITY, job_id text, node_id text, item_index int, attempt int,
          worker int, started_at timestamptz, finished_at timestamptz DEFAULT clock_timestamp());
        CREATE TABLE IF NOT EXISTS test_side_effects (id bigint GENERATED ALWAYS AS IDENTITY, job_id text, node_id text, item_index int);
        """;

    public static IServiceCollection AddTestActivities(this IServiceCollection services) => services
        .AddNodeActivity<ScriptDouble>()
        .AddNodeActivity<TransformDouble>()
        .AddNodeActivity<StockDouble>()
        .AddNodeActivity<ImageDouble>()
        .AddNodeActivity<VideoDouble>()
        .AddNodeActivity<VoiceDouble>()
        .AddNodeActivity<TimelineDouble>();

    [GeneratedRegex(@"(\w[\w-]*)(?:=(\d+))?")]
    private static partial Regex Directive();

    public static Dictionary<string, int> Directives(string? text) =>
        Directive().Matches(text ?? "").ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Success ? int.Parse(m.Groups[2].Value) : 1);

    /// <summary>The common behaviour: record the run, obey sleep/fail/block directives, then produce the output.</summary>
    public abstract class Double(NpgsqlDataSource db) : INodeActivity
    {
        public abstract string NodeType { get; }
        protected abstract string DirectiveParam { get; }

        public async Task<ActivityResult> ExecuteAsync(ActivityContext context, CancellationToken ct)
        {
            var started = DateTimeOffset.UtcNow;
            await StartingAsync(context, ct);
            var d = Directives(DirectivesOf(context));
            if (d.TryGetValue("sleep", out var sleep)) await Task.Delay(sleep, ct);
            if (d.ContainsKey("block")) await Task.Delay(Timeout.Infinite, ct);
            if (d.ContainsKey("failperm"))
                return new ActivityResult.Failed("TEST_PERMANENT", $"{context.NodeId} always fails", Permanent: true);
            if (d.ContainsKey("failperm-first-job") && await IsFirstJobAsync(context.JobId, ct))
                return new ActivityResult.Failed("TEST_PERMANENT", $"{context.NodeId} fails in the first job", Permanent: true);
            if (d.TryGetValue("wait", out var waits) && context.Attempt == 1 && await WaitsSoFarAsync(context, ct) < waits)
                return new ActivityResult.RetryLater(TimeSpan.FromMilliseconds(200), "waiting on purpose");
            var result = await ProduceAsync(context, d, ct);
            // The engine bench runs "noop" activities: no bookkeeping of its own to measure.
            if (!d.ContainsKey("noop")) await RecordAsync(context, started, ct);
            if (d.TryGetValue("fail", out var failures) && context.Attempt <= failures)
                return new ActivityResult.Failed("TEST_FLAKY", $"{context.NodeId} attempt {context.Attempt} fails on purpose");
            return result;
        }

        protected abstract Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> directives, CancellationToken ct);

        protected virtual string? DirectivesOf(ActivityContext context) =>
            context.Params.TryGetValue(DirectiveParam, out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;

        /// <summary>Before anything else; a double that needs to say it has begun does it here.</summary>
        protected virtual Task StartingAsync(ActivityContext context, CancellationToken ct) => Task.CompletedTask;

        protected NpgsqlDataSource Db => db;

        private async Task RecordAsync(ActivityContext context, DateTimeOffset started, CancellationToken ct)
        {
            await using var cmd = db.CreateCommand(
                "INSERT INTO test_executions (job_id, node_id, item_index, attempt, worker, started_at) VALUES ($1, $2, $3, $4, $5, $6)");
            cmd.Parameters.Add(new() { Value = context.JobId });
            cmd.Parameters.Add(new() { Value = context.NodeId });
            cmd.Parameters.Add(new() { Value = context.ItemIndex });
            cmd.Parameters.Add(new() { Value = context.Attempt });
            cmd.Parameters.Add(new() { Value = Environment.ProcessId });
            cmd.Parameters.Add(new() { Value = started });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        /// <summary>How many times this item asked to wait: its "retry later"s are counted in test_side_effects.</summary>
        private async Task<long> WaitsSoFarAsync(ActivityContext context, CancellationToken ct)
        {
            await using var cmd = db.CreateCommand("""
                WITH waited AS (INSERT INTO test_side_effects (job_id, node_id, item_index) VALUES ($1, $2 || ':wait', $3) RETURNING 1)
                SELECT count(*) FROM test_side_effects WHERE job_id = $1 AND node_id = $2 || ':wait' AND item_index = $3
                """);
            cmd.Parameters.Add(new() { Value = context.JobId });
            cmd.Parameters.Add(new() { Value = context.NodeId });
            cmd.Parameters.Add(new() { Value = context.ItemIndex });
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        private async Task<bool> IsFirstJobAsync(string jobId, CancellationToken ct)
        {
            await using var cmd = db.CreateCommand("SELECT parent_job_id IS NULL FROM jobs WHERE id = $1");
            cmd.Parameters.Add(new() { Value = jobId });
            return (bool)(await cmd.ExecuteScalarAsync(ct))!;
        }
    }

    public sealed class ScriptDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Script.Generate";
        protected override string DirectiveParam => "prompt";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct)
        {
            var scenes = Enumerable.Range(0, d.GetValueOrDefault("scenes", 3)).Select(i => new { index = i, text = $"scene {i}" });
            return Task.FromResult<ActivityResult>(ActivityResult.Done(new { title = "test", scenes }));
        }
    }

    public sealed class TransformDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Script.Transform";
        protected override string DirectiveParam => "instructions";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(new ActivityResult.Succeeded(context.Inputs["script"]));
    }

    /// <summary>One "asset" per item: <c>stock:&lt;node&gt;:&lt;item&gt;</c>, so fan-in order is visible.</summary>
    public sealed class StockDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Input.Stock";
        protected override string DirectiveParam => "query";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(ActivityResult.Done(new[] { $"stock:{context.NodeId}:{context.ItemIndex}" }));
    }

    public sealed class ImageDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Input.KAI.GenerateImage";
        protected override string DirectiveParam => "prompt";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(ActivityResult.Done(new[] { $"image:{context.NodeId}:{context.ItemIndex}" }));
    }

    /// <summary>
    /// An external side effect done once: the first execution inserts a side effect and records its id before
    /// holding (the "generation" in flight); a resumed execution finds the recorded id and does not repeat it.
    /// </summary>
    public sealed class VideoDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Input.KAI.GenerateVideo";
        protected override string DirectiveParam => "prompt";

        protected override async Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct)
        {
            if (context.ExternalRef is null)
            {
                await using var cmd = Db.CreateCommand("INSERT INTO test_side_effects (job_id, node_id, item_index) VALUES ($1, $2, $3) RETURNING id");
                cmd.Parameters.Add(new() { Value = context.JobId });
                cmd.Parameters.Add(new() { Value = context.NodeId });
                cmd.Parameters.Add(new() { Value = context.ItemIndex });
                var id = (long)(await cmd.ExecuteScalarAsync(ct))!;
                await context.RecordExternalRefAsync($"gen-{id}", ct);
                if (d.TryGetValue("hold", out var hold)) await Task.Delay(hold, ct);
            }
            return ActivityResult.Done(new[] { $"video:{context.ExternalRef}" });
        }
    }

    public sealed class VoiceDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Voice.TTS";
        protected override string DirectiveParam => "voice";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(ActivityResult.Done(new { audio = $"voice:{context.NodeId}" }));
    }

    /// <summary>
    /// The render container's Output.Render: notes every start in <c>test_side_effects</c> (node id <c>&lt;node&gt;:started</c>)
    /// before its directives run, so a test can kill the renderer mid-render; a finished render is a test execution.
    /// Its params are all choices, so its directives come from the process: FENTA_TEST_RENDER.
    /// </summary>
    public sealed class RenderDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Output.Render";
        protected override string DirectiveParam => "";
        protected override string? DirectivesOf(ActivityContext context) => Environment.GetEnvironmentVariable("FENTA_TEST_RENDER");

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(ActivityResult.Done(new { video_asset_id = $"render:{context.NodeId}:{context.ItemIndex}" }));

        protected override async Task StartingAsync(ActivityContext context, CancellationToken ct)
        {
            await using var cmd = Db.CreateCommand("INSERT INTO test_side_effects (job_id, node_id, item_index) VALUES ($1, $2 || ':started', $3)");
            cmd.Parameters.Add(new() { Value = context.JobId });
            cmd.Parameters.Add(new() { Value = context.NodeId });
            cmd.Parameters.Add(new() { Value = context.ItemIndex });
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    /// <summary>Echoes what it received, so tests can see fan-in order and both branches' values.</summary>
    public sealed class TimelineDouble(NpgsqlDataSource db) : Double(db)
    {
        public override string NodeType => "Edit.Timeline";
        protected override string DirectiveParam => "template_id";

        protected override Task<ActivityResult> ProduceAsync(ActivityContext context, Dictionary<string, int> d, CancellationToken ct) =>
            Task.FromResult<ActivityResult>(ActivityResult.Done(context.Inputs));
    }
}
