using System.Security.Cryptography;
using System.Text;
using FentaWeb.Domain.Common;

namespace FentaWeb.Domain.Webhooks;

/// <summary>An endpoint of an org that is sent the events it listens to, signed with its secret.</summary>
public sealed class Webhook : IHasId
{
    /// <summary>Secrets start with this, so they are easy to tell from API keys.</summary>
    public const string SecretPrefix = "whsec_";

    public required string Id { get; init; }
    public required string OrgId { get; init; }
    public required string Url { get; set; }
    public string[] Events { get; set; } = [];
    public required string Secret { get; set; }
    public string? Description { get; set; }
    public bool Enabled { get; private set; } = true;
    /// <summary>Why delivery switched the endpoint off (its last deliveries all failed); null while enabled or when an admin disabled it.</summary>
    public string? DisabledReason { get; private set; }

    public void SetEnabled(bool enabled, DateTimeOffset now)
    {
        Enabled = enabled;
        DisabledReason = null;
        UpdatedAt = now;
    }
    public string? CreatedBy { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>A new secret; the old one stops verifying at once, so the receiver must be given the new one.</summary>
    public void RotateSecret(DateTimeOffset now)
    {
        Secret = NewSecret();
        UpdatedAt = now;
    }

    private static string NewSecret() =>
        SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static Webhook Create(string orgId, string url, string[] events, string? description, string? createdBy, DateTimeOffset now) => new()
    {
        Id = Ids.New("hook"),
        OrgId = orgId,
        Url = url,
        Events = events,
        Secret = NewSecret(),
        Description = description,
        CreatedBy = createdBy,
        CreatedAt = now,
        UpdatedAt = now,
    };
}

/// <summary>One event sent (or being sent) to one webhook: the delivery history a user debugs their endpoint with.</summary>
public sealed class WebhookDelivery : IHasId
{
    public required string Id { get; init; }
    public required string WebhookId { get; init; }
    public required string OrgId { get; init; }
    public required string EventId { get; init; }
    public required string Event { get; init; }
    public System.Text.Json.JsonElement Payload { get; init; }
    public string Status { get; set; } = "pending";
    public int? HttpStatus { get; init; }
    public string? ResponseBody { get; init; }
    public string? Error { get; init; }
    public int Attempts { get; set; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public DateTimeOffset NextRetryAt { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>Whether an orchestration has it now; a pending delivery without one is handed over by the next dispatch round.</summary>
    public bool Dispatched { get; private set; }

    /// <summary>Sends it again from the first attempt, whatever became of it (a fixed endpoint, a lost event), in a new orchestration.</summary>
    public void Redeliver(DateTimeOffset now)
    {
        Status = "pending";
        Attempts = 0;
        NextRetryAt = now;
        Dispatched = false;
    }
}

public static class WebhookEvents
{
    /// <summary>Sent only to the endpoint it was asked for, by <c>POST /v1/webhooks/{id}/ping</c>.</summary>
    public const string Ping = "webhook.ping";

    public static readonly IReadOnlyList<string> All =
    [
        "job.started", "job.completed", "job.failed", "job.cancelled",
        "workflow.run.started", "workflow.run.finished",
        "render.succeeded", "render.failed",
        "publication.succeeded", "publication.failed",
    ];

    /// <summary>What an endpoint may listen to: the events above, or <c>*</c> for all of them.</summary>
    public static bool IsSubscribable(string name) => name == "*" || All.Contains(name);
}

/// <summary>
/// Two headers sign every delivery with the webhook's secret. <c>Fenta-Signature</c>, in Stripe's scheme: <c>t=unix,v1=hex</c>
/// where v1 is HMAC-SHA256 over <c>{t}.{raw body}</c>; the timestamp lets a receiver refuse replays of old deliveries.
/// <c>X-Fenta-Signature</c>: the hex HMAC-SHA256 of the raw body alone, which seed 000's documented
/// <c>verify_webhook(payload, signature, secret)</c> checks as written.
/// </summary>
public static class WebhookSignature
{
    public const string Header = "Fenta-Signature";
    public const string BodyHeader = "X-Fenta-Signature";

    public static string Create(string secret, long unixSeconds, string body) => $"t={unixSeconds},v1={Hmac(secret, unixSeconds, body)}";

    public static string CreateForBody(string secret, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    /// <summary>True when the header carries a valid v1 signature of <paramref name="body"/> made within <paramref name="tolerance"/> of now.</summary>
    public static bool Verify(string secret, string? header, string body, DateTimeOffset now, TimeSpan tolerance)
    {
        if (header is null) return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToLookup(p => p[0].Trim(), p => p[1].Trim());
        if (!long.TryParse(parts["t"].FirstOrDefault(), out var t) || Math.Abs(now.ToUnixTimeSeconds() - t) > tolerance.TotalSeconds) return false;
        var expected = Encoding.ASCII.GetBytes(Hmac(secret, t, body));
        return parts["v1"].Any(v => CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(v)));
    }

    private static string Hmac(string secret, long unixSeconds, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{unixSeconds}.{body}")));
}
