using System.Globalization;
using System.Net.Sockets;
using DurableTask.AzureStorage;
using DurableTask.Core.History;
using DurableTask.Core;
using FentaWeb.Runs;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing.Sidecar.Grpc;
using Microsoft.DurableTask.Worker.Grpc.Internal;
using Microsoft.DurableTask.Worker.Grpc;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FentaWeb.LocalHosting;

/// <summary>
/// The task hub the workflow runs live in: Durable Task's Azure Storage backend (the one Durable Functions uses by
/// default) on a storage account — Azurite locally. Settings come from <c>FENTA_STORAGE</c> (a connection string) and
/// <c>FENTA_TASK_HUB_*</c> (docs/configuration.md lists them); the defaults suit one machine.
/// </summary>
public sealed record TaskHubOptions(
    string StorageConnection,
    string HubName,
    int PartitionCount,
    TimeSpan PollInterval,
    TimeSpan WorkItemVisibility,
    TimeSpan LeaseInterval,
    int ActivityConcurrency,
    int OrchestrationConcurrency)
{
    public const string DefaultHubName = "fentaweb";

    public static TaskHubOptions FromSettings(Func<string, string?> setting)
    {
        // The local sidecar's backend takes a connection string; on Azure the Functions host runs the hub from AzureWebJobsStorage.
        var connection = RuntimeStorage.FromSettings(setting).ConnectionString
            ?? throw new InvalidOperationException($"The local task hub needs {RuntimeStorage.SettingName} as a connection string.");
        return new TaskHubOptions(
            connection,
            setting("FENTA_TASK_HUB") is { Length: > 0 } hub ? hub : DefaultHubName,
            Number(setting, "FENTA_TASK_HUB_PARTITIONS", 1),
            Seconds(setting, "FENTA_TASK_HUB_POLL_SECONDS", 0.5),
            // A message a dead worker had taken shows again after this; activities here finish well within it.
            Seconds(setting, "FENTA_TASK_HUB_VISIBILITY_SECONDS", 120),
            Seconds(setting, "FENTA_TASK_HUB_LEASE_SECONDS", 15),
            Number(setting, "FENTA_WORKER_ACTIVITIES", 32),
            Number(setting, "FENTA_WORKER_ORCHESTRATIONS", 16));
    }

    /// <summary>The backend's settings. The prototype measured these on two cores: one partition, a 0.5 s poll, batches of 32.</summary>
    public AzureStorageOrchestrationService CreateService(ILoggerFactory loggers) => new(new AzureStorageOrchestrationServiceSettings
    {
        StorageAccountClientProvider = new StorageAccountClientProvider(StorageConnection),
        TaskHubName = HubName,
        PartitionCount = PartitionCount,
        MaxQueuePollingInterval = PollInterval,
        ControlQueueBatchSize = 32,
        MaxConcurrentTaskActivityWorkItems = ActivityConcurrency,
        MaxConcurrentTaskOrchestrationWorkItems = OrchestrationConcurrency,
        WorkItemQueueVisibilityTimeout = WorkItemVisibility,
        ControlQueueVisibilityTimeout = WorkItemVisibility,
        LeaseInterval = LeaseInterval,
        LeaseRenewInterval = LeaseInterval / 3,
        LeaseAcquireInterval = LeaseInterval / 3,
        LoggerFactory = loggers,
    });

    private static int Number(Func<string, string?> setting, string key, int fallback) =>
        setting(key) is { Length: > 0 } text
            ? int.TryParse(text, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new InvalidOperationException($"{key} must be a positive whole number, not '{text}'.")
            : fallback;

    private static TimeSpan Seconds(Func<string, string?> setting, string key, double fallback) =>
        TimeSpan.FromSeconds(setting(key) is { Length: > 0 } text
            ? double.TryParse(text, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : throw new InvalidOperationException($"{key} must be a positive number of seconds, not '{text}'.")
            : fallback);
}

/// <summary>
/// Durable Task outside the Functions host: the same orchestrator and activity classes in a
/// <c>Microsoft.DurableTask</c> worker, over gRPC (a Unix domain socket) to a sidecar (<see cref="TaskHubGrpcServer"/>) of its own
/// that runs the Azure Storage backend. Every worker process has its own sidecar on the shared task hub, as every
/// Functions host has its own Durable extension; a client-only sidecar serves processes that start and query runs
/// but must never take orchestration work (the API).
/// </summary>
public static class LocalTaskHub
{
    /// <summary>A worker for <paramref name="tasks"/> and a client, both on this process's own dispatching sidecar.</summary>
    public static IServiceCollection AddLocalTaskHubWorker(this IServiceCollection services, TaskHubOptions options, Action<DurableTaskRegistry> tasks)
    {
        var channel = services.AddSidecar(options, TaskHubGrpcServerMode.ApiServerAndDispatcher);
        services.AddDurableTaskWorker(worker =>
        {
            worker.UseGrpc(grpc =>
            {
                grpc.Channel = channel;
                // The worker reconnects when its stream is silent for two minutes, expecting the backend's health pings;
                // this sidecar sends none, and an idle hub is not a broken connection.
                grpc.SetSilentDisconnectTimeout(TimeSpan.Zero);
            });
            worker.AddTasks(tasks);
        });
        services.AddDurableTaskClient(client => client.UseGrpc(channel));
        return services;
    }

    /// <summary>A client of the task hub only: its sidecar serves management calls and never dispatches work.</summary>
    public static IServiceCollection AddLocalTaskHubClient(this IServiceCollection services, TaskHubOptions options)
    {
        var channel = services.AddSidecar(options, TaskHubGrpcServerMode.ApiServerOnly);
        services.AddDurableTaskClient(client => client.UseGrpc(channel));
        return services;
    }

    /// <summary>
    /// The sidecar listens on a Unix domain socket of its own, not a loopback port: a port would have to be chosen before
    /// the sidecar binds it, and another socket can take it in between. The socket's name is abstract (Linux: it starts
    /// with NUL and has no file), so a process that is killed leaves nothing behind.
    /// </summary>
    private static GrpcChannel AddSidecar(this IServiceCollection services, TaskHubOptions options, TaskHubGrpcServerMode mode)
    {
        var socket = new UnixDomainSocketEndPoint($"\0fenta-taskhub-{Guid.NewGuid():N}");
        // Registered before the worker so the host starts it first: the worker connects as soon as it starts.
        services.AddHostedService(sp => new TaskHubSidecar(options, mode, socket, sp.GetRequiredService<ILoggerFactory>()));
        var connect = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await client.ConnectAsync(socket, ct);
                    return new NetworkStream(client, ownsSocket: true);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
            },
        };
        return GrpcChannel.ForAddress("http://taskhub.local", new GrpcChannelOptions { HttpHandler = connect, MaxReceiveMessageSize = null, MaxSendMessageSize = null });
    }
}

/// <summary>The gRPC sidecar: Kestrel (HTTP/2 on a Unix domain socket) serving <see cref="TaskHubGrpcServer"/> over the Azure Storage backend.</summary>
internal sealed class TaskHubSidecar(TaskHubOptions options, TaskHubGrpcServerMode mode, UnixDomainSocketEndPoint socket, ILoggerFactory loggers) : IHostedService
{
    private WebApplication? _app;
    private SidecarBackend? _service;

    public async Task StartAsync(CancellationToken ct)
    {
        var service = options.CreateService(loggers);
        _service = new SidecarBackend(service);
        // The sidecar's own create is fire-and-forget: the hub's queues and tables must exist before anything is served.
        await service.CreateIfNotExistsAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(socket, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc => { grpc.MaxReceiveMessageSize = null; grpc.MaxSendMessageSize = null; });
        builder.Services.AddSingleton<IOrchestrationService>(_service);
        builder.Services.AddSingleton<IOrchestrationServiceClient>(service);
        builder.Services.Configure<TaskHubGrpcServerOptions>(o => o.Mode = mode);
        builder.Services.AddSingleton<TaskHubGrpcServer>();
        _app = builder.Build();
        _app.MapGrpcService<TaskHubGrpcServer>();
        await _app.StartAsync(ct);
    }

    public async Task StopAsync(CancellationToken ct)
    {
        if (_app is null) return;
        await _app.StopAsync(ct);
        await _app.DisposeAsync();
        // The sidecar stops its dispatchers without waiting for them; waiting here lets go of this process's partition
        // leases now (another worker takes them at once) rather than when they expire.
        await _service!.StopAsync();
    }
}

/// <summary>
/// The backend as the sidecar (Microsoft.DurableTask.InProcessTestHost 0.2.3-preview.1) drives it, with two gaps closed:
/// it is started and stopped once (the sidecar stops it from a fire-and-forget callback, also when it never started it,
/// which the backend does not survive, and its host needs to wait for it); and a sub-orchestration's events reach it in
/// shapes it can store (the sidecar hands over the start message's tags as a Protobuf map and records the creation as
/// its own subclass, neither of which the Azure Storage backend can read back).
/// </summary>
internal sealed class SidecarBackend(IOrchestrationService inner) : IOrchestrationService
{
    private readonly Lock _gate = new();
    private Task? _started;
    private Task? _stopped;

    public Task StartAsync()
    {
        lock (_gate) return _started ??= inner.StartAsync();
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public Task StopAsync(bool isForced)
    {
        lock (_gate) return _stopped ??= _started is null ? Task.CompletedTask : StopAfterStartAsync(_started, isForced);
    }

    private async Task StopAfterStartAsync(Task started, bool isForced)
    {
        await started;
        await inner.StopAsync(isForced);
    }

    public Task CreateAsync() => inner.CreateAsync();
    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);
    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();
    public Task DeleteAsync() => inner.DeleteAsync();
    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);
    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);
    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);
    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);
    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;
    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;
    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;
    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);
    public Task CompleteTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem, OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages, IList<TaskMessage> orchestratorMessages, IList<TaskMessage> timerMessages, TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        foreach (var message in orchestratorMessages)
            if (message.Event is ExecutionStartedEvent { Tags: { } tags } started && tags.GetType() != typeof(Dictionary<string, string>))
                started.Tags = new Dictionary<string, string>(tags);
        foreach (var events in new[] { newOrchestrationRuntimeState.Events, newOrchestrationRuntimeState.NewEvents, newOrchestrationRuntimeState.PastEvents })
            for (var i = 0; i < events.Count; i++)
                if (events[i] is SubOrchestrationInstanceCreatedEvent created && created.GetType() != typeof(SubOrchestrationInstanceCreatedEvent))
                    events[i] = new SubOrchestrationInstanceCreatedEvent(created.EventId)
                    {
                        Timestamp = created.Timestamp, IsPlayed = created.IsPlayed,
                        Name = created.Name, Version = created.Version, InstanceId = created.InstanceId, Input = created.Input,
                    };
        return inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages,
            continuedAsNewMessage, orchestrationState);
    }
    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;
    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;
    public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);
    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) => inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) => inner.AbandonTaskActivityWorkItemAsync(workItem);
}
