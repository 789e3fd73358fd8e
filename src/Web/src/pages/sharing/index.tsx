// Share links (/shares): every public link of the org, newest first (20 at a time, "Load more" for older), each with its
// video's job, status, views and expiry, to copy, open or revoke. Links are made from a finished job's Share dialog.
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { Link2 } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Button, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { ShareLinkRow } from './ShareDialog';

export default function ShareLinksPage() {
  const { me } = useAuth();
  const links = useInfiniteQuery({
    queryKey: ['share-links', 'pages'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) => unwrap(await api.GET('/v1/share-links', { params: { query: { limit: '20', cursor: pageParam } } })),
    getNextPageParam: (last) => (last.has_more ? (last.next_cursor ?? undefined) : undefined),
    refetchOnMount: 'always',
  });
  const list = links.data?.pages.flatMap((page) => page.data) ?? [];
  return (
    <>
      <PageHeader title="Share links" description="Public pages that play your videos to anyone with the link, until they expire or you revoke them." />
      {links.isPending && <Skeleton className="h-24" />}
      {links.isError && <ErrorState error={links.error} onRetry={() => links.refetch()} />}
      {links.data && list.length === 0 && (
        <EmptyState title="No share links yet" icon={<Link2 className="size-8" />}>
          Open a finished video in the <Link className="text-accent-600 underline" to="/library">Library</Link> and choose Share.
        </EmptyState>
      )}
      {list.length > 0 && (
        <ul className="space-y-3" aria-label="Share links">
          {list.map((l) => (
            <ShareLinkRow key={l.id} link={l} canWrite={hasRole(me, 'editor')} showJob />
          ))}
        </ul>
      )}
      {links.hasNextPage && (
        <div className="mt-6 flex justify-center">
          <Button variant="secondary" loading={links.isFetchingNextPage} onClick={() => links.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
    </>
  );
}
