using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FentaWeb.Api.Hosting;
using FentaWeb.Domain.Common;
using FentaWeb.Domain.Identity;
using FentaWeb.Domain.Persistence;
using FentaWeb.Domain.Webhooks;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.EntityFrameworkCore;

namespace FentaWeb.Api.Webhooks;

public sealed record WebhookRequest(string? Url, IReadOnlyList<string>? Events, string? Description, bool? Enabled);

public sealed record WebhookDto(string Id, string Url, IReadOnlyList<string> Events, string? Description, bool Enabled, string? DisabledReason,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static WebhookDto From(Webhook w) => new(w.Id, w.Url, w.Events, w.Description, w.Enabled, w.DisabledReason, w.CreatedAt, w.UpdatedAt);
}

/// <summary>The responses of create and rotate-secret are the only ones that contain the signing secret.</summary>
public sealed record WebhookWithSecretDto(WebhookDto Webhook, string Secret);

public sealed record WebhookDeliveryDto(string Id, string WebhookId, string EventId, string Event, string Status, int Attempts, int? HttpStatus,
    string? ResponseBody, string? Error, DateTimeOffset? LastAttemptAt, DateTimeOffset? NextRetryAt, DateTimeOffset CreatedAt, JsonElement Payload)
{
    public static WebhookDeliveryDto From(WebhookDelivery d) => new(d.Id, d.WebhookId, d.EventId, d.Event, d.Status, d.Attempts, d.HttpStatus,
        d.ResponseBody, d.Error, d.LastAttemptAt, d.Status == "pending" ? d.NextRetryAt : null, d.CreatedAt, d.Payload);
}

/// <summary>
/// Endpoints of the org that are told about its jobs and renders, each delivery signed (see <see cref="WebhookSignature"/>)
/// and retried with backoff until the endpoint answers 2xx. Managing them takes an admin.
/// </summary>
[Tags("Webhooks")]
public sealed class WebhookFunctions(FentaDb db, AuditTrail audit, TimeProvider clock, FentaOptions options)
{
    // The summary spells out WebhookEvents.All: an attribute argument must be a constant.
    [Function(nameof(CreateWebhook)), Access(OrgRole.Admin, Scopes.WorkflowsWrite),
     EndpointSummary("Register an endpoint for events (job.started, job.completed, job.failed, job.cancelled, workflow.run.started, workflow.run.finished, render.succeeded, render.failed, publication.succeeded, publication.failed, or *). The signing secret is in this response.")]
    public async Task<Created<WebhookWithSecretDto>> CreateWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks")] HttpRequest request, [FromBody] WebhookRequest body, Caller caller,
        CancellationToken ct)
    {
        var errors = new FieldErrors();
        if (body.Url is null) errors.Add("url", "is required: the https URL to post events to");
        if (body.Events is null) errors.Add("events", $"is required: a list of {string.Join(", ", WebhookEvents.All)}, or [\"*\"]");
        await CheckAsync(body, errors, ct);
        errors.ThrowIfAny();
        var webhook = Webhook.Create(caller.OrgId, body.Url!, [.. body.Events!.Distinct()], body.Description, caller.UserId, clock.GetUtcNow());
        if (body.Enabled is { } enabled) webhook.SetEnabled(enabled, webhook.CreatedAt);
        db.Webhooks.Add(webhook);
        audit.Record(caller, "create", "webhook", webhook.Id, new { webhook.Url, webhook.Events });
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/v1/webhooks/{webhook.Id}", new WebhookWithSecretDto(WebhookDto.From(webhook), webhook.Secret));
    }

    [Function(nameof(ListWebhooks)), Access(OrgRole.Admin, Scopes.WorkflowsWrite), EndpointSummary("The org's webhooks, newest first.")]
    public async Task<Ok<Page<WebhookDto>>> ListWebhooks([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhooks")] HttpRequest request,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct) =>
        TypedResults.Ok(await db.Webhooks.Where(w => w.OrgId == caller.OrgId).ToPageAsync(page, WebhookDto.From, ct));

    [Function(nameof(GetWebhook)), Access(OrgRole.Admin, Scopes.WorkflowsWrite), EndpointSummary("One webhook, without its secret.")]
    public async Task<Ok<WebhookDto>> GetWebhook([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhooks/{webhookId}")] HttpRequest request,
        string webhookId, Caller caller, CancellationToken ct) =>
        TypedResults.Ok(WebhookDto.From(await FindAsync(db, caller, webhookId, ct)));

    [Function(nameof(UpdateWebhook)), Access(OrgRole.Admin, Scopes.WorkflowsWrite), EndpointSummary("Change the URL, events, description or enabled flag.")]
    public async Task<Ok<WebhookDto>> UpdateWebhook([HttpTrigger(AuthorizationLevel.Anonymous, "patch", Route = "v1/webhooks/{webhookId}")] HttpRequest request,
        string webhookId, [FromBody] WebhookRequest body, Caller caller, CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        var errors = new FieldErrors();
        await CheckAsync(body, errors, ct);
        errors.ThrowIfAny();
        if (body.Url is not null) webhook.Url = body.Url;
        if (body.Events is not null) webhook.Events = [.. body.Events.Distinct()];
        if (body.Description is not null) webhook.Description = body.Description;
        webhook.UpdatedAt = clock.GetUtcNow();
        if (body.Enabled is { } enabled) webhook.SetEnabled(enabled, webhook.UpdatedAt);
        audit.Record(caller, "update", "webhook", webhook.Id, body);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(WebhookDto.From(webhook));
    }

    [Function(nameof(DeleteWebhook)), Access(OrgRole.Admin, Scopes.WorkflowsWrite), EndpointSummary("Delete a webhook and its delivery history.")]
    public async Task<NoContent> DeleteWebhook([HttpTrigger(AuthorizationLevel.Anonymous, "delete", Route = "v1/webhooks/{webhookId}")] HttpRequest request,
        string webhookId, Caller caller, CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        db.Webhooks.Remove(webhook);
        audit.Record(caller, "delete", "webhook", webhook.Id, new { webhook.Url });
        await db.SaveChangesAsync(ct);
        return TypedResults.NoContent();
    }

    [Function(nameof(RotateWebhookSecret)), Access(OrgRole.Admin, Scopes.WorkflowsWrite),
     EndpointSummary("Replace the signing secret; the old one stops verifying at once.")]
    public async Task<Ok<WebhookWithSecretDto>> RotateWebhookSecret(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/{webhookId}/rotate-secret")] HttpRequest request, string webhookId, Caller caller,
        CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        webhook.RotateSecret(clock.GetUtcNow());
        audit.Record(caller, "rotate_secret", "webhook", webhook.Id);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(new WebhookWithSecretDto(WebhookDto.From(webhook), webhook.Secret));
    }

    [Function(nameof(PingWebhook)), Access(OrgRole.Admin, Scopes.WorkflowsWrite),
     EndpointSummary("Send a webhook.ping event to this endpoint only, to check it receives and verifies.")]
    public async Task<Accepted<WebhookDeliveryDto>> PingWebhook(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/{webhookId}/ping")] HttpRequest request, string webhookId, Caller caller,
        CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        var (eventId, now) = (Ids.New("evt"), clock.GetUtcNow());
        var delivery = new WebhookDelivery
        {
            Id = Ids.New("whd"), WebhookId = webhook.Id, OrgId = caller.OrgId, EventId = eventId, Event = WebhookEvents.Ping, NextRetryAt = now, CreatedAt = now,
            Payload = JsonSerializer.SerializeToElement(new { id = eventId, type = WebhookEvents.Ping, created_at = now, org_id = caller.OrgId,
                data = new { webhook_id = webhook.Id } }),
        };
        db.WebhookDeliveries.Add(delivery);
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/webhooks/{webhook.Id}/deliveries", WebhookDeliveryDto.From(delivery));
    }

    [Function(nameof(ListWebhookDeliveries)), Access(OrgRole.Admin, Scopes.WorkflowsWrite),
     EndpointSummary("Delivery history, newest first; filter by status (pending, success, failed).")]
    public async Task<Ok<Page<WebhookDeliveryDto>>> ListWebhookDeliveries(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "v1/webhooks/{webhookId}/deliveries")] HttpRequest request, string webhookId, string? status,
        Caller caller, [AsParameters] PageQuery page, CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        if (status is not null and not ("pending" or "success" or "failed")) throw new ValidationFailedException("status", "must be one of: pending, success, failed");
        var query = db.WebhookDeliveries.Where(d => d.WebhookId == webhook.Id);
        if (status is not null) query = query.Where(d => d.Status == status);
        return TypedResults.Ok(await query.ToPageAsync(page, WebhookDeliveryDto.From, ct));
    }

    [Function(nameof(RedeliverWebhookDelivery)), Access(OrgRole.Admin, Scopes.WorkflowsWrite),
     EndpointSummary("Send a delivery again, from its first attempt.")]
    public async Task<Accepted<WebhookDeliveryDto>> RedeliverWebhookDelivery(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver")] HttpRequest request,
        string webhookId, string deliveryId, Caller caller, CancellationToken ct)
    {
        var webhook = await FindAsync(db, caller, webhookId, ct);
        var delivery = await db.WebhookDeliveries.SingleOrDefaultAsync(d => d.Id == deliveryId && d.WebhookId == webhook.Id, ct)
                       ?? throw new NotFoundException("delivery", deliveryId);
        delivery.Redeliver(clock.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return TypedResults.Accepted($"/v1/webhooks/{webhook.Id}/deliveries", WebhookDeliveryDto.From(delivery));
    }

    private async Task CheckAsync(WebhookRequest body, FieldErrors errors, CancellationToken ct)
    {
        if (body.Url is not null)
        {
            if (body.Url.Length > 2048 || !Uri.TryCreate(body.Url, UriKind.Absolute, out var url)
                || url.Scheme is not ("https" or "http") || url.UserInfo.Length > 0 || url.Fragment.Length > 0)
                errors.Add("url", "must be an absolute http(s) URL without credentials or fragment, at most 2048 characters");
            else if (!options.AllowPrivateWebhookAddresses && await RefusedAddressesAsync(url, ct) is [_, ..] refused)
                errors.Add("url", $"must reach a public internet address; {url.IdnHost} is {string.Join(", ", refused.Select(a => a.ToString()))}: special-purpose or local, and webhooks are never sent there");
        }
        if (body.Events is { Count: 0 }) errors.Add("events", "must list at least one event");
        for (var i = 0; i < (body.Events?.Count ?? 0); i++)
            if (!WebhookEvents.IsSubscribable(body.Events![i]))
                errors.Add($"events[{i}]", $"unknown event '{body.Events[i]}'; known: {string.Join(", ", WebhookEvents.All)}, or *");
        if (body.Description is { Length: > 500 }) errors.Add("description", "must be at most 500 characters");
    }

    /// <summary>
    /// The host's addresses when every one of them is refused, else none. A name is resolved once here so one that only
    /// leads inside (localhost, an internal name) is a 400 at once; a name that does not resolve (yet) is accepted.
    /// Delivery checks every connection again after DNS, which may change.
    /// </summary>
    private static async Task<IPAddress[]> RefusedAddressesAsync(Uri url, CancellationToken ct)
    {
        IPAddress[] addresses;
        if (IPAddress.TryParse(url.IdnHost, out var literal)) addresses = [literal];
        else
        {
            using var resolving = CancellationTokenSource.CreateLinkedTokenSource(ct);
            resolving.CancelAfter(TimeSpan.FromSeconds(2));
            try
            {
                addresses = await Dns.GetHostAddressesAsync(url.IdnHost, resolving.Token);
            }
            catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !ct.IsCancellationRequested))
            {
                return [];
            }
        }
        return addresses.Length > 0 && SpecialPurposeAddresses.Refused(addresses).Length == addresses.Length ? addresses : [];
    }

    private static async Task<Webhook> FindAsync(FentaDb db, Caller caller, string webhookId, CancellationToken ct) =>
        await db.Webhooks.SingleOrDefaultAsync(w => w.Id == webhookId && w.OrgId == caller.OrgId, ct) ?? throw new NotFoundException("webhook", webhookId);

}
