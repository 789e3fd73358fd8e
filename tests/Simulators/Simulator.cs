using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FentaWeb.Simulators;

/// <summary>One recorded request to a simulator.</summary>
public sealed record RecordedRequest(string Method, string Path, string? Authorization, JsonElement? Body);

/// <summary>
/// A local HTTP server standing in for an external API in tests: real Kestrel on a loopback port, handlers written
/// to the provider's documented contract, requests recorded, and scripted failures queued ahead of normal replies.
/// </summary>
public abstract class Simulator : IAsyncDisposable
{
    private WebApplication? _app;
    private readonly ConcurrentQueue<Func<HttpContext, Task>> _scripted = new();

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Completes when its host is asked to stop: a SIGTERM or Ctrl-C reaches every host of the process (the sandboxes' program waits on this).</summary>
    public Task Stopping => _stopping.Task;
    private readonly TaskCompletionSource _stopping = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Where it listens: a free loopback port unless a host that others must find (./run.sh's platform sandboxes) names one.</summary>
    public string ListenUrl { get; init; } = "http://127.0.0.1:0";
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>The next request gets this reply instead of the normal one (queue several for a sequence).</summary>
    public void Enqueue(Func<HttpContext, Task> reply) => _scripted.Enqueue(reply);

    /// <summary>Drops the scripted replies not used yet.</summary>
    public void ClearScripted() => _scripted.Clear();

    public void EnqueueError(int status, string body, int? retryAfterSeconds = null) => Enqueue(async http =>
    {
        http.Response.StatusCode = status;
        if (retryAfterSeconds is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString();
        http.Response.ContentType = "application/json";
        await http.Response.WriteAsync(body);
    });

    public void EnqueueDelay(TimeSpan delay) => Enqueue(async http =>
    {
        await Task.Delay(delay, http.RequestAborted);
        await NormalReplyAsync(http);
    });

    protected abstract void Map(WebApplication app);

    /// <summary>The reply for the request being handled when nothing is scripted.</summary>
    protected virtual Task NormalReplyAsync(HttpContext http) => Task.CompletedTask;

    /// <summary>Starts serving; a simulator that prepares files first (clips it serves) overrides this and calls it last.</summary>
    public virtual async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(ListenUrl);
        _app = builder.Build();
        _app.Lifetime.ApplicationStopping.Register(() => _stopping.TrySetResult());
        _app.Use(async (http, next) =>
        {
            http.Request.EnableBuffering();
            JsonElement? body = null;
            if (http.Request.ContentType?.Contains("json") == true)
            {
                try { body = (await JsonDocument.ParseAsync(http.Request.Body)).RootElement.Clone(); } catch (JsonException) { }
                http.Request.Body.Position = 0;
            }
            Requests.Enqueue(new RecordedRequest(http.Request.Method, http.Request.Path + http.Request.QueryString,
                http.Request.Headers.Authorization.FirstOrDefault(), body));
            if (_scripted.TryDequeue(out var reply)) await reply(http);
            else await next(http);
        });
        Map(_app);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
        GC.SuppressFinalize(this);
    }
}
