import { afterEach, describe, expect, it, vi } from 'vitest';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { QueryClientProvider } from '@tanstack/react-query';
import { makeQueryClient } from '@/App';
import { ShareDialog } from './ShareDialog';

const link = (over: Record<string, unknown> = {}) => ({
  id: 'shr_1',
  token: 'tok',
  url: 'https://fenta.example/s/tok',
  job_id: 'job_1',
  asset_id: 'asset_1',
  title: 'Night buses',
  status: 'active',
  expires_at: null,
  has_password: false,
  allow_download: false,
  view_count: 3,
  created_at: '2026-01-01T00:00:00Z',
  revoked_at: null,
  ...over,
});

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' } });
}

afterEach(() => vi.unstubAllGlobals());

describe('ShareDialog', () => {
  it('creates a link with the chosen options, shows it to copy, lists the job links and revokes one', async () => {
    const user = userEvent.setup();
    const sent: { method: string; url: string; body: string }[] = [];
    let links = [link()];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (input: Request) => {
        const url = new URL(input.url);
        const body = await input.clone().text();
        sent.push({ method: input.method, url: url.pathname + url.search, body });
        if (input.method === 'POST' && JSON.parse(body).password === 'ab')
          return json({ status: 400, code: 'VALIDATION_FAILED', detail: 'password: too short', errors: [{ field: 'password', message: 'must be 4 to 200 characters' }] }, 400);
        if (input.method === 'POST') {
          const made = link({ id: 'shr_2', url: 'https://fenta.example/s/new', title: 'My short', view_count: 0, has_password: true, allow_download: true });
          links = [made, ...links];
          return json(made, 201);
        }
        if (input.method === 'DELETE') {
          links = links.map((l) => (l.id === 'shr_1' ? { ...l, status: 'revoked' } : l));
          return json(links.find((l) => l.id === 'shr_1'));
        }
        return json({ data: links, next_cursor: null, has_more: false });
      }),
    );
    render(
      <QueryClientProvider client={makeQueryClient()}>
        <ShareDialog jobId="job_1" defaultTitle="Night buses" canWrite onClose={() => {}} />
      </QueryClientProvider>,
    );
    const dialog = screen.getByRole('dialog', { name: 'Share' });
    expect(await within(dialog).findByText('3 views · never expires')).toBeInTheDocument();

    await user.clear(screen.getByLabelText('Title'));
    await user.type(screen.getByLabelText('Title'), 'My short');
    await user.selectOptions(screen.getByLabelText('Expires after'), '1 day');
    await user.type(screen.getByLabelText('Password (optional)'), 'ab');
    await user.click(screen.getByLabelText('Allow download'));
    await user.click(screen.getByRole('button', { name: 'Create link' }));
    expect(await screen.findByText('must be 4 to 200 characters')).toBeInTheDocument();

    await user.type(screen.getByLabelText('Password (optional)'), 'cd');
    await user.click(screen.getByRole('button', { name: 'Create link' }));
    expect(await screen.findByLabelText('Share link')).toHaveValue('https://fenta.example/s/new');
    const created = sent.filter((s) => s.method === 'POST').at(-1)!;
    expect(JSON.parse(created.body)).toEqual({
      job_id: 'job_1',
      asset_id: null,
      title: 'My short',
      expires_in_seconds: 86_400,
      expires_at: null,
      password: 'abcd',
      allow_download: true,
    });
    expect(sent.some((s) => s.method === 'GET' && s.url.startsWith('/v1/share-links?') && s.url.includes('job_id=job_1'))).toBe(true);

    const old = await screen.findByRole('listitem', { name: 'Share link Night buses' });
    await user.click(within(old).getByRole('button', { name: 'Revoke' }));
    await user.click(within(old).getByRole('button', { name: 'Revoke now' }));
    expect(await within(old).findByText('revoked')).toBeInTheDocument();
    expect(sent.some((s) => s.method === 'DELETE' && s.url === '/v1/share-links/shr_1')).toBe(true);
  });
});
