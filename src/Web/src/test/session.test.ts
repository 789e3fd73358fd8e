import { afterEach, describe, expect, it, vi } from 'vitest';
import { api } from '@/api/client';
import { applySession, baseHeaders, clearSession, getAccessToken, logout, refreshSession, setOrgId } from '@/api/session';
import type { Session } from '@/api/types';

afterEach(() => {
  vi.unstubAllGlobals();
  delete (navigator as { locks?: unknown }).locks;
  clearSession();
  setOrgId(null);
});

type FetchInput = string | Request;
const urlOf = (input: FetchInput) => new URL(typeof input === 'string' ? input : input.url, 'http://localhost').pathname;
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A Web Locks stand-in shared by every "tab" of a test: one holder per name at a time, the others queue (FIFO). */
function installLocks() {
  const tails = new Map<string, Promise<unknown>>();
  const requested: string[] = [];
  const locks = {
    request(name: string, options: unknown, task?: () => Promise<unknown>) {
      const run = (task ?? (options as () => Promise<unknown>)) as () => Promise<unknown>;
      requested.push(name);
      const result = (tails.get(name) ?? Promise.resolve()).then(() => run());
      tails.set(name, result.catch(() => undefined));
      return result;
    },
  };
  Object.defineProperty(navigator, 'locks', { value: locks, configurable: true });
  return { requested };
}

describe('session', () => {
  it('sends the CSRF header always, the bearer token and org when known', () => {
    expect(baseHeaders()).toEqual({ 'X-Fenta-Client': 'web' });
    applySession({ access_token: 'at1' });
    setOrgId('org_2');
    expect(baseHeaders()).toEqual({ 'X-Fenta-Client': 'web', Authorization: 'Bearer at1', 'X-Org-Id': 'org_2' });
  });

  it('keeps no refresh token anywhere: not in storage, not sent back, even if an answer carries one', async () => {
    applySession({ access_token: 'secret-access', refresh_token: 'secret-refresh' } as Session);
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    expect(stored).not.toContain('secret-access');
    expect(stored).not.toContain('secret-refresh');
    const fetchMock = vi.fn(async (_input: FetchInput, _init?: RequestInit) => json({ access_token: 'at2', refresh_token: null }));
    vi.stubGlobal('fetch', fetchMock);
    await refreshSession();
    const init = fetchMock.mock.calls[0][1]!;
    expect(init.body).toBeUndefined();
    expect(JSON.stringify(init.headers)).not.toContain('secret-refresh');
  });

  it('refreshes by cookie (no body) and shares one request between callers', async () => {
    const fetchMock = vi.fn(async (_input: FetchInput, _init?: RequestInit) => json({ access_token: 'at2' }));
    vi.stubGlobal('fetch', fetchMock);
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a && b).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('/v1/auth/refresh');
    expect(init.method).toBe('POST');
    expect(init.body).toBeUndefined();
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['X-Fenta-Client']).toBe('web');
    expect(getAccessToken()).toBe('at2');
  });

  it('a failed refresh clears the session', async () => {
    applySession({ access_token: 'old' });
    vi.stubGlobal('fetch', vi.fn(async () => json({ code: 'SESSION_COOKIE_MISSING' }, 401)));
    expect(await refreshSession()).toBe(false);
    expect(getAccessToken()).toBeNull();
  });

  it('holds the fenta-refresh lock while refreshing', async () => {
    const { requested } = installLocks();
    vi.stubGlobal('fetch', vi.fn(async () => json({ access_token: 'at2' })));
    expect(await refreshSession()).toBe(true);
    expect(requested).toEqual(['fenta-refresh']);
  });

  it('logout posts to /v1/auth/logout without a body and clears the memory', async () => {
    applySession({ access_token: 'at1' });
    const fetchMock = vi.fn(async (_input: FetchInput, _init?: RequestInit) => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);
    await logout();
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit];
    expect(url).toBe('/v1/auth/logout');
    expect(init.method).toBe('POST');
    expect(init.body).toBeUndefined();
    expect((init.headers as Record<string, string>)['X-Fenta-Client']).toBe('web');
    expect(getAccessToken()).toBeNull();
  });

  it('logout clears the memory even when the API cannot be reached', async () => {
    applySession({ access_token: 'at1' });
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('offline'))));
    await logout();
    expect(getAccessToken()).toBeNull();
  });
});

describe('single-flight refresh', () => {
  /** An API whose /v1/jobs accepts only `valid`, and whose refresh answers when `release` is called. */
  function api401(valid: string) {
    const release = deferred();
    const calls = { refresh: 0, jobs: [] as string[] };
    const fetchMock = vi.fn(async (input: FetchInput) => {
      const path = urlOf(input);
      if (path === '/v1/auth/refresh') {
        calls.refresh++;
        await release.promise;
        return json({ access_token: valid, refresh_token: null });
      }
      const auth = (input as Request).headers.get('Authorization') ?? '';
      calls.jobs.push(auth);
      return auth === `Bearer ${valid}` ? json({ data: [], has_more: false, next_cursor: null }) : json({ code: 'UNAUTHORIZED' }, 401);
    });
    vi.stubGlobal('fetch', fetchMock);
    return { release, calls };
  }

  it('two concurrent 401s cause one refresh, and both requests are retried with the new token', async () => {
    applySession({ access_token: 'expired' });
    const { release, calls } = api401('fresh');
    const a = api.GET('/v1/jobs');
    const b = api.GET('/v1/jobs');
    await vi.waitFor(() => expect(calls.refresh).toBe(1));
    await new Promise((r) => setTimeout(r, 10)); // both 401s are in
    release.resolve();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra.response.status).toBe(200);
    expect(rb.response.status).toBe(200);
    expect(calls.refresh).toBe(1);
    expect(calls.jobs).toEqual(['Bearer expired', 'Bearer expired', 'Bearer fresh', 'Bearer fresh']);
  });

  it('a 401 for a token this tab already replaced retries without refreshing again', async () => {
    applySession({ access_token: 'expired' });
    const { release, calls } = api401('fresh');
    release.resolve();
    // The first request's refresh completes before the second request's 401 comes back.
    const slow = deferred();
    const base = globalThis.fetch as (input: FetchInput) => Promise<Response>;
    let first = true;
    vi.stubGlobal('fetch', async (input: FetchInput) => {
      if (urlOf(input) === '/v1/jobs' && first) {
        first = false;
        const res = await base(input);
        await slow.promise;
        return res;
      }
      return base(input);
    });
    const late = api.GET('/v1/jobs');
    const early = api.GET('/v1/jobs');
    expect((await early).response.status).toBe(200);
    expect(getAccessToken()).toBe('fresh');
    slow.resolve();
    expect((await late).response.status).toBe(200);
    expect(calls.refresh).toBe(1);
  });

  it('tabs take turns under the lock: the second refreshes with the cookie the first rotated (no reuse, no sign-out)', async () => {
    installLocks();
    // The API: one refresh cookie that rotates; presenting a spent one ends the login (REFRESH_TOKEN_REUSED).
    let cookie = 'r1';
    let n = 1;
    const spent = new Set<string>();
    let inFlight = 0;
    let maxInFlight = 0;
    let reused = false;
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: FetchInput) => {
        expect(urlOf(input)).toBe('/v1/auth/refresh');
        const presented = cookie; // the browser sends the cookie it holds when the request starts
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight--;
        if (spent.has(presented) || reused) {
          reused = true;
          return json({ code: 'REFRESH_TOKEN_REUSED' }, 401);
        }
        spent.add(presented);
        cookie = `r${++n}`;
        return json({ access_token: `at-${cookie}`, refresh_token: null });
      }),
    );
    // Two tabs: two copies of the session module (each its own memory), one cookie jar and one lock manager.
    vi.resetModules();
    const tabA = await import('@/api/session');
    vi.resetModules();
    const tabB = await import('@/api/session');
    expect(tabA).not.toBe(tabB);
    const [a, b] = await Promise.all([tabA.refreshSession(), tabB.refreshSession()]);
    expect([a, b]).toEqual([true, true]);
    expect(reused).toBe(false);
    expect(maxInFlight).toBe(1);
    expect(tabA.getAccessToken()).toBe('at-r2');
    expect(tabB.getAccessToken()).toBe('at-r3');
    tabA.clearSession();
    tabB.clearSession();
  });

  it('a sign-out in one tab signs the other tabs out', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    vi.resetModules();
    const tabA = await import('@/api/session');
    vi.resetModules();
    const tabB = await import('@/api/session');
    tabA.listenToOtherTabs();
    tabB.listenToOtherTabs();
    tabA.applySession({ access_token: 'at-a' });
    tabB.applySession({ access_token: 'at-b' });
    const signedOut = vi.fn();
    tabB.onSignedOutElsewhere(signedOut);
    await tabA.logout();
    await vi.waitFor(() => expect(signedOut).toHaveBeenCalledTimes(1));
    expect(tabB.getAccessToken()).toBeNull();
  });
});
