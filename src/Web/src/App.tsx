import { lazy, Suspense, useCallback, type ReactNode } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { AuthProvider, useAuth } from '@/auth/AuthContext';
import { AppLayout } from '@/components/layout/AppLayout';
import { Loading } from '@/components/ui/feedback';
import { Toaster } from '@/components/ui/toast';
import { ApiError } from '@/api/problem';

// Each page is its own chunk: the first load carries the shell, the router and the client only.
const SignIn = lazy(() => import('@/pages/auth/SignIn'));
const Register = lazy(() => import('@/pages/auth/Register'));
const VerifyEmail = lazy(() => import('@/pages/auth/VerifyEmail'));
const ForgotPassword = lazy(() => import('@/pages/auth/ForgotPassword'));
const ResetPassword = lazy(() => import('@/pages/auth/ResetPassword'));
const AcceptInvitation = lazy(() => import('@/pages/auth/AcceptInvitation'));
const Dashboard = lazy(() => import('@/pages/Dashboard'));
const Create = lazy(() => import('@/pages/Create'));
const JobPage = lazy(() => import('@/pages/Job'));
const Library = lazy(() => import('@/pages/Library'));
const Assets = lazy(() => import('@/pages/Assets'));
const Templates = lazy(() => import('@/pages/templates'));
const Schedules = lazy(() => import('@/pages/schedules'));
const Billing = lazy(() => import('@/pages/billing'));
const Settings = lazy(() => import('@/pages/settings'));
const Publications = lazy(() => import('@/pages/publishing'));
const Analytics = lazy(() => import('@/pages/analytics'));
const Storyboards = lazy(() => import('@/pages/storyboards'));
const ShareLinks = lazy(() => import('@/pages/sharing'));
const NotFound = lazy(() => import('@/pages/NotFound'));

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // Client errors (4xx) are answers, not glitches: no retry.
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
      },
    },
  });
}

const queryClient = makeQueryClient();

function RequireAuth({ children }: { children: ReactNode }) {
  const { status } = useAuth();
  const location = useLocation();
  if (status === 'loading') return <Loading label="Signing you in…" className="justify-center py-24" />;
  if (status === 'anonymous') {
    const next = location.pathname + location.search;
    return <Navigate to={`/sign-in${next !== '/' ? `?next=${encodeURIComponent(next)}` : ''}`} replace />;
  }
  return <>{children}</>;
}

function Shell() {
  const navigate = useNavigate();
  const location = useLocation();
  const signedOut = useCallback(() => {
    const next = location.pathname + location.search;
    navigate(`/sign-in?next=${encodeURIComponent(next)}`, { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [navigate]);
  return (
    <AuthProvider onSignedOut={signedOut}>
      <Suspense fallback={<Loading className="justify-center py-24" />}>
        <AppRoutes />
      </Suspense>
    </AuthProvider>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route path="/register" element={<Register />} />
      <Route path="/verify-email" element={<VerifyEmail />} />
      <Route path="/forgot-password" element={<ForgotPassword />} />
      <Route path="/reset-password" element={<ResetPassword />} />
      <Route path="/accept-invitation" element={<AcceptInvitation />} />
      <Route
        element={
          <RequireAuth>
            <AppLayout />
          </RequireAuth>
        }
      >
        <Route index element={<Dashboard />} />
        <Route path="/create" element={<Create />} />
        <Route path="/jobs/:id" element={<JobPage />} />
        <Route path="/library" element={<Library />} />
        <Route path="/assets" element={<Assets />} />
        {/* Each area is one chunk with its own nested routes. */}
        <Route path="/templates/*" element={<Templates />} />
        <Route path="/schedules/*" element={<Schedules />} />
        <Route path="/billing/*" element={<Billing />} />
        <Route path="/publications/*" element={<Publications />} />
        <Route path="/analytics" element={<Analytics />} />
        <Route path="/storyboards/*" element={<Storyboards />} />
        <Route path="/shares" element={<ShareLinks />} />
        <Route path="/settings/*" element={<Settings />} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <Toaster>
        <BrowserRouter>
          <Shell />
        </BrowserRouter>
      </Toaster>
    </QueryClientProvider>
  );
}

export function RedirectHome() {
  return <Navigate to="/" replace />;
}
