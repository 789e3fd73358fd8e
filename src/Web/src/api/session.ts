// The browser session: the access token lives in this module's memory only (never in localStorage or
// sessionStorage). The refresh token is an HttpOnly cookie the API sets on login/register and reads on
// POST /v1/auth/refresh; every request carries X-Fenta-Client: web, the CSRF guard that lets the API accept the cookie.
//
// Fallback while an API still returns the refresh token in the body and requires it on /refresh: it is kept in
// memory too (lost on reload, then the user signs in again). Nothing is persisted.
import type { Session } from './types';

export const CLIENT_HEADER = 'X-Fenta-Client';
export const CLIENT_VALUE = 'web';
const ORG_KEY = 'fenta.org'; // the selected org's id: a preference, not a secret

let accessToken: string | null = null;
let refreshTokenFallback: string | null = null;
let orgId: string | null = readOrg();
const listeners = new Set<() => void>();

function readOrg(): string | null {
  try {
    return globalThis.localStorage?.getItem(ORG_KEY) ?? null;
  } catch {
    return null;
  }
}

export function getAccessToken(): string | null {
  return accessToken;
}

export function getOrgId(): string | null {
  return orgId;
}

export function setOrgId(id: string | null): void {
  orgId = id;
  try {
    if (id) localStorage.setItem(ORG_KEY, id);
    else localStorage.removeItem(ORG_KEY);
  } catch {
    /* storage unavailable: the choice lasts for this page */
  }
  listeners.forEach((l) => l());
}

/** Keeps what a login, register or refresh answered. */
export function applySession(session: Pick<Session, 'access_token'> & { refresh_token?: string | null }): void {
  accessToken = session.access_token;
  refreshTokenFallback = session.refresh_token ?? refreshTokenFallback;
  listeners.forEach((l) => l());
}

export function clearSession(): void {
  accessToken = null;
  refreshTokenFallback = null;
  listeners.forEach((l) => l());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Headers every API call sends. */
export function baseHeaders(): Record<string, string> {
  const h: Record<string, string> = { [CLIENT_HEADER]: CLIENT_VALUE };
  if (accessToken) h.Authorization = `Bearer ${accessToken}`;
  if (orgId) h['X-Org-Id'] = orgId;
  return h;
}

let refreshing: Promise<boolean> | null = null;

/**
 * Asks POST /v1/auth/refresh for a new access token (the cookie goes with it; same origin). Concurrent callers share
 * one request. Resolves false when there is no session to refresh.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
        headers: {
          [CLIENT_HEADER]: CLIENT_VALUE,
          ...(refreshTokenFallback ? { 'Content-Type': 'application/json' } : {}),
        },
        body: refreshTokenFallback ? JSON.stringify({ refresh_token: refreshTokenFallback }) : undefined,
      });
      if (!res.ok) {
        clearSession();
        return false;
      }
      applySession((await res.json()) as Session);
      return true;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** POST /v1/auth/logout: revokes the refresh token and clears its cookie; the memory is cleared whatever it answers. */
export async function logout(): Promise<void> {
  try {
    await fetch('/v1/auth/logout', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...baseHeaders(), ...(refreshTokenFallback ? { 'Content-Type': 'application/json' } : {}) },
      body: refreshTokenFallback ? JSON.stringify({ refresh_token: refreshTokenFallback }) : undefined,
    });
  } finally {
    clearSession();
  }
}
