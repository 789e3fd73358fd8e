// The publishing pages' queries (React Query over the typed client).
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { isPublicationRunning } from './model';

export const pubKeys = {
  platforms: ['integrations', 'platforms'] as const,
  integrations: ['integrations', 'list'] as const,
  options: (id: string) => ['integrations', id, 'options'] as const,
  publications: (filter: object = {}) => ['publications', filter] as const,
  publication: (id: string) => ['publication', id] as const,
  analytics: (what: string, range: object) => ['analytics', what, range] as const,
};

export function usePlatforms() {
  return useQuery({ queryKey: pubKeys.platforms, queryFn: async () => unwrap(await api.GET('/v1/integrations/platforms')), staleTime: 300_000 });
}

export function useIntegrations() {
  return useQuery({
    queryKey: pubKeys.integrations,
    queryFn: async () => unwrap(await api.GET('/v1/integrations', { params: { query: { limit: '100' } } })),
  });
}

/** Publications, newest first; polled every 3 s while any is running. */
export function usePublications(filter: { job_id?: string; status?: string } = {}) {
  return useQuery({
    queryKey: pubKeys.publications(filter),
    queryFn: async () => unwrap(await api.GET('/v1/publications', { params: { query: { ...filter, limit: '50' } } })),
    refetchInterval: (q) => (q.state.data?.data.some((p) => isPublicationRunning(p.status)) ? 3000 : false),
  });
}

/** The Publications page's list: pages of 20, newest first, "Load more" for older ones; polled every 3 s while any shown runs. */
export function usePublicationPages(filter: { status?: string } = {}) {
  return useInfiniteQuery({
    queryKey: [...pubKeys.publications(filter), 'pages'],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET('/v1/publications', { params: { query: { ...filter, limit: '20', cursor: pageParam } } })),
    getNextPageParam: (last) => (last.has_more ? (last.next_cursor ?? undefined) : undefined),
    refetchInterval: (q) => (q.state.data?.pages.some((page) => page.data.some((p) => isPublicationRunning(p.status))) ? 3000 : false),
  });
}

export function usePublication(id: string) {
  return useQuery({
    queryKey: pubKeys.publication(id),
    queryFn: async () => unwrap(await api.GET('/v1/publications/{publicationId}', { params: { path: { publicationId: id } } })),
    refetchInterval: (q) => (q.state.data && isPublicationRunning(q.state.data.status) ? 2000 : false),
  });
}
