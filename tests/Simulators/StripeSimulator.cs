using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FentaWeb.Simulators;

/// <summary>One request as Stripe received it: the form-encoded parameters and the headers Stripe acts on.</summary>
public sealed record StripeCall(string Path, IReadOnlyDictionary<string, string> Form, string? StripeVersion, string? IdempotencyKey);

/// <summary>
/// Stripe's REST contract for the calls billing makes, as Stripe.net makes them: form-encoded POSTs (nested
/// parameters as <c>a[b][0][c]</c>), the secret key as a bearer token, a Stripe-Version header, Idempotency-Key
/// semantics (same key and parameters: the first answer again; same key, other parameters: an idempotency_error) and
/// <c>{ error: { type, message, param } }</c> errors. Answers are Stripe objects (with <c>object</c>, <c>created</c>,
/// <c>livemode</c>, <c>metadata</c>) that Stripe.net deserializes. Also signs webhook events the way Stripe does.
/// </summary>
public sealed class StripeSimulator : Simulator
{
    public const string ValidKey = "sk_test_simulator";
    private int _next;
    private readonly ConcurrentDictionary<string, (string Parameters, object Reply)> _idempotent = new();

    public ConcurrentQueue<StripeCall> Calls { get; } = new();

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
            var first = _idempotent.GetOrAdd($"{http.Request.Path}|{key}", _ => (parameters, create(form)));
            if (first.Parameters != parameters)
            {
                await WriteAsync(http, Error(400, "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used with."));
                return;
            }
            http.Response.Headers["Idempotency-Key"] = key;
            await WriteAsync(http, first.Reply);
            return;
        }
        await WriteAsync(http, create(form));
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
