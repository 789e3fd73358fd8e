// Types of @fentaweb/sdk. Bodies and answers are the API's JSON (see the OpenAPI document at /openapi/v1.json).

export type Body = Record<string, unknown>;
export type Query = Record<string, string | number | boolean | Date | undefined | null>;

export interface CallOptions {
  /** For PATCH /v1/workflows/{id}: the version the change is based on (412 when stale). */
  ifMatch?: number | string;
  /** Sent as Idempotency-Key; made by the client for job creation, runs and checkout when not given. */
  idempotencyKey?: string;
  /** The org of this call (X-Org-Id). */
  orgId?: string;
  /** The query of a POST or PATCH. */
  query?: Query;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface JobEvent {
  event: 'node' | 'job' | string;
  id?: string;
  data: any;
}

export interface ClientOptions {
  /** An API key (fw_…) or an access token; default FENTAWEB_API_KEY. */
  apiKey?: string;
  /** The environment's API address; default FENTAWEB_BASE_URL, else http://127.0.0.1:8080. */
  baseUrl?: string;
  orgId?: string;
  /** Retries of a call that failed to connect, was rate limited or hit a 5xx, when repeating it is safe (2). */
  maxRetries?: number;
  /** Per attempt (60 000). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export declare const OPERATIONS: Record<string, Record<string, string>>;

/** An answer other than 2xx, from the API's problem+json body (RFC 9457). */
export declare class FentaWebError extends Error {
  readonly status: number;
  readonly code?: string;
  readonly title?: string;
  readonly detail?: string;
  readonly errors: { field: string; message: string; node_id?: string }[];
  readonly problem: Record<string, unknown>;
}

export declare class FentaWeb {
  constructor(options?: ClientOptions);
  /** Calls any endpoint; resolves to the parsed body (null for 204). */
  request(method: string, path: string, options?: { query?: Query; body?: unknown; headers?: Record<string, string>; idempotencyKey?: string; signal?: AbortSignal }): Promise<any>;
  /** Every item of a list, page by page. */
  paginate<T = any>(list: (query?: Query) => Promise<{ data: T[]; next_cursor?: string | null; has_more: boolean }>, query?: Query): AsyncIterable<T>;
  /** Checks a delivery's Fenta-Signature header (t=<unix>,v1=<hex>) over the raw body. */
  static verifyWebhook(rawBody: string | Uint8Array, header: string, secret: string, toleranceSeconds?: number, now?: number): boolean;

  readonly auth: {
    /** POST /v1/auth/register */
    register(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/login */
    login(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/refresh */
    refresh(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/logout */
    logout(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/auth/me */
    me(query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/verify-email/send */
    sendVerification(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/verify-email */
    verifyEmail(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/password-reset */
    requestPasswordReset(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/auth/password-reset/confirm */
    confirmPasswordReset(body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly org: {
    /** GET /v1/org */
    get(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/org/members */
    listMembers(query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/org/members */
    invite(body?: Body, options?: CallOptions): Promise<any>;
    /** PATCH /v1/org/members/{memberId} */
    changeRole(memberId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/org/members/{memberId} */
    removeMember(memberId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/org/invitations */
    listInvitations(query?: Query, options?: CallOptions): Promise<any>;
    /** DELETE /v1/org/invitations/{invitationId} */
    cancelInvitation(invitationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/invitations/{token}/accept */
    acceptInvitation(token: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly apiKeys: {
    /** POST /v1/api-keys */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/api-keys */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/api-keys/{keyId} */
    get(keyId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** DELETE /v1/api-keys/{keyId} */
    revoke(keyId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/api-keys/{keyId}/roll */
    roll(keyId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly templates: {
    /** POST /v1/templates */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/templates */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/templates/{templateId} */
    get(templateId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** PATCH /v1/templates/{templateId} */
    update(templateId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/templates/{templateId} */
    delete(templateId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/templates/{templateId}/copy */
    copy(templateId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly workflows: {
    /** POST /v1/workflows */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/workflows */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/workflows/{workflowId} */
    get(workflowId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** PATCH /v1/workflows/{workflowId} */
    update(workflowId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/workflows/{workflowId} */
    delete(workflowId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/workflows/{workflowId}/versions */
    listVersions(workflowId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/workflows/{workflowId}/versions/{version} */
    getVersion(workflowId: string | number, version: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/workflows/{workflowId}/estimate */
    estimate(workflowId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/workflows/{workflowId}/run */
    run(workflowId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly nodes: {
    /** GET /v1/nodes */
    list(query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly voices: {
    /** GET /v1/voices */
    list(query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly models: {
    /** GET /v1/models */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/models/{modelId} */
    get(modelId: string | number, query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly jobs: {
    /** POST /v1/jobs */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/jobs/estimate */
    estimate(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/jobs */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/jobs/{jobId} */
    get(jobId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/jobs/{jobId}/cancel */
    cancel(jobId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/jobs/{jobId}/retry */
    retry(jobId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/jobs/{jobId}/logs */
    logs(jobId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** Polls the job until it is completed, failed or cancelled. */
    wait(jobId: string, options?: { intervalMs?: number; timeoutMs?: number }): Promise<any>;
    /** The job's Server-Sent Events until it ends. */
    events(jobId: string, options?: { signal?: AbortSignal }): AsyncIterable<JobEvent>;
  };
  readonly generations: {
    /** POST /v1/kai/generate-image */
    generateImage(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/kai/generate-video */
    generateVideo(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/kai/edit-video */
    editVideo(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/kai/generate-music */
    generateMusic(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/kai/generations */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/kai/generations/{generationId} */
    get(generationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly assets: {
    /** POST /v1/assets/init */
    init(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/assets/complete */
    complete(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/assets/stock/search */
    searchStock(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/assets */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/assets/{assetId} */
    get(assetId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** DELETE /v1/assets/{assetId} */
    delete(assetId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** init, PUT to the signed Blob Storage link, complete; resolves to the ready asset. */
    upload(file: { data: Uint8Array | Blob; filename: string; contentType: string }): Promise<any>;
  };
  readonly schedules: {
    /** POST /v1/schedules */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/schedules */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/schedules/{scheduleId} */
    get(scheduleId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** PATCH /v1/schedules/{scheduleId} */
    update(scheduleId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/schedules/{scheduleId} */
    delete(scheduleId: string | number, query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly webhooks: {
    /** POST /v1/webhooks */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/webhooks */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/webhooks/{webhookId} */
    get(webhookId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** PATCH /v1/webhooks/{webhookId} */
    update(webhookId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/webhooks/{webhookId} */
    delete(webhookId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/webhooks/{webhookId}/rotate-secret */
    rotateSecret(webhookId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/webhooks/{webhookId}/ping */
    ping(webhookId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/webhooks/{webhookId}/deliveries */
    listDeliveries(webhookId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver */
    redeliver(webhookId: string | number, deliveryId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly usage: {
    /** GET /v1/usage */
    get(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/usage/quota */
    quota(query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly billing: {
    /** GET /v1/billing */
    get(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/billing/invoices */
    invoices(query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/billing/checkout */
    checkout(body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/billing/portal */
    portal(body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly enrichment: {
    /** POST /v1/enrichment/generate */
    generate(body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly integrations: {
    /** GET /v1/integrations/platforms: each platform, whether it is configured (else the setting it lacks), its scopes and video rules. */
    platforms(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/integrations */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/integrations/{integrationId} */
    get(integrationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/integrations/{platform}/connect: the platform's authorization URL to send the person to. */
    connect(platform: 'youtube' | 'tiktok' | 'instagram' | string, body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/integrations/{platform}/callback (the platform's redirect carries `code` and `state`; browsers follow it themselves). */
    callback(platform: 'youtube' | 'tiktok' | 'instagram' | string, query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/integrations/{integrationId}/options: what the account may post now (privacy levels, longest video, modes). */
    options(integrationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** DELETE /v1/integrations/{integrationId} */
    disconnect(integrationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly publications: {
    /** POST /v1/jobs/{jobId}/publish: a completed job's video to connected accounts; resolves to the publication (202). */
    publish(jobId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/publications */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/publications/{publicationId} */
    get(publicationId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/publications/{publicationId}/cancel */
    cancel(publicationId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
  readonly shareLinks: {
    /** POST /v1/share-links: a public page (/s/{token}) for a completed job's video (`job_id`) or an asset (`asset_id`); resolves to the link with its `url`. */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/share-links (`job_id`, `asset_id` filter) */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/share-links/{linkId} */
    get(linkId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** DELETE /v1/share-links/{linkId}: its page answers 410 from now on (idempotent). */
    revoke(linkId: string | number, query?: Query, options?: CallOptions): Promise<any>;
  };
  readonly analytics: {
    /** GET /v1/analytics/overview (`from`, `to`: ISO 8601; the last 30 days by default) */
    overview(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/analytics/videos */
    videos(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/analytics/platforms */
    platforms(query?: Query, options?: CallOptions): Promise<any>;
  };
  /** Storyboards (docs/storyboards.md): scenes with an image each, edited, redrawn one at a time, rendered. {n} is a scene's 1-based position. */
  readonly storyboards: {
    /** POST /v1/storyboards */
    create(body?: Body, options?: CallOptions): Promise<any>;
    /** GET /v1/storyboards */
    list(query?: Query, options?: CallOptions): Promise<any>;
    /** GET /v1/storyboards/{storyboardId} */
    get(storyboardId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** PATCH /v1/storyboards/{storyboardId} */
    update(storyboardId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/storyboards/{storyboardId} */
    delete(storyboardId: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/storyboards/{storyboardId}/scenes */
    addScene(storyboardId: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** PATCH /v1/storyboards/{storyboardId}/scenes/{n} */
    updateScene(storyboardId: string | number, n: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** DELETE /v1/storyboards/{storyboardId}/scenes/{n} */
    deleteScene(storyboardId: string | number, n: string | number, query?: Query, options?: CallOptions): Promise<any>;
    /** POST /v1/storyboards/{storyboardId}/scenes/{n}/regenerate */
    regenerateScene(storyboardId: string | number, n: string | number, body?: Body, options?: CallOptions): Promise<any>;
    /** POST /v1/storyboards/{storyboardId}/render */
    render(storyboardId: string | number, body?: Body, options?: CallOptions): Promise<any>;
  };
}

export default FentaWeb;
