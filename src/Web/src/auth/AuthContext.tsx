// The signed-in user, their orgs and the session actions. On load (every page load: the access token lives in memory)
// it asks POST /v1/auth/refresh (the HttpOnly cookie) for an access token, then GET /v1/auth/me for the user and
// memberships. A sign-out in another tab signs this one out too.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { api, setUnauthenticatedHandler } from '@/api/client';
import { unwrap } from '@/api/problem';
import { applySession, clearSession, getOrgId, listenToOtherTabs, logout as apiLogout, onSignedOutElsewhere, refreshSession, setOrgId } from '@/api/session';
import type { Body, Me, Schemas, Session } from '@/api/types';

type Status = 'loading' | 'authenticated' | 'anonymous';

export type AuthValue = {
  status: Status;
  me: Me | null;
  /** The org requests go to (X-Org-Id), or the user's default org. */
  orgId: string | null;
  login: (body: Body<Schemas['LoginRequest']>) => Promise<Session>;
  register: (body: Body<Schemas['RegisterRequest']>) => Promise<Session>;
  logout: () => Promise<void>;
  switchOrg: (orgId: string) => Promise<void>;
  reloadMe: () => Promise<Me | null>;
};

const AuthContext = createContext<AuthValue | null>(null);

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth must be used under <AuthProvider>');
  return value;
}

export function AuthProvider({ children, onSignedOut }: { children: ReactNode; onSignedOut?: () => void }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Status>('loading');
  const [me, setMe] = useState<Me | null>(null);
  const [orgId, setOrg] = useState<string | null>(getOrgId());

  const reloadMe = useCallback(async () => {
    try {
      const result = unwrap(await api.GET('/v1/auth/me'));
      // A remembered org the user no longer belongs to falls back to their default.
      const current = getOrgId();
      if (current && !result.memberships.some((m) => m.org_id === current)) {
        setOrgId(null);
        setOrg(null);
        const again = unwrap(await api.GET('/v1/auth/me'));
        setMe(again);
        setStatus('authenticated');
        return again;
      }
      setMe(result);
      setStatus('authenticated');
      return result;
    } catch {
      setMe(null);
      setStatus('anonymous');
      return null;
    }
  }, []);

  useEffect(() => {
    let cancelled = false;
    const signedOut = () => {
      clearSession();
      setMe(null);
      setStatus('anonymous');
      queryClient.clear();
      onSignedOut?.();
    };
    setUnauthenticatedHandler(signedOut);
    listenToOtherTabs();
    const stopListening = onSignedOutElsewhere(signedOut);
    (async () => {
      const ok = await refreshSession();
      if (cancelled) return;
      if (ok) await reloadMe();
      else setStatus('anonymous');
    })();
    return () => {
      cancelled = true;
      stopListening();
    };
  }, [queryClient, reloadMe, onSignedOut]);

  const login = useCallback<AuthValue['login']>(
    async (body) => {
      const session = unwrap(await api.POST('/v1/auth/login', { body: body as Schemas['LoginRequest'] }));
      applySession(session);
      await reloadMe();
      return session;
    },
    [reloadMe],
  );

  const register = useCallback<AuthValue['register']>(
    async (body) => {
      const session = unwrap(await api.POST('/v1/auth/register', { body: body as Schemas['RegisterRequest'] }));
      applySession(session);
      await reloadMe();
      return session;
    },
    [reloadMe],
  );

  const logout = useCallback(async () => {
    await apiLogout();
    setMe(null);
    setStatus('anonymous');
    queryClient.clear();
  }, [queryClient]);

  const switchOrg = useCallback(
    async (id: string) => {
      setOrgId(id);
      setOrg(id);
      queryClient.clear();
      await reloadMe();
    },
    [queryClient, reloadMe],
  );

  const value = useMemo<AuthValue>(
    () => ({ status, me, orgId: orgId ?? me?.org.id ?? null, login, register, logout, switchOrg, reloadMe }),
    [status, me, orgId, login, register, logout, switchOrg, reloadMe],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

/** Roles in order: owner > admin > editor > viewer. */
const ROLES = ['viewer', 'editor', 'admin', 'owner'];
export function hasRole(me: Me | null, atLeast: 'viewer' | 'editor' | 'admin' | 'owner'): boolean {
  return ROLES.indexOf(me?.role ?? '') >= ROLES.indexOf(atLeast);
}
