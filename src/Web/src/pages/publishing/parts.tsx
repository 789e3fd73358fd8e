// Pieces the publishing pages share: status badges, the platform mark, one publication with its accounts.
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { Ban, ExternalLink } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { num, type Publication, type PublicationTarget } from '@/api/types';
import { Alert, Badge, Button } from '@/components/ui';
import { useToast } from '@/components/ui/toast';
import { cn } from '@/lib/cn';
import { formatDateTime, timeAgo } from '@/lib/format';
import { isPublicationRunning, isTargetRunning, platformName, publishTone, statusText } from './model';

export function PubStatus({ status }: { status: string }) {
  const moving = ['queued', 'publishing', 'uploading', 'processing'].includes(status);
  return (
    <Badge tone={publishTone(status)} className="capitalize">
      {moving && <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden="true" />}
      {statusText(status)}
    </Badge>
  );
}

const MARK: Record<string, string> = { youtube: 'bg-red-600', tiktok: 'bg-neutral-900', instagram: 'bg-gradient-to-br from-amber-500 via-pink-600 to-purple-700' };
const LETTER: Record<string, string> = { youtube: 'YT', tiktok: 'TT', instagram: 'IG' };

/** A small coloured square with the platform's initials (decorative: the name is always written next to it). */
export function PlatformMark({ platform, className }: { platform: string; className?: string }) {
  return (
    <span aria-hidden="true" className={cn('inline-flex size-8 shrink-0 items-center justify-center rounded-lg text-[11px] font-bold text-white', MARK[platform] ?? 'bg-neutral-500', className)}>
      {LETTER[platform] ?? platform.slice(0, 2).toUpperCase()}
    </span>
  );
}

function TargetRow({ t }: { t: PublicationTarget }) {
  return (
    <li className="flex flex-col gap-1 py-2 sm:flex-row sm:items-start sm:gap-3">
      <div className="flex min-w-0 flex-1 items-start gap-2">
        <PlatformMark platform={t.platform} className="size-6 text-[9px]" />
        <div className="min-w-0 space-y-0.5">
          <p className="text-sm">
            <span className="font-medium">{platformName(t.platform)}</span>
            {t.account_name && <span className="text-neutral-600"> · {t.account_name}</span>}
          </p>
          {t.post.title && <p className="truncate text-xs text-neutral-500">“{t.post.title}”</p>}
          {t.error && (
            <p className="break-words text-xs text-red-700">
              <span className="font-mono">{t.error.code}</span>: {t.error.message}
            </p>
          )}
          {t.status === 'retry_later' && (
            <p className="text-xs text-amber-800">
              Retrying {t.next_attempt_at ? `at ${formatDateTime(t.next_attempt_at)}` : 'later'} (attempt {num(t.attempts)})
            </p>
          )}
          {isTargetRunning(t.status) && t.phase && t.status !== 'retry_later' && <p className="text-xs text-neutral-500">{statusText(t.phase)}</p>}
          {t.post.publish_at != null && typeof t.post.publish_at === 'string' && (
            <p className="text-xs text-neutral-500">Goes public {formatDateTime(t.post.publish_at)}</p>
          )}
        </div>
      </div>
      <div className="flex shrink-0 items-center gap-2 pl-8 sm:pl-0">
        <PubStatus status={t.status} />
        {t.url && (
          <a
            href={t.url}
            target="_blank"
            rel="noreferrer"
            className="inline-flex items-center gap-1 text-sm font-medium text-accent-600 hover:underline"
            aria-label={`Open the ${platformName(t.platform)} post${t.account_name ? ` of ${t.account_name}` : ''}`}
          >
            Open <ExternalLink className="size-3.5" aria-hidden="true" />
          </a>
        )}
      </div>
    </li>
  );
}

/** One publication: its status, when, the job, each account with its status, link, error or next attempt; cancel while running. */
export function PublicationItem({ publication: p, showJob = true, canCancel }: { publication: Publication; showJob?: boolean; canCancel: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/publications/{publicationId}/cancel', { params: { path: { publicationId: p.id } } })),
    onSuccess: () => {
      toast({ title: 'Publication cancelled', description: 'Posts the platforms already have stay.' });
      void qc.invalidateQueries({ queryKey: ['publications'] });
      void qc.invalidateQueries({ queryKey: ['publication', p.id] });
    },
  });
  const running = isPublicationRunning(p.status);
  return (
    <article className="rounded-lg border border-neutral-200 bg-white p-4" aria-label={`Publication ${p.id}`}>
      <header className="flex flex-wrap items-center gap-x-3 gap-y-1">
        <PubStatus status={p.status} />
        <Link to={`/publications/${p.id}`} className="font-mono text-xs text-accent-600 hover:underline">
          {p.id}
        </Link>
        <span className="text-xs text-neutral-500" title={formatDateTime(p.created_at)}>
          {timeAgo(p.created_at)}
        </span>
        {showJob && p.job_id && (
          <Link to={`/jobs/${p.job_id}`} className="text-xs text-neutral-600 hover:underline">
            job <span className="font-mono">{p.job_id}</span>
          </Link>
        )}
        {canCancel && running && (
          <Button variant="secondary" size="sm" className="ml-auto" loading={cancel.isPending} onClick={() => cancel.mutate()}>
            <Ban aria-hidden="true" /> Cancel
          </Button>
        )}
      </header>
      {cancel.isError && <Alert className="mt-2">{errorMessage(cancel.error)}</Alert>}
      <ul className="mt-2 divide-y divide-neutral-100" aria-label="Accounts">
        {p.targets.map((t) => (
          <TargetRow key={t.id} t={t} />
        ))}
      </ul>
    </article>
  );
}
