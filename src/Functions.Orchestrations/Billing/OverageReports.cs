using FentaWeb.Domain.Billing;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Orchestrations.Billing;

/// <summary>
/// Every minute, paid plans' overage goes to Stripe as Billing Meter events, one per usage record and never twice
/// (<see cref="OverageReporter"/>), by the injected clock. Without Stripe (no FENTA_STRIPE_SECRET_KEY, the local default)
/// there is nobody to bill and it does nothing. Any number of hosts may run it at once: each org is reported by one.
/// </summary>
public sealed partial class OverageReports(TimeProvider clock, ILogger<OverageReports> logger, OverageReporter? reporter = null)
{
    [Function(nameof(OverageReports))]
    public async Task RunAsync([TimerTrigger("45 * * * * *")] TimerInfo timer, CancellationToken ct)
    {
        if (reporter is null) return;
        var round = await reporter.ReportAsync(clock.GetUtcNow(), ct);
        foreach (var org in round.Orgs)
        {
            if (org.Reported + org.AlreadyAtStripe > 0) LogReported(logger, org.OrgId, org.Reported, org.AlreadyAtStripe, org.WithinAllowance);
            // Its remaining records stay unsettled and go out on a later round, with the same identifiers.
            if (org.Failure is { } failure) LogFailed(logger, org.OrgId, failure.Code, failure);
        }
        if (round.OrgsBusyElsewhere > 0) LogBusy(logger, round.OrgsBusyElsewhere);
    }

    [LoggerMessage(EventId = 701, Level = LogLevel.Information,
        Message = "Overage of org {OrgId}: {Reported} meter events sent to Stripe, {AlreadyAtStripe} already there, {WithinAllowance} records within the allowance")]
    private static partial void LogReported(ILogger logger, string orgId, int reported, int alreadyAtStripe, int withinAllowance);

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Overage of org {OrgId} could not reach Stripe ({Code}); the next round sends it again")]
    private static partial void LogFailed(ILogger logger, string orgId, string code, Exception exception);

    [LoggerMessage(EventId = 703, Level = LogLevel.Debug, Message = "Overage of {Orgs} orgs is being reported by another host this round")]
    private static partial void LogBusy(ILogger logger, int orgs);
}
