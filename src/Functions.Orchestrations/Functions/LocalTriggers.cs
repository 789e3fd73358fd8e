using System.Reflection;
using System.Text.RegularExpressions;
using Azure.Storage.Queues.Models;
using Cronos;
using FentaWeb.Orchestrations.Runs;
using FentaWeb.Runs;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Orchestrations.Functions;

/// <summary>A timer- or queue-triggered function of this app, as the local host runs it.</summary>
public sealed record LocalTrigger(string Name, MethodInfo Method, TimerTriggerAttribute? Timer, QueueTriggerAttribute? Queue);

/// <summary>
/// The app's timer and queue functions outside the Functions host: found by their <c>[Function]</c> and trigger
/// attributes (the same ones the Functions SDK writes into functions.metadata), so both hosts run one list. Timers
/// fire on their six-field NCRONTAB schedule (read by Cronos, which agrees with the Functions host's NCrontab on it) in
/// UTC by the injected <see cref="TimeProvider"/> (a missed occurrence fires once, past due, as on Azure); queues are
/// polled and a message is deleted once its function returned.
/// </summary>
public static partial class LocalTriggers
{
    public static IReadOnlyList<LocalTrigger> All { get; } = Discover(typeof(LocalTriggers).Assembly);

    public static IServiceCollection AddLocalTriggers(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHostedService<LocalTriggerHost>();
        return services;
    }

    /// <summary>The schedule with <c>%SETTING%</c> parts replaced from configuration, as the Functions host does.</summary>
    public static string ResolveSchedule(string schedule, IConfiguration config) =>
        Setting().Replace(schedule, m => config[m.Groups[1].Value] is { Length: > 0 } value ? value
            : throw new InvalidOperationException($"The timer schedule '{schedule}' names the setting {m.Groups[1].Value}, which is not set."));

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex Setting();

    private static List<LocalTrigger> Discover(Assembly assembly) =>
    [
        .. from type in assembly.GetTypes()
           from method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
           let function = method.GetCustomAttribute<FunctionAttribute>()
           where function is not null
           let parameters = method.GetParameters()
           let timer = parameters.Select(p => p.GetCustomAttribute<TimerTriggerAttribute>()).FirstOrDefault(a => a is not null)
           let queue = parameters.Select(p => p.GetCustomAttribute<QueueTriggerAttribute>()).FirstOrDefault(a => a is not null)
           where timer is not null || queue is not null
           select new LocalTrigger(function.Name, method, timer, queue),
    ];
}

internal sealed partial class LocalTriggerHost(IServiceProvider services, IConfiguration config, TimeProvider clock, RenderQueues queues,
    DurableTaskClient runs, ILogger<LocalTriggerHost> logger) : BackgroundService
{
    private const int MaxDequeueCount = 5;

    protected override Task ExecuteAsync(CancellationToken stopping) =>
        Task.WhenAll(LocalTriggers.All.Select(trigger => trigger.Timer is not null ? RunTimerAsync(trigger, stopping) : RunQueueAsync(trigger, stopping)));

    private async Task RunTimerAsync(LocalTrigger trigger, CancellationToken stopping)
    {
        var schedule = CronExpression.Parse(LocalTriggers.ResolveSchedule(trigger.Timer!.Schedule, config), CronFormat.IncludeSeconds);
        var last = clock.GetUtcNow().UtcDateTime;
        while (!stopping.IsCancellationRequested)
        {
            // None: a date that never comes (February 30th), so the timer never fires.
            if (schedule.GetNextOccurrence(last) is not { } due) return;
            try
            {
                var wait = due - clock.GetUtcNow().UtcDateTime;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, clock, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            var now = clock.GetUtcNow().UtcDateTime;
            var timer = new TimerInfo
            {
                IsPastDue = schedule.GetNextOccurrence(due) < now,
                ScheduleStatus = new ScheduleStatus { Last = last, Next = schedule.GetNextOccurrence(now) ?? DateTime.MaxValue, LastUpdated = now },
            };
            await InvokeAsync(trigger, timer, stopping);
            last = now; // occurrences missed meanwhile are not made up
        }
    }

    private async Task RunQueueAsync(LocalTrigger trigger, CancellationToken stopping)
    {
        var queue = queues.Queue(trigger.Queue!.QueueName);
        await queue.CreateIfNotExistsAsync(cancellationToken: stopping).ContinueWith(_ => { }, TaskScheduler.Default);
        while (!stopping.IsCancellationRequested)
        {
            QueueMessage[] messages;
            try
            {
                messages = (await queue.ReceiveMessagesAsync(maxMessages: 16, cancellationToken: stopping)).Value;
                if (messages.Length == 0) await Task.Delay(TimeSpan.FromMilliseconds(250), stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException e)
            {
                LogQueueFailed(logger, trigger.Name, e);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping).ContinueWith(_ => { }, TaskScheduler.Default);
                continue;
            }
            foreach (var message in messages)
            {
                // As the Functions host does: a message whose function keeps failing goes to "<queue>-poison" after five tries.
                if (await InvokeAsync(trigger, message.Body.ToString(), stopping) || message.DequeueCount >= MaxDequeueCount)
                {
                    if (message.DequeueCount >= MaxDequeueCount && !stopping.IsCancellationRequested)
                        await queues.Queue(trigger.Queue.QueueName + "-poison").SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
                }
            }
        }
    }

    /// <summary>Calls the function with its bindings (trigger value, durable client, cancellation); true when it returned.</summary>
    private async Task<bool> InvokeAsync(LocalTrigger trigger, object triggerValue, CancellationToken stopping)
    {
        using var scope = services.CreateScope();
        var method = trigger.Method;
        var target = method.IsStatic ? null : ActivatorUtilities.GetServiceOrCreateInstance(scope.ServiceProvider, method.DeclaringType!);
        var arguments = method.GetParameters().Select(p => p.ParameterType switch
        {
            var t when t == typeof(DurableTaskClient) => runs,
            var t when t == typeof(CancellationToken) => stopping,
            _ when p.GetCustomAttribute<TimerTriggerAttribute>() is not null || p.GetCustomAttribute<QueueTriggerAttribute>() is not null => triggerValue,
            var t => throw new InvalidOperationException($"Function {trigger.Name}: the local host cannot bind parameter '{p.Name}' ({t.Name})."),
        }).ToArray();
        try
        {
            if (method.Invoke(target, arguments) is Task task) await task;
            return true;
        }
        catch (Exception e) when (!stopping.IsCancellationRequested)
        {
            LogFunctionFailed(logger, trigger.Name, e is TargetInvocationException { InnerException: { } inner } ? inner : e);
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Error, Message = "Function {Function} failed")]
    private static partial void LogFunctionFailed(ILogger logger, string function, Exception exception);

    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "Reading the queue of {Function} failed; will retry")]
    private static partial void LogQueueFailed(ILogger logger, string function, Exception exception);
}
