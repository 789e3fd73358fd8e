import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter, Route, Routes } from 'react-router';
import { AuthProvider, useAuth } from '@/auth/AuthContext';
import { makeQueryClient } from '@/App';
import SignIn from '@/pages/auth/SignIn';
import Register from '@/pages/auth/Register';
import { QuotaRow } from '@/pages/Dashboard';
import Library from '@/pages/Library';
import { clearSession } from '@/api/session';

type Handler = (url: string, init: RequestInit & { body?: unknown }) => Response | Promise<Response>;

function json(body: unknown, status = 200, type = 'application/json') {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

function mockApi(handler: Handler) {
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : null;
    const url = req ? new URL(req.url).pathname : String(input);
    const body = req ? await req.clone().text() : init?.body;
    return handler(url, { ...(init ?? {}), method: req?.method ?? init?.method, body });
  });
  vi.stubGlobal('fetch', fn);
  return fn;
}

function renderAt(path: string, element: React.ReactNode) {
  return render(
    <QueryClientProvider client={makeQueryClient()}>
      <MemoryRouter initialEntries={[path]}>
        <AuthProvider>
          <Routes>
            <Route path={path.split('?')[0]} element={element} />
            <Route path="/" element={<p>Dashboard page</p>} />
          </Routes>
        </AuthProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

const me = {
  user: { id: 'usr_1', email: 'ada@example.com', name: 'Ada', email_verified: false, created_at: '2026-01-01T00:00:00Z' },
  org: { id: 'org_1', name: 'Ada org', slug: 'ada', plan: 'free', created_at: '2026-01-01T00:00:00Z' },
  role: 'owner',
  api_key_id: null,
  scopes: [],
  memberships: [{ org_id: 'org_1', org_name: 'Ada org', role: 'owner' }],
};

beforeEach(() => clearSession());
afterEach(() => vi.unstubAllGlobals());

describe('sign in', () => {
  it('validates, shows the problem detail, then signs in and goes to the dashboard', async () => {
    let attempts = 0;
    const fetchMock = mockApi((url) => {
      if (url === '/v1/auth/refresh') return json({ status: 401, detail: 'No session' }, 401, 'application/problem+json');
      if (url === '/v1/auth/login') {
        attempts++;
        return attempts === 1
          ? json({ status: 400, code: 'INVALID_CREDENTIALS', detail: 'Wrong email or password.' }, 400, 'application/problem+json')
          : json({ access_token: 'at', user: me.user, org: me.org, token_type: 'Bearer', expires_in: 900 });
      }
      if (url === '/v1/auth/me') return json(me);
      return json({}, 404);
    });
    const user = userEvent.setup();
    renderAt('/sign-in', <SignIn />);
    await user.click(await screen.findByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Enter your email address')).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true');

    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong password');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Wrong email or password.')).toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(await screen.findByText('Dashboard page')).toBeInTheDocument();
    const login = fetchMock.mock.calls.map((c) => c[0]).find((r) => r instanceof Request && r.url.endsWith('/v1/auth/login')) as Request;
    expect(login.headers.get('X-Fenta-Client')).toBe('web');
  });
});

describe('register', () => {
  it('puts errors[].field of the problem on the matching field', async () => {
    mockApi((url) => {
      if (url === '/v1/auth/refresh') return json({ status: 401 }, 401, 'application/problem+json');
      if (url === '/v1/auth/register')
        return json(
          { status: 400, code: 'VALIDATION_FAILED', detail: 'Some fields are invalid.', errors: [{ field: 'email', message: 'is already registered' }] },
          400,
          'application/problem+json',
        );
      return json({}, 404);
    });
    const user = userEvent.setup();
    renderAt('/register', <Register />);
    await user.type(await screen.findByLabelText('Name'), 'Ada');
    await user.type(screen.getByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'long enough password');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('is already registered')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByLabelText('Email')).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByText('Some fields are invalid.')).toBeInTheDocument();
  });
});

describe('quota bar', () => {
  it('labels used, reserved and remaining', () => {
    render(<QuotaRow line={{ resource: 'kai_credits', limit: 50, used: 10, reserved: 5, remaining: 35, overage: 0 }} />);
    expect(screen.getByRole('img', { name: 'AI credits: 10 used, 5 reserved, 35 remaining' })).toBeInTheDocument();
    expect(screen.getByText('10 of 50')).toBeInTheDocument();
  });
});

describe('page load', () => {
  function Who() {
    const { status, me } = useAuth();
    return <p>{status === 'authenticated' ? `Signed in as ${me?.user.email}` : status}</p>;
  }

  it('a reload stays signed in: the cookie refresh (no body) gives the access token /me is read with', async () => {
    const fetchMock = mockApi((url) => {
      if (url === '/v1/auth/refresh') return json({ access_token: 'at-reload', refresh_token: null, user: me.user, org: me.org, token_type: 'Bearer', expires_in: 900 });
      if (url === '/v1/auth/me') return json(me);
      return json({}, 404);
    });
    renderAt('/who', <Who />);
    expect(await screen.findByText('Signed in as ada@example.com')).toBeInTheDocument();
    const calls = fetchMock.mock.calls;
    const refresh = calls.find((c) => c[0] === '/v1/auth/refresh')!;
    expect((refresh[1] as RequestInit).body).toBeUndefined();
    const meCall = calls.map((c) => c[0]).find((r) => r instanceof Request && r.url.endsWith('/v1/auth/me')) as Request;
    expect(meCall.headers.get('Authorization')).toBe('Bearer at-reload');
  });
});

describe('library search', () => {
  const job = (id: string, over: object) => ({
    id, status: 'completed', progress: 100, workflow_id: null, parent_job_id: null, request: null, budget: null,
    result: { video_url: null, thumbnail_url: null, srt_url: null, duration: 30, expires_at: null, outputs: null },
    created_at: '2026-01-01T00:00:00Z', completed_at: '2026-01-01T00:01:00Z', ...over,
  });

  it('matches what the API answers: the topic of the request, workflow names, ids', async () => {
    localStorage.setItem('fenta.jobRequest.job_b', JSON.stringify({ body: { config: { script: { prompt: 'Only in this browser' } } } }));
    mockApi((url) => {
      if (url === '/v1/auth/refresh') return json({ access_token: 'at' });
      if (url === '/v1/auth/me') return json(me);
      if (url === '/v1/workflows') return json({ data: [{ id: 'wf_1', name: 'Daily news' }], has_more: false, next_cursor: null });
      if (url === '/v1/jobs')
        return json({
          data: [
            job('job_a', { request: { method: 'POST', path: '/v1/jobs', body: { config: { script: { prompt: 'Otters at dawn' } } } } }),
            job('job_b', { workflow_id: 'wf_1' }),
          ],
          has_more: false,
          next_cursor: null,
        });
      return json({}, 404);
    });
    const user = userEvent.setup();
    renderAt('/library', <Library />);
    const videos = await screen.findByRole('list', { name: 'Videos' });
    expect(await within(videos).findByText('Run of Daily news')).toBeInTheDocument();
    expect(within(videos).getByText('Otters at dawn')).toBeInTheDocument();
    const search = screen.getByRole('searchbox', { name: 'Search' });
    await user.type(search, 'otters');
    expect(within(screen.getByRole('list', { name: 'Videos' })).getAllByRole('listitem')).toHaveLength(1);
    await user.clear(search);
    await user.type(search, 'daily');
    expect(within(screen.getByRole('list', { name: 'Videos' })).getByText('Run of Daily news')).toBeInTheDocument();
    await user.clear(search);
    await user.type(search, 'only in this browser');
    expect(await screen.findByText(/No video matches/)).toBeInTheDocument();
    localStorage.clear();
  });
});
