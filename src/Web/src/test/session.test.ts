import { afterEach, describe, expect, it, vi } from 'vitest';
import { applySession, baseHeaders, clearSession, getAccessToken, refreshSession, setOrgId } from '@/api/session';

afterEach(() => {
  vi.unstubAllGlobals();
  clearSession();
  setOrgId(null);
});

describe('session', () => {
  it('sends the CSRF header always, the bearer token and org when known', () => {
    expect(baseHeaders()).toEqual({ 'X-Fenta-Client': 'web' });
    applySession({ access_token: 'at1' });
    setOrgId('org_2');
    expect(baseHeaders()).toEqual({ 'X-Fenta-Client': 'web', Authorization: 'Bearer at1', 'X-Org-Id': 'org_2' });
  });

  it('keeps no token in web storage', () => {
    applySession({ access_token: 'secret-access', refresh_token: 'secret-refresh' });
    const stored = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage });
    expect(stored).not.toContain('secret-access');
    expect(stored).not.toContain('secret-refresh');
  });

  it('refreshes by cookie (no body) and shares one request between callers', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ access_token: 'at2' }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const [a, b] = await Promise.all([refreshSession(), refreshSession()]);
    expect(a && b).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(1);
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/v1/auth/refresh');
    expect(init.body).toBeUndefined();
    expect(init.credentials).toBe('same-origin');
    expect((init.headers as Record<string, string>)['X-Fenta-Client']).toBe('web');
    expect(getAccessToken()).toBe('at2');
  });

  it('a failed refresh clears the session', async () => {
    applySession({ access_token: 'old' });
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 401 })));
    expect(await refreshSession()).toBe(false);
    expect(getAccessToken()).toBeNull();
  });
});
