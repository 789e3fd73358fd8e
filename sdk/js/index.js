// FentaWeb's API client for JavaScript (Node.js 18+: it uses global fetch and node:crypto). No dependencies.
//
// Every operation is one entry of OPERATIONS: `resource.method` → `VERB /path`. A call takes the path's parameters in
// order, then the body (POST, PATCH) or the query (GET, DELETE), then options. The test suite checks this table against
// the API's OpenAPI document, so a new endpoint without an entry fails the build.
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export const OPERATIONS = {
  auth: {
    register: 'POST /v1/auth/register',
    login: 'POST /v1/auth/login',
    refresh: 'POST /v1/auth/refresh',
    logout: 'POST /v1/auth/logout',
    me: 'GET /v1/auth/me',
    sendVerification: 'POST /v1/auth/verify-email/send',
    verifyEmail: 'POST /v1/auth/verify-email',
    requestPasswordReset: 'POST /v1/auth/password-reset',
    confirmPasswordReset: 'POST /v1/auth/password-reset/confirm',
  },
  org: {
    get: 'GET /v1/org',
    listMembers: 'GET /v1/org/members',
    invite: 'POST /v1/org/members',
    changeRole: 'PATCH /v1/org/members/{memberId}',
    removeMember: 'DELETE /v1/org/members/{memberId}',
    listInvitations: 'GET /v1/org/invitations',
    cancelInvitation: 'DELETE /v1/org/invitations/{invitationId}',
    acceptInvitation: 'POST /v1/invitations/{token}/accept',
  },
  apiKeys: {
    create: 'POST /v1/api-keys',
    list: 'GET /v1/api-keys',
    get: 'GET /v1/api-keys/{keyId}',
    revoke: 'DELETE /v1/api-keys/{keyId}',
    roll: 'POST /v1/api-keys/{keyId}/roll',
  },
  templates: {
    create: 'POST /v1/templates',
    list: 'GET /v1/templates',
    get: 'GET /v1/templates/{templateId}',
    update: 'PATCH /v1/templates/{templateId}',
    delete: 'DELETE /v1/templates/{templateId}',
    copy: 'POST /v1/templates/{templateId}/copy',
  },
  workflows: {
    create: 'POST /v1/workflows',
    list: 'GET /v1/workflows',
    get: 'GET /v1/workflows/{workflowId}',
    update: 'PATCH /v1/workflows/{workflowId}',
    delete: 'DELETE /v1/workflows/{workflowId}',
    listVersions: 'GET /v1/workflows/{workflowId}/versions',
    getVersion: 'GET /v1/workflows/{workflowId}/versions/{version}',
    estimate: 'POST /v1/workflows/{workflowId}/estimate',
    run: 'POST /v1/workflows/{workflowId}/run',
  },
  nodes: { list: 'GET /v1/nodes' },
  voices: { list: 'GET /v1/voices' },
  models: {
    list: 'GET /v1/models',
    get: 'GET /v1/models/{modelId}',
  },
  jobs: {
    create: 'POST /v1/jobs',
    estimate: 'POST /v1/jobs/estimate',
    list: 'GET /v1/jobs',
    get: 'GET /v1/jobs/{jobId}',
    cancel: 'POST /v1/jobs/{jobId}/cancel',
    retry: 'POST /v1/jobs/{jobId}/retry',
    logs: 'GET /v1/jobs/{jobId}/logs',
    events: 'GET /v1/jobs/{jobId}/events',
  },
  generations: {
    generateImage: 'POST /v1/kai/generate-image',
    generateVideo: 'POST /v1/kai/generate-video',
    editVideo: 'POST /v1/kai/edit-video',
    generateMusic: 'POST /v1/kai/generate-music',
    list: 'GET /v1/kai/generations',
    get: 'GET /v1/kai/generations/{generationId}',
  },
  assets: {
    init: 'POST /v1/assets/init',
    complete: 'POST /v1/assets/complete',
    searchStock: 'GET /v1/assets/stock/search',
    list: 'GET /v1/assets',
    get: 'GET /v1/assets/{assetId}',
    delete: 'DELETE /v1/assets/{assetId}',
  },
  schedules: {
    create: 'POST /v1/schedules',
    list: 'GET /v1/schedules',
    get: 'GET /v1/schedules/{scheduleId}',
    update: 'PATCH /v1/schedules/{scheduleId}',
    delete: 'DELETE /v1/schedules/{scheduleId}',
  },
  webhooks: {
    create: 'POST /v1/webhooks',
    list: 'GET /v1/webhooks',
    get: 'GET /v1/webhooks/{webhookId}',
    update: 'PATCH /v1/webhooks/{webhookId}',
    delete: 'DELETE /v1/webhooks/{webhookId}',
    rotateSecret: 'POST /v1/webhooks/{webhookId}/rotate-secret',
    ping: 'POST /v1/webhooks/{webhookId}/ping',
    listDeliveries: 'GET /v1/webhooks/{webhookId}/deliveries',
    redeliver: 'POST /v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver',
  },
  usage: {
    get: 'GET /v1/usage',
    quota: 'GET /v1/usage/quota',
  },
  billing: {
    get: 'GET /v1/billing',
    invoices: 'GET /v1/billing/invoices',
    checkout: 'POST /v1/billing/checkout',
    portal: 'POST /v1/billing/portal',
  },
  enrichment: {
    generate: 'POST /v1/enrichment/generate',
  },
  integrations: {
    platforms: 'GET /v1/integrations/platforms',
    list: 'GET /v1/integrations',
    get: 'GET /v1/integrations/{integrationId}',
    connect: 'POST /v1/integrations/{platform}/connect',
    callback: 'GET /v1/integrations/{platform}/callback',
    options: 'GET /v1/integrations/{integrationId}/options',
    disconnect: 'DELETE /v1/integrations/{integrationId}',
  },
  publications: {
    publish: 'POST /v1/jobs/{jobId}/publish',
    list: 'GET /v1/publications',
    get: 'GET /v1/publications/{publicationId}',
    cancel: 'POST /v1/publications/{publicationId}/cancel',
  },
  shareLinks: {
    create: 'POST /v1/share-links',
    list: 'GET /v1/share-links',
    get: 'GET /v1/share-links/{linkId}',
    revoke: 'DELETE /v1/share-links/{linkId}',
  },
  analytics: {
    overview: 'GET /v1/analytics/overview',
    videos: 'GET /v1/analytics/videos',
    platforms: 'GET /v1/analytics/platforms',
  },
  storyboards: {
    create: 'POST /v1/storyboards',
    list: 'GET /v1/storyboards',
    get: 'GET /v1/storyboards/{storyboardId}',
    update: 'PATCH /v1/storyboards/{storyboardId}',
    delete: 'DELETE /v1/storyboards/{storyboardId}',
    addScene: 'POST /v1/storyboards/{storyboardId}/scenes',
    updateScene: 'PATCH /v1/storyboards/{storyboardId}/scenes/{n}',
    deleteScene: 'DELETE /v1/storyboards/{storyboardId}/scenes/{n}',
    regenerateScene: 'POST /v1/storyboards/{storyboardId}/scenes/{n}/regenerate',
    render: 'POST /v1/storyboards/{storyboardId}/render',
  },
};

/** POSTs that create a job or a payment session: the client sends an Idempotency-Key, so a retried call never makes two. */
const IDEMPOTENT_POSTS = new Set(['jobs.create', 'workflows.run', 'billing.checkout']);
const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** An answer other than 2xx, from the API's problem+json body (RFC 9457). */
export class FentaWebError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem.code ?? problem.title ?? 'error'}: ${problem.detail ?? problem.title ?? ''}`.trim());
    this.name = 'FentaWebError';
    this.status = status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    /** For VALIDATION_FAILED: `[{ field, message, node_id }]`. */
    this.errors = problem.errors ?? [];
    this.problem = problem;
  }
}

export class FentaWeb {
  /**
   * @param {object} options
   * @param {string} [options.apiKey] An API key (`fw_…`) or an access token; default FENTAWEB_API_KEY.
   * @param {string} [options.baseUrl] The environment's API address; default FENTAWEB_BASE_URL, else the local stack.
   * @param {string} [options.orgId] The org of every call (X-Org-Id), for users in several orgs.
   * @param {number} [options.maxRetries] Retries of a call that failed to connect, was rate limited or hit a 5xx (2).
   * @param {number} [options.timeoutMs] Per attempt (60 000).
   */
  constructor({ apiKey, baseUrl, orgId, maxRetries = 2, timeoutMs = 60_000, fetch: fetchImpl } = {}) {
    const env = globalThis.process?.env ?? {};
    this.apiKey = apiKey ?? env.FENTAWEB_API_KEY;
    this.baseUrl = (baseUrl ?? env.FENTAWEB_BASE_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
    this.orgId = orgId;
    this.maxRetries = maxRetries;
    this.timeoutMs = timeoutMs;
    this.fetch = fetchImpl ?? globalThis.fetch.bind(globalThis);
    for (const [resource, methods] of Object.entries(OPERATIONS)) {
      this[resource] = {};
      for (const [method, operation] of Object.entries(methods))
        this[resource][method] = (...args) => this.#call(`${resource}.${method}`, operation, args);
    }
    this.jobs.wait = (jobId, options) => this.#waitForJob(jobId, options);
    this.jobs.events = (jobId, options) => this.#events(jobId, options);
    this.assets.upload = (file) => this.#upload(file);
  }

  /** Calls any endpoint: `request('GET', '/v1/jobs', { query, body, headers })`; returns the parsed body (null for 204). */
  async request(method, path, { query, body, headers = {}, idempotencyKey, signal } = {}) {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined && value !== null) url.searchParams.set(key, value instanceof Date ? value.toISOString() : String(value));
    const sent = { ...this.#headers(), ...headers };
    if (body !== undefined) sent['content-type'] = 'application/json';
    if (idempotencyKey) sent['idempotency-key'] = idempotencyKey;
    const retriable = method === 'GET' || method === 'DELETE' || Boolean(idempotencyKey);
    for (let attempt = 0; ; attempt++) {
      let response;
      try {
        response = await this.fetch(url, {
          method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body),
          signal: signal ?? AbortSignal.timeout(this.timeoutMs),
        });
      } catch (error) {
        if (attempt < this.maxRetries && retriable && !signal?.aborted) { await sleep(backoff(attempt)); continue; }
        throw error;
      }
      if (response.ok) return response.status === 204 ? null : response.json();
      const again = response.status === 429 || (response.status >= 500 && retriable);
      if (attempt < this.maxRetries && again) {
        const retryAfter = Number(response.headers.get('retry-after'));
        await response.body?.cancel();
        await sleep(retryAfter > 0 ? Math.min(retryAfter, 60) * 1000 : backoff(attempt));
        continue;
      }
      const text = await response.text();
      let problem;
      try { problem = JSON.parse(text); } catch { problem = { title: response.statusText, detail: text }; }
      throw new FentaWebError(response.status, problem);
    }
  }

  /** Every item of a list, page by page: `for await (const job of client.paginate(client.jobs.list, { status: 'completed' }))`. */
  async *paginate(list, query = {}) {
    for (let cursor; ;) {
      const page = await list({ ...query, ...(cursor ? { cursor } : {}) });
      yield* page.data;
      if (!page.has_more || !page.next_cursor) return;
      cursor = page.next_cursor;
    }
  }

  /**
   * Checks a delivery's `Fenta-Signature: t=<unix>,v1=<hex>` header: HMAC-SHA256 with the webhook's secret over
   * `<t>.<raw body>`, at most `toleranceSeconds` old. Pass the raw body, before any JSON parsing.
   */
  static verifyWebhook(rawBody, header, secret, toleranceSeconds = 300, now = Date.now() / 1000) {
    const parts = Object.fromEntries(String(header ?? '').split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    }));
    if (!parts.t || !parts.v1 || !/^[0-9a-f]+$/i.test(parts.v1)) return false;
    const expected = createHmac('sha256', secret).update(`${parts.t}.`).update(rawBody).digest();
    const given = Buffer.from(parts.v1, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected) && Math.abs(now - Number(parts.t)) <= toleranceSeconds;
  }

  #headers() {
    const headers = { accept: 'application/json', 'user-agent': '@fentaweb/sdk/1.0.0' };
    if (this.apiKey) headers.authorization = `Bearer ${this.apiKey}`;
    if (this.orgId) headers['x-org-id'] = this.orgId;
    return headers;
  }

  #call(name, operation, args) {
    const [method, template] = operation.split(' ');
    const names = [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
    const values = args.slice(0, names.length);
    if (values.length < names.length || values.some((value) => typeof value !== 'string' && typeof value !== 'number'))
      throw new TypeError(`${name}(${names.join(', ')}${names.length ? ', ' : ''}…) takes ${names.join(', ') || 'no path values'} first`);
    const path = names.reduce((built, key, i) => built.replace(`{${key}}`, encodeURIComponent(values[i])), template);
    const [payload, options = {}] = args.slice(names.length);
    const hasBody = method === 'POST' || method === 'PATCH';
    const headers = { ...options.headers };
    if (options.ifMatch !== undefined) headers['if-match'] = `"${options.ifMatch}"`;
    if (options.orgId) headers['x-org-id'] = options.orgId;
    return this.request(method, path, {
      body: hasBody ? payload ?? {} : undefined,
      query: hasBody ? options.query : payload,
      headers,
      idempotencyKey: options.idempotencyKey ?? (IDEMPOTENT_POSTS.has(name) ? randomUUID() : undefined),
      signal: options.signal,
    });
  }

  /** Polls a job until it is completed, failed or cancelled, and returns it; throws on timeout. */
  async #waitForJob(jobId, { intervalMs = 2000, timeoutMs = 30 * 60_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = await this.jobs.get(jobId);
      if (FINISHED.has(job.status)) return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} is still ${job.status} after ${timeoutMs} ms`);
      await sleep(intervalMs);
    }
  }

  /** The job's Server-Sent Events (`{ event: 'node' | 'job', id, data }`) until it ends. */
  async *#events(jobId, { signal } = {}) {
    const response = await this.fetch(`${this.baseUrl}/v1/jobs/${encodeURIComponent(jobId)}/events`, {
      headers: { ...this.#headers(), accept: 'text/event-stream' }, signal,
    });
    if (!response.ok) throw new FentaWebError(response.status, await response.json().catch(() => ({ title: response.statusText })));
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n/g, '\n');
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = { event: 'message', id: undefined, data: '' };
        for (const line of block.split('\n')) {
          const at = line.indexOf(':');
          if (at <= 0) continue;
          const field = line.slice(0, at);
          const value = line.slice(at + 1).replace(/^ /, '');
          if (field === 'data') event.data += (event.data ? '\n' : '') + value;
          else if (field === 'event' || field === 'id') event[field] = value;
        }
        if (event.data) yield { ...event, data: JSON.parse(event.data) };
      }
    }
  }

  /**
   * Uploads a file as an asset: init, PUT to the signed Blob Storage link, complete. `data` is a Uint8Array, Buffer or
   * Blob; returns the ready asset.
   */
  async #upload({ data, filename, contentType }) {
    const bytes = data instanceof Blob ? new Uint8Array(await data.arrayBuffer()) : data;
    const init = await this.assets.init({ filename, size_bytes: bytes.byteLength, content_type: contentType });
    const put = await this.fetch(init.upload_url, { method: init.upload_method ?? 'PUT', headers: init.upload_headers ?? {}, body: bytes });
    if (!put.ok) throw new FentaWebError(put.status, { title: 'Upload to storage failed', detail: await put.text() });
    return this.assets.complete({ asset_id: init.asset.id });
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (attempt) => Math.min(500 * 2 ** attempt, 8000) * (0.8 + Math.random() * 0.4);

export default FentaWeb;
