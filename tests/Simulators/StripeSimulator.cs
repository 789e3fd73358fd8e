using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>One request as Stripe received it: the form-encoded parameters and the headers Stripe acts on.</summary>
public sealed record StripeCall(string Path, IReadOnlyDictionary<string, string> Form, string? StripeVersion, string? IdempotencyKey);

/// <summary>A Billing Meter event Stripe recorded (what it bills), once per identifier.</summary>
public sealed record StripeMeterEvent(string Identifier, string EventName, string CustomerId, decimal Value, DateTimeOffset Timestamp);

/// <summary>
/// Stripe's REST contract for the calls billing makes, as Stripe.net makes them: form-encoded POSTs (nested
/// parameters as <c>a[b][0][c]</c>), the secret key as a bearer token, a Stripe-Version header, Idempotency-Key
/// semantics (same key and parameters: the first answer again; same key, other parameters: an idempotency_error) and
/// <c>{ error: { type, message, param } }</c> errors. Answers are Stripe objects (with <c>object</c>, <c>created</c>,
/// <c>livemode</c>, <c>metadata</c>) that Stripe.net deserializes. Billing Meter events are kept once per identifier
/// (<see cref="MeterEvents"/>), what Stripe would bill. Also signs webhook events the way Stripe does.
/// </summary>
public sealed class StripeSimulator : Simulator
{
    public const string ValidKey = "sk_test_simulator";
    private int _next;
    private readonly ConcurrentDictionary<string, (string Parameters, Lazy<object> Reply)> _idempotent = new();

    public ConcurrentQueue<StripeCall> Calls { get; } = new();

    /// <summary>The meter events recorded, by identifier: a repeated identifier is refused, as Stripe does, and never lands twice.</summary>
    public ConcurrentDictionary<string, StripeMeterEvent> MeterEvents { get; } = new();

    private int _answersToLose;

    /// <summary>
    /// The next <paramref name="count"/> requests are carried out (and kept for their Idempotency-Key) but their answers
    /// are lost: the connection drops before the reply, as when a network fails after Stripe committed.
    /// </summary>
    public void LoseAnswers(int count) => Interlocked.Exchange(ref _answersToLose, count);

    /// <summary>Forgets the Idempotency-Keys seen, as Stripe does after 24 hours (meter identifiers stay unique).</summary>
    public void ForgetIdempotencyKeys() => _idempotent.Clear();

    protected override void Map(WebApplication app)
    {
        app.MapPost("/v1/customers", http => ReplyAsync(http, form => new
        {
            id = $"cus_{Next()}", @object = "customer", created = Now(), livemode = false,
            name = form.GetValueOrDefault("name"), email = form.GetValueOrDefault("email"), metadata = Metadata(form, "metadata"),
        }));
        app.MapPost("/v1/checkout/sessions", http => ReplyAsync(http, form =>
        {
            foreach (var required in new[] { "mode", "success_url", "line_items[0][price]" })
                if (!form.ContainsKey(required)) return Error(400, "invalid_request_error", $"Missing required param: {required}.", required);
            var id = $"cs_test_{Next()}";
            return new
            {
                id, @object = "checkout.session", created = Now(), livemode = false, url = $"https://checkout.stripe.com/c/pay/{id}", mode = form["mode"],
                status = "open", customer = form.GetValueOrDefault("customer"), client_reference_id = form.GetValueOrDefault("client_reference_id"),
                success_url = form["success_url"], cancel_url = form.GetValueOrDefault("cancel_url"), metadata = Metadata(form, "metadata"),
            };
        }));
        app.MapPost("/v1/billing/meter_events", http => ReplyAsync(http, MeterEvent));
        app.MapPost("/v1/billing_portal/sessions", http => ReplyAsync(http, form =>
        {
            if (!form.ContainsKey("customer")) return Error(400, "invalid_request_error", "Missing required param: customer.", "customer");
            var id = $"bps_{Next()}";
            return new
            {
                id, @object = "billing_portal.session", created = Now(), livemode = false, url = $"https://billing.stripe.com/p/session/{id}",
                customer = form["customer"], return_url = form.GetValueOrDefault("return_url"),
            };
        }));
    }

    /// <summary>
    /// POST /v1/billing/meter_events: event_name and payload (the default meter keys stripe_customer_id and value) are
    /// required, a timestamp must lie within the past 35 days or 5 minutes ahead, and an identifier Stripe already holds
    /// is refused with the 400 Stripe sends (an invalid_request_error without a code). Values are decimal strings.
    /// </summary>
    private object MeterEvent(Dictionary<string, string> form)
    {
        foreach (var required in new[] { "event_name", "payload[stripe_customer_id]", "payload[value]" })
            if (!form.ContainsKey(required)) return Error(400, "invalid_request_error", $"Missing required param: {required}.", required);
        if (!decimal.TryParse(form["payload[value]"], System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return Error(400, "invalid_request_error", $"The value in the event payload must be a number. Received {form["payload[value]"]}.", "payload[value]");
        var now = DateTimeOffset.UtcNow;
        var timestamp = form.TryGetValue("timestamp", out var t) ? DateTimeOffset.FromUnixTimeSeconds(long.Parse(t, System.Globalization.CultureInfo.InvariantCulture)) : now;
        if (timestamp < now.AddDays(-35) || timestamp > now.AddMinutes(5))
            return Error(400, "invalid_request_error", "Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.", "timestamp");
        var identifier = form.GetValueOrDefault("identifier") ?? $"mev_{Next()}";
        var recorded = new StripeMeterEvent(identifier, form["event_name"], form["payload[stripe_customer_id]"], value, timestamp);
        if (!MeterEvents.TryAdd(identifier, recorded))
            return Error(400, "invalid_request_error", $"An event already exists with identifier {identifier}.");
        return new
        {
            @object = "billing.meter_event", created = now.ToUnixTimeSeconds(), livemode = false, identifier, event_name = recorded.EventName,
            payload = new Dictionary<string, string> { ["stripe_customer_id"] = recorded.CustomerId, ["value"] = form["payload[value]"] },
            timestamp = timestamp.ToUnixTimeSeconds(),
        };
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The <c>prefix[key]</c> parameters as the object's hash, as Stripe stores metadata.</summary>
    private static Dictionary<string, string> Metadata(Dictionary<string, string> form, string prefix) =>
        form.Where(f => f.Key.StartsWith($"{prefix}[", StringComparison.Ordinal) && f.Key.EndsWith(']') && f.Key.IndexOf('[', prefix.Length + 1) < 0)
            .ToDictionary(f => f.Key[(prefix.Length + 1)..^1], f => f.Value);

    private string Next() => Interlocked.Increment(ref _next).ToString("D6");

    private sealed record ErrorReply(int Status, object Body);

    private static ErrorReply Error(int status, string type, string message, string? param = null) => new(status, new { error = new { type, message, param } });

    private async Task ReplyAsync(HttpContext http, Func<Dictionary<string, string>, object> create)
    {
        if (http.Request.Headers.Authorization.ToString() != $"Bearer {ValidKey}")
        {
            await WriteAsync(http, Error(401, "invalid_request_error", "Invalid API Key provided."));
            return;
        }
        var form = (await http.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
        var key = http.Request.Headers["Idempotency-Key"].FirstOrDefault();
        Calls.Enqueue(new StripeCall(http.Request.Path, form, http.Request.Headers["Stripe-Version"].FirstOrDefault(), key));
        var parameters = string.Join("&", form.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Key}={f.Value}"));
        if (key is not null)
        {
            // Lazy, so that two requests racing with one key are carried out once, as Stripe's idempotency layer does.
            var first = _idempotent.GetOrAdd($"{http.Request.Path}|{key}", _ => (parameters, new Lazy<object>(() => create(form))));
            if (first.Parameters != parameters)
            {
                await WriteAsync(http, Error(400, "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with."));
                return;
            }
            var reply = first.Reply.Value;
            if (LoseAnswer(http)) return;
            http.Response.Headers["Idempotency-Key"] = key;
            await WriteAsync(http, reply);
            return;
        }
        var created = create(form);
        if (LoseAnswer(http)) return;
        await WriteAsync(http, created);
    }

    private bool LoseAnswer(HttpContext http)
    {
        int left;
        do
        {
            left = Volatile.Read(ref _answersToLose);
            if (left <= 0) return false;
        } while (Interlocked.CompareExchange(ref _answersToLose, left - 1, left) != left);
        http.Abort();
        return true;
    }

    private static async Task WriteAsync(HttpContext http, object reply)
    {
        if (reply is ErrorReply error)
        {
            http.Response.StatusCode = error.Status;
            await http.Response.WriteAsJsonAsync(error.Body);
        }
        else await http.Response.WriteAsJsonAsync(reply);
    }

    /// <summary>A Stripe-Signature header for <paramref name="payload"/>, as Stripe's libraries generate test headers.</summary>
    public static string Sign(string payload, string secret, DateTimeOffset? at = null)
    {
        var t = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        var v1 = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{t}.{payload}")));
        return $"t={t},v1={v1}";
    }
}
