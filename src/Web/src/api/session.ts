// The browser session: the access token lives in this module's memory only (never in localStorage or
// sessionStorage), one per tab. The refresh token never reaches JavaScript: it is the API's HttpOnly cookie
// (`fenta_refresh`, Path=/v1/auth), set by login, register and refresh, read by POST /v1/auth/refresh and
// POST /v1/auth/logout. Every request carries X-Fenta-Client: web, the CSRF guard that lets the API accept the cookie
// (with it the API answers `refresh_token: null`; nothing here reads that field).
//
// Refresh tokens rotate and a rotated one presented again ends the whole login, so refreshes are single-flight: within
// a tab callers share one request, and across tabs (which share the cookie) each refresh holds the Web Lock
// 'fenta-refresh'. A tab that waited for another tab's refresh then refreshes itself with the cookie that one rotated.
import type { Session } from './types';

export const CLIENT_HEADER = 'X-Fenta-Client';
export const CLIENT_VALUE = 'web';
export const REFRESH_LOCK = 'fenta-refresh';
const ORG_KEY = 'fenta.org'; // the selected org's id: a preference, not a secret
const CHANNEL = 'fenta-session';

let accessToken: string | null = null;
let orgId: string | null = readOrg();
const listeners = new Set<() => void>();
const signedOutListeners = new Set<() => void>();

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

/** Keeps the access token a login, register or refresh answered (whatever else the answer holds is ignored). */
export function applySession(session: Pick<Session, 'access_token'>): void {
  accessToken = session.access_token;
  listeners.forEach((l) => l());
}

export function clearSession(): void {
  accessToken = null;
  listeners.forEach((l) => l());
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called when another tab of the app signed out (its logout revoked the cookie this tab refreshes with). */
export function onSignedOutElsewhere(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

/** Headers every API call sends. */
export function baseHeaders(): Record<string, string> {
  const h: Record<string, string> = { [CLIENT_HEADER]: CLIENT_VALUE };
  if (accessToken) h.Authorization = `Bearer ${accessToken}`;
  if (orgId) h['X-Org-Id'] = orgId;
  return h;
}

/**
 * Runs `task` holding the cross-tab lock 'fenta-refresh' (Web Locks API). Where the API is missing (an insecure
 * context, an old browser) only the in-tab single flight remains.
 */
function withRefreshLock<T>(task: () => Promise<T>): Promise<T> {
  const locks = globalThis.navigator?.locks;
  if (!locks?.request) return task();
  return locks.request(REFRESH_LOCK, { mode: 'exclusive' }, task) as Promise<T>;
}

let refreshing: Promise<boolean> | null = null;
const REFRESH_TIMEOUT_MS = 30_000;
const timeout = (ms: number): AbortSignal | undefined => (typeof AbortSignal.timeout === 'function' ? AbortSignal.timeout(ms) : undefined);

/**
 * Asks POST /v1/auth/refresh (no body: the cookie) for a new access token. Single-flight: callers in this tab share
 * one request, and tabs take turns under the 'fenta-refresh' lock. Resolves false when there is no session to refresh.
 *
 * `failedWith` is the bearer token a request was refused with: when this tab already holds another one (a refresh
 * finished while that request was under way) there is nothing to refresh, and the caller just retries.
 */
export function refreshSession(failedWith?: string | null): Promise<boolean> {
  if (failedWith !== undefined && accessToken !== null && accessToken !== failedWith) return Promise.resolve(true);
  refreshing ??= withRefreshLock(async () => {
    try {
      const res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { [CLIENT_HEADER]: CLIENT_VALUE },
        // A hung request would hold the lock, and with it every tab's refresh.
        signal: timeout(REFRESH_TIMEOUT_MS),
      });
      if (!res.ok) {
        clearSession();
        return false;
      }
      applySession((await res.json()) as Session);
      return true;
    } catch {
      return false;
    }
  }).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/**
 * POST /v1/auth/logout (no body): the API revokes the cookie's login and clears the cookie. The memory is cleared
 * whatever it answers, and the other tabs are told (their access tokens would otherwise last until they expire).
 * Holds the refresh lock so that it never races a refresh of this or another tab.
 */
export async function logout(): Promise<void> {
  try {
    await withRefreshLock(() =>
      fetch('/v1/auth/logout', { method: 'POST', credentials: 'same-origin', headers: baseHeaders() }).catch(() => undefined),
    );
  } finally {
    clearSession();
    broadcast('signed-out');
  }
}

// ------------------------------------------------------------------ tabs

let channel: BroadcastChannel | null = null;
function getChannel(): BroadcastChannel | null {
  if (channel || typeof BroadcastChannel === 'undefined') return channel;
  channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = (e: MessageEvent) => {
    if (e.data === 'signed-out' && accessToken !== null) {
      clearSession();
      signedOutListeners.forEach((l) => l());
    }
  };
  return channel;
}

function broadcast(message: 'signed-out'): void {
  try {
    getChannel()?.postMessage(message);
  } catch {
    /* no other tab to tell */
  }
}

/** Starts listening to the other tabs (the auth provider calls it once). */
export function listenToOtherTabs(): void {
  getChannel();
}
