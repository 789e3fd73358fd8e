// The typed API client: openapi-fetch over the generated paths. Every request carries X-Fenta-Client, the bearer
// token and X-Org-Id; a 401 triggers one refresh and one retry, and a failed refresh sends the app to /sign-in.
// Refreshes are single-flight (session.ts): concurrent 401s share one, and a 401 for a token this tab has already
// replaced just retries with the new one.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';
import { baseHeaders, getAccessToken, refreshSession } from './session';

let onUnauthenticated: () => void = () => {};
/** The auth provider registers where to go when the session cannot be renewed. */
export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

const retried = new WeakSet<Request>();
const clones = new WeakMap<Request, Request>();

const auth: Middleware = {
  onRequest({ request }) {
    for (const [k, v] of Object.entries(baseHeaders())) request.headers.set(k, v);
    clones.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    if (response.status !== 401 || retried.has(request) || isAuthEndpoint(request.url)) return response;
    const hadToken = getAccessToken() !== null;
    if (!(await refreshSession(bearerOf(request.headers)))) {
      if (hadToken || !isPublic()) onUnauthenticated();
      return response;
    }
    const again = clones.get(request) ?? request;
    const retry = new Request(again);
    for (const [k, v] of Object.entries(baseHeaders())) retry.headers.set(k, v);
    retried.add(retry);
    return fetch(retry);
  },
};

/** The bearer token a request was sent with ('' for none): what a 401 refused. */
function bearerOf(headers: Headers): string {
  return headers.get('Authorization')?.replace(/^Bearer /, '') ?? '';
}

function isAuthEndpoint(url: string): boolean {
  return /\/v1\/auth\/(login|register|refresh|logout|password-reset|verify-email$)/.test(new URL(url, location.origin).pathname);
}

function isPublic(): boolean {
  return /^\/(sign-in|register|forgot-password|reset-password|verify-email)/.test(location.pathname);
}

// fetch is looked up per call (not captured at creation), so tests can stub it.
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '', credentials: 'same-origin', fetch: (request) => globalThis.fetch(request) });
api.use(auth);

/**
 * fetch() with the same headers and the same 401 handling, for what openapi-fetch does not cover (Server-Sent
 * Events, which are read as a stream).
 */
export async function authedFetch(input: string, init: RequestInit = {}): Promise<Response> {
  let sentWith = '';
  const go = () => {
    sentWith = getAccessToken() ?? '';
    return fetch(input, { ...init, credentials: 'same-origin', headers: { ...baseHeaders(), ...(init.headers as Record<string, string>) } });
  };
  const res = await go();
  if (res.status !== 401) return res;
  if (!(await refreshSession(sentWith))) {
    onUnauthenticated();
    return res;
  }
  return go();
}
