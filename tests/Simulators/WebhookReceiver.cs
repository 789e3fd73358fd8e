using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>One webhook post as the receiver saw it: the raw body (what the signature covers) and the headers.</summary>
public sealed record ReceivedWebhook(string Path, string Body, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// A customer's webhook endpoint: answers 200 to <c>POST /hooks/...</c> and keeps every post; scripted replies
/// (errors, delays) go first, as with the other simulators.
/// </summary>
public sealed class WebhookReceiver : Simulator
{
    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    public Uri Url(string name = "main") => new(BaseAddress, $"hooks/{name}");

    protected override void Map(WebApplication app) => app.MapPost("/hooks/{**name}", NormalReplyAsync);

    protected override async Task NormalReplyAsync(HttpContext http)
    {
        using var reader = new StreamReader(http.Request.Body);
        var body = await reader.ReadToEndAsync();
        Received.Enqueue(new ReceivedWebhook(http.Request.Path, body, http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
        await http.Response.WriteAsync("thanks");
    }
}
