// The job page's "Share" dialog: a public link to the job's video (POST /v1/share-links) with a title, an expiry, an
// optional password and whether it may be downloaded; once made, its URL with a Copy button. Below, the job's links
// (GET /v1/share-links?job_id=) with their view counts, each revocable (DELETE /v1/share-links/{id}).
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ExternalLink, Link2 } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, fieldErrors, unwrap } from '@/api/problem';
import { num, type ShareLink } from '@/api/types';
import { Alert, Badge, Button, FormField, Input, Skeleton } from '@/components/ui';
import { Select } from '@/components/ui/input';
import { Checkbox } from '@/components/ui/checkbox';
import { CopyButton } from '@/components/ui/copy-button';
import { Dialog, DialogContent } from '@/components/ui/dialog';
import { ErrorState } from '@/components/ui/feedback';
import { formatDateTime, formatNumber } from '@/lib/format';

/** The expiry choices, in seconds (null: the link never expires). */
export const EXPIRIES: { label: string; seconds: number | null }[] = [
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
  { label: 'Never', seconds: null },
];

export const shareKeys = {
  ofJob: (jobId: string) => ['share-links', { job_id: jobId }] as const,
};

export function useJobShareLinks(jobId: string, enabled = true) {
  return useQuery({
    queryKey: shareKeys.ofJob(jobId),
    queryFn: async () => unwrap(await api.GET('/v1/share-links', { params: { query: { job_id: jobId, limit: '100' } } })),
    enabled,
    // Views are counted on the public page, outside the app: each opening reads them afresh.
    refetchOnMount: 'always',
  });
}

const STATUS_TONE = { active: 'success', expired: 'neutral', revoked: 'danger' } as const;

function statusTone(status: string) {
  return STATUS_TONE[status as keyof typeof STATUS_TONE] ?? 'neutral';
}

/** One link: its title, status, views and expiry, its URL to copy or open, and Revoke while it is active; `showJob` links its job. */
export function ShareLinkRow({ link, canWrite, showJob = false }: { link: ShareLink; canWrite: boolean; showJob?: boolean }) {
  const qc = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/share-links/{linkId}', { params: { path: { linkId: link.id } } })),
    onSuccess: () => {
      setConfirming(false);
      void qc.invalidateQueries({ queryKey: ['share-links'] });
    },
  });
  const views = num(link.view_count);
  return (
    <li className="space-y-2 rounded-lg border border-neutral-200 p-3" aria-label={`Share link ${link.title}`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <div className="min-w-0">
          <p className="truncate text-sm font-medium">{link.title}</p>
          <p className="text-xs text-neutral-500">
            {formatNumber(views, 0)} {views === 1 ? 'view' : 'views'} · {link.expires_at ? `expires ${formatDateTime(link.expires_at)}` : 'never expires'}
            {link.has_password ? ' · password' : ''}
            {link.allow_download ? ' · download allowed' : ''}
          </p>
          {showJob && link.job_id && (
            <Link className="text-xs text-accent-600 hover:underline" to={`/jobs/${link.job_id}`}>
              Open the job
            </Link>
          )}
        </div>
        <Badge tone={statusTone(link.status)}>{link.status}</Badge>
      </div>
      {link.status === 'active' && (
        <div className="flex flex-wrap items-center gap-2">
          <CopyButton text={link.url} label="Copy link" />
          <Button asChild variant="secondary" size="sm">
            <a href={link.url} target="_blank" rel="noreferrer noopener">
              <ExternalLink aria-hidden="true" /> Open
            </a>
          </Button>
          {canWrite &&
            (confirming ? (
              <>
                <Button variant="destructive" size="sm" loading={revoke.isPending} onClick={() => revoke.mutate()}>
                  Revoke now
                </Button>
                <Button variant="ghost" size="sm" onClick={() => setConfirming(false)}>
                  Keep
                </Button>
              </>
            ) : (
              <Button variant="ghost" size="sm" onClick={() => setConfirming(true)}>
                Revoke
              </Button>
            ))}
        </div>
      )}
      {confirming && <p className="text-xs text-neutral-600">Whoever opens this link afterwards sees that it was turned off.</p>}
      {revoke.isError && <Alert>{errorMessage(revoke.error)}</Alert>}
    </li>
  );
}

export function ShareDialog({ jobId, defaultTitle, canWrite, onClose }: { jobId: string; defaultTitle: string; canWrite: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const links = useJobShareLinks(jobId);
  const [title, setTitle] = useState(defaultTitle.slice(0, 200));
  const [expiry, setExpiry] = useState('7 days');
  const [password, setPassword] = useState('');
  const [allowDownload, setAllowDownload] = useState(false);
  const [created, setCreated] = useState<ShareLink | null>(null);

  const create = useMutation({
    mutationFn: async () => {
      const seconds = EXPIRIES.find((e) => e.label === expiry)?.seconds ?? null;
      return unwrap(
        await api.POST('/v1/share-links', {
          body: {
            job_id: jobId,
            asset_id: null,
            title: title.trim() || null,
            expires_in_seconds: seconds,
            expires_at: null,
            password: password || null,
            allow_download: allowDownload,
          },
        }),
      );
    },
    onSuccess: (link) => {
      setCreated(link);
      setPassword('');
      void qc.invalidateQueries({ queryKey: ['share-links'] });
    },
  });
  const errors = create.isError ? fieldErrors(create.error) : {};
  const unplaced = create.isError && !errors.title && !errors.password && !errors.expires_in_seconds;

  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title="Share" description="A public page that plays this video to anyone with the link. It shows the title, and nothing about your organization." className="max-w-xl">
        {canWrite && (
          <form
            className="space-y-4"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate();
            }}
          >
            <FormField label="Title" error={errors.title}>
              <Input value={title} maxLength={200} onChange={(e) => setTitle(e.target.value)} />
            </FormField>
            <div className="grid gap-4 sm:grid-cols-2">
              <FormField label="Expires after" error={errors.expires_in_seconds}>
                <Select value={expiry} onChange={(e) => setExpiry(e.target.value)}>
                  {EXPIRIES.map((e) => (
                    <option key={e.label} value={e.label}>
                      {e.label}
                    </option>
                  ))}
                </Select>
              </FormField>
              <FormField label="Password (optional)" hint="Viewers must type it first" error={errors.password}>
                <Input type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
              </FormField>
            </div>
            <Checkbox label="Allow download" hint="Shows a Download button on the page" checked={allowDownload} onChange={(e) => setAllowDownload(e.target.checked)} />
            {unplaced && <Alert>{errorMessage(create.error)}</Alert>}
            <div className="flex justify-end">
              <Button type="submit" loading={create.isPending}>
                <Link2 aria-hidden="true" /> Create link
              </Button>
            </div>
          </form>
        )}
        {created && (
          <div className="mt-4 space-y-2 rounded-lg bg-emerald-50 p-3" role="status">
            <FormField label="Share link" hint="Anyone with this link can watch until it expires or you revoke it.">
              <Input readOnly value={created.url} onFocus={(e) => e.currentTarget.select()} className="font-mono text-xs" />
            </FormField>
            <CopyButton text={created.url} label="Copy" />
          </div>
        )}
        <section className="mt-6 space-y-2" aria-label="Links to this video">
          <h3 className="text-sm font-semibold">Links to this video</h3>
          {links.isPending ? (
            <Skeleton className="h-16" />
          ) : links.isError ? (
            <ErrorState error={links.error} onRetry={() => links.refetch()} />
          ) : links.data.data.length === 0 ? (
            <p className="text-sm text-neutral-500">No links yet.</p>
          ) : (
            <ul className="space-y-2">
              {links.data.data.map((l) => (
                <ShareLinkRow key={l.id} link={l} canWrite={canWrite} />
              ))}
            </ul>
          )}
        </section>
      </DialogContent>
    </Dialog>
  );
}
