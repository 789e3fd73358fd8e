// Publications (/publications): newest first (20 at a time, "Load more" for older) with each account's status and link, cancel while running; one
// publication at /publications/:id. Both refresh every few seconds while something runs.
import { useState } from 'react';
import { Link, Route, Routes, useParams } from 'react-router';
import { ArrowLeft, Send } from 'lucide-react';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Button, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { Select } from '@/components/ui/input';
import { Label } from '@/components/ui/label';
import { formatDateTime } from '@/lib/format';
import { isPublicationRunning, statusText } from './model';
import { PublicationItem, PubStatus } from './parts';
import { usePublication, usePublicationPages } from './queries';

const STATUSES = ['queued', 'publishing', 'succeeded', 'partially_failed', 'failed', 'cancelled'];

function PublicationList() {
  const { me } = useAuth();
  const [status, setStatus] = useState('');
  const pubs = usePublicationPages(status ? { status } : {});
  const list = pubs.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <>
      <PageHeader
        title="Publications"
        description="Finished videos posted to your connected accounts."
        actions={
          <div className="flex items-center gap-2">
            <Label htmlFor="pub-status">Status</Label>
            <Select id="pub-status" className="w-44" value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {statusText(s)}
                </option>
              ))}
            </Select>
          </div>
        }
      />
      {pubs.isPending && (
        <div className="space-y-3" aria-busy="true">
          <Skeleton className="h-28" />
          <Skeleton className="h-28" />
        </div>
      )}
      {pubs.isError && <ErrorState error={pubs.error} onRetry={() => pubs.refetch()} />}
      {pubs.data && list.length === 0 && (
        <EmptyState title={status ? `No ${statusText(status)} publications` : 'Nothing published yet'} icon={<Send className="size-8" />}>
          Open a finished video in the <Link className="text-accent-600 underline" to="/library">Library</Link> and choose Publish.
        </EmptyState>
      )}
      {list.length > 0 && (
        <div className="space-y-3" role="list" aria-label="Publications">
          {list.map((p) => (
            <div role="listitem" key={p.id}>
              <PublicationItem publication={p} canCancel={hasRole(me, 'editor')} />
            </div>
          ))}
        </div>
      )}
      {pubs.hasNextPage && (
        <div className="mt-6 flex justify-center">
          <Button variant="secondary" loading={pubs.isFetchingNextPage} onClick={() => pubs.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
      {list.some((p) => isPublicationRunning(p.status)) && (
        <p className="mt-3 text-xs text-neutral-500" aria-live="polite">
          Refreshing every 3 s while a publication runs.
        </p>
      )}
    </>
  );
}

function PublicationDetail() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const pub = usePublication(id);
  return (
    <>
      <Link to="/publications" className="mb-3 inline-flex items-center gap-1 text-sm text-neutral-500 hover:text-neutral-800">
        <ArrowLeft className="size-4" aria-hidden="true" /> Publications
      </Link>
      <PageHeader
        title="Publication"
        description={
          pub.data && (
            <span className="flex flex-wrap items-center gap-2">
              <PubStatus status={pub.data.status} />
              <span className="font-mono text-xs">{pub.data.id}</span>
              <span>· started {formatDateTime(pub.data.created_at)}</span>
              {typeof pub.data.finished_at === 'string' && <span>· ended {formatDateTime(pub.data.finished_at)}</span>}
            </span>
          )
        }
      />
      {pub.isPending && <Skeleton className="h-40" />}
      {pub.isError && <ErrorState error={pub.error} onRetry={() => pub.refetch()} />}
      {pub.data && <PublicationItem publication={pub.data} canCancel={hasRole(me, 'editor')} />}
    </>
  );
}

export default function Publications() {
  return (
    <Routes>
      <Route index element={<PublicationList />} />
      <Route path=":id" element={<PublicationDetail />} />
    </Routes>
  );
}
