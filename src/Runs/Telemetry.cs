using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.Json;
using FentaWeb.Domain.Jobs;
using FentaWeb.Domain.Workflows;
using TraceContext = System.Diagnostics.ActivityContext;

namespace FentaWeb.Runs;

/// <summary>
/// FentaWeb's own spans and metrics, one <see cref="ActivitySource"/> and one <see cref="Meter"/> named "FentaWeb" for
/// every host (the API, the orchestrations, the renderer). A job is one trace: its W3C trace context is stored with the
/// job when it is created (<c>jobs.trace_parent</c>), and every later span for the job (node activities in other
/// processes, the render, webhook deliveries) starts as a child of it, as Durable Task's own context need not carry it.
/// Without a listener (no exporter configured) the spans are not created and the instruments record nothing.
/// </summary>
public static class Telemetry
{
    public const string Name = "FentaWeb";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> JobsStarted = Meter.CreateCounter<long>("fenta.jobs.started", "{job}", "Jobs created, by workflow and template");
    public static readonly Counter<long> JobsCompleted = Meter.CreateCounter<long>("fenta.jobs.completed", "{job}", "Jobs that completed, by workflow and template");
    public static readonly Counter<long> JobsFailed = Meter.CreateCounter<long>("fenta.jobs.failed", "{job}", "Jobs that failed, by workflow and template");
    public static readonly Counter<long> JobsCancelled = Meter.CreateCounter<long>("fenta.jobs.cancelled", "{job}", "Jobs cancelled (by the API, or ended by a cancelled node), by workflow and template");
    public static readonly Histogram<double> NodeDuration = Meter.CreateHistogram<double>("fenta.node.duration", "s", "How long one execution of a node item took, by node type and outcome");
    public static readonly Counter<double> RenderSeconds = Meter.CreateCounter<double>("fenta.render.seconds", "s", "Seconds of FFmpeg rendering");
    public static readonly Counter<long> RenderPoisoned = Meter.CreateCounter<long>("fenta.render.poisoned", "{request}", "Render requests given up after too many deliveries (RENDER_POISONED)");
    public static readonly Counter<long> KieCredits = Meter.CreateCounter<long>("fenta.kie.credits", "{credit}", "KIE credits spent, by model");
    public static readonly Histogram<double> WebhookDeliveryLatency = Meter.CreateHistogram<double>("fenta.webhook.delivery.latency", "s",
        "From a webhook event's creation to its delivery's outcome (delivered, or failed once its attempts ran out), by event and outcome");
    public static readonly Histogram<double> WebhookAttemptDuration = Meter.CreateHistogram<double>("fenta.webhook.attempt.duration", "s",
        "How long one webhook delivery attempt (one POST) took, by event and outcome");

    // What RenderQueueMonitor last saw; null in a process that does not sample the queue, which then reports nothing (not 0).
    private static (long Depth, double OldestSeconds)? _renderQueue;
    private static readonly Lock RenderQueueLock = new();

    static Telemetry()
    {
        Meter.CreateObservableGauge("fenta.render.queue.depth", () => RenderQueue(q => new Measurement<long>(q.Depth)), "{request}", "Render requests waiting on the render queue (approximate)");
        Meter.CreateObservableGauge("fenta.render.queue.oldest_age", () => RenderQueue(q => new Measurement<double>(q.OldestSeconds)), "s", "Age of the oldest render request on the render queue");
    }

    private static IEnumerable<Measurement<T>> RenderQueue<T>(Func<(long Depth, double OldestSeconds), Measurement<T>> measure) where T : struct
    {
        lock (RenderQueueLock) return _renderQueue is { } seen ? [measure(seen)] : [];
    }

    /// <summary>What <see cref="RenderQueueMonitor"/> last saw on the render queue.</summary>
    public static void ObserveRenderQueue(long depth, TimeSpan oldest)
    {
        lock (RenderQueueLock) _renderQueue = (depth, Math.Max(0, oldest.TotalSeconds));
    }

    /// <summary>The counter of jobs that ended with <paramref name="status"/> (a final status).</summary>
    public static Counter<long> JobsEnded(JobStatus status) => status switch
    {
        JobStatus.Completed => JobsCompleted,
        JobStatus.Failed => JobsFailed,
        JobStatus.Cancelled => JobsCancelled,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a final status"),
    };

    /// <summary>
    /// A job's tags on the job counters: <c>fenta.workflow</c>, its workflow, or <c>direct</c> for a job posted to
    /// <c>POST /v1/jobs</c> (the direct render job or an inline graph); and <c>fenta.template</c>, the template its nodes
    /// follow (a template-referencing parameter, e.g. Edit.Timeline's <c>template_id</c>: the direct render job's
    /// <c>template_id</c>, or the default), <c>none</c> when no node follows one, the ids joined by <c>+</c> when several do.
    /// </summary>
    public static TagList JobTags(string? workflowId, CompiledGraph? plan)
    {
        var templates = (plan?.Nodes.Values ?? [])
            .SelectMany(node => node.Definition.Params.Where(p => p.Reference == ParamReference.Template).Select(p => node.Params.GetValueOrDefault(p.Name)))
            .Where(value => value.ValueKind == JsonValueKind.String).Select(value => value.GetString()!)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return new TagList
        {
            { "fenta.workflow", workflowId ?? "direct" },
            { "fenta.template", templates.Count == 0 ? "none" : string.Join('+', templates) },
        };
    }

    /// <summary>
    /// The trace context a new job is stored with: the current span's (the API request's, the schedule tick's), or a new
    /// root when there is none, so every job has a trace id support can search logs for. Always marked sampled: FentaWeb
    /// samples every trace, so a current span that is not recorded is one of a host that exports nothing (ASP.NET Core
    /// makes a span per request regardless), and the hosts that do export must still record the job's spans.
    /// </summary>
    public static string NewJobTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current
        ? $"00-{current.TraceId.ToHexString()}-{current.SpanId.ToHexString()}-01"
        : $"00-{ActivityTraceId.CreateRandom().ToHexString()}-{ActivitySpanId.CreateRandom().ToHexString()}-01";

    /// <summary>The trace id of a stored traceparent (<c>00-{trace id}-{span id}-{flags}</c>), or null.</summary>
    public static string? TraceIdOf(string? traceParent) =>
        TraceContext.TryParse(traceParent, null, out var context) ? context.TraceId.ToHexString() : null;

    /// <summary>
    /// Starts a span of a job: a child of the current span when that is in the job's trace already (the render request's
    /// span in the renderer), else of the job's stored context. Null when nothing listens.
    /// </summary>
    public static Activity? StartJobSpan(string name, string? traceParent, string jobId, ActivityKind kind = ActivityKind.Internal)
    {
        TraceContext parent = default;
        if (TraceContext.TryParse(traceParent, null, out var stored)
            && Activity.Current?.TraceId != stored.TraceId) parent = stored;
        var activity = Source.StartActivity(name, kind, parent);
        activity?.SetTag("fenta.job_id", jobId);
        return activity;
    }
}
