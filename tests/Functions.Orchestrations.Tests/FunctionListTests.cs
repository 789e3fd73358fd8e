using System.Text.Json;
using FentaWeb.Orchestrations.Functions;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Runs.Kie;
using Microsoft.Extensions.Configuration;

namespace FentaWeb.Orchestrations.Tests;

/// <summary>
/// One function list, two hosts: what the Functions SDK wrote into the Function app's functions.metadata at build is
/// exactly what the local host runs, trigger for trigger.
/// </summary>
public class FunctionListTests
{
    /// <summary>Each function of the Function app by name: its trigger binding.</summary>
    private static Dictionary<string, JsonElement> Metadata()
    {
        // The test runs from tests/<project>/bin/<configuration>/net10.0; the app's build output mirrors that path.
        var bin = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = bin.Parent!.Name;
        var root = bin;
        while (!File.Exists(Path.Combine(root.FullName, "FentaWeb.sln"))) root = root.Parent!;
        var file = Path.Combine(root.FullName, "src", "Functions.Orchestrations", "bin", configuration, bin.Name, "functions.metadata");
        using var metadata = JsonDocument.Parse(File.ReadAllText(file));
        return metadata.RootElement.EnumerateArray().ToDictionary(
            f => f.GetProperty("name").GetString()!,
            f => f.GetProperty("bindings").EnumerateArray().Single(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal)).Clone());
    }

    /// <summary>What the local host runs: the Durable Task worker's orchestrators and activities, and the local trigger host's timers and queues.</summary>
    private static Dictionary<string, (string Trigger, string? Detail)> Local()
    {
        var local = new Dictionary<string, (string, string?)>();
        foreach (var type in RunTasks.Orchestrators) local.Add(type.Name, ("orchestrationTrigger", null));
        foreach (var type in RunTasks.Activities) local.Add(type.Name, ("activityTrigger", null));
        foreach (var trigger in LocalTriggers.All)
            local.Add(trigger.Name, trigger.Timer is { } timer ? ("timerTrigger", timer.Schedule) : ("queueTrigger", trigger.Queue!.QueueName));
        return local;
    }

    [Fact]
    public void TheFunctionAppAndTheLocalHostRunTheSameFunctionsWithTheSameTriggers()
    {
        var metadata = Metadata();
        var local = Local();

        Assert.Equal(local.Keys.Order(), metadata.Keys.Order());
        foreach (var (name, (trigger, detail)) in local)
        {
            var binding = metadata[name];
            Assert.Equal((name, trigger), (name, binding.GetProperty("type").GetString()));
            if (trigger == "timerTrigger") Assert.Equal((name, detail), (name, binding.GetProperty("schedule").GetString()));
            if (trigger == "queueTrigger") Assert.Equal((name, detail), (name, binding.GetProperty("queueName").GetString()));
        }
        // The background work the design names is all there.
        Assert.Superset(new HashSet<string> { "JobRun", "KieItem", "DeliverWebhook", "RenderResults", "Schedules", "WebhookDispatch", "Retention", "PausedJobs", "OverageReports" },
            local.Keys.ToHashSet());
    }

    [Fact]
    public void EveryTimerHasASixFieldScheduleOnceItsSettingsAreResolved()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["FENTA_WEBHOOK_SCHEDULE"] = "*/5 * * * * *", ["FENTA_PUBLICATION_STATS_SCHEDULE"] = "0 */10 * * * *" }).Build();
        var timers = LocalTriggers.All.Where(t => t.Timer is not null).ToList();

        Assert.Equal(6, timers.Count);
        foreach (var timer in timers)
        {
            var schedule = Cronos.CronExpression.TryParse(LocalTriggers.ResolveSchedule(timer.Timer!.Schedule, settings), Cronos.CronFormat.IncludeSeconds, out _);
            Assert.True(schedule, $"{timer.Name}: '{timer.Timer.Schedule}' is not a six-field NCRONTAB schedule");
        }
        Assert.Throws<InvalidOperationException>(() => LocalTriggers.ResolveSchedule("%FENTA_NOT_SET%", settings));
    }
}
