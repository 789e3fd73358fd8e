// The storyboard pages' queries (React Query over the typed client); each polls while work is under way.
import { useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { isBusy } from './model';

export const sbKeys = {
  list: ['storyboards'] as const,
  one: (id: string) => ['storyboard', id] as const,
  audio: ['assets', 'audio'] as const,
};

export function useStoryboards() {
  return useQuery({
    queryKey: sbKeys.list,
    queryFn: async () => unwrap(await api.GET('/v1/storyboards', { params: { query: { limit: '50' } } })),
    refetchInterval: (q) => (q.state.data?.data.some(isBusy) ? 3000 : false),
  });
}

export function useStoryboard(id: string) {
  return useQuery({
    queryKey: sbKeys.one(id),
    queryFn: async () => unwrap(await api.GET('/v1/storyboards/{storyboardId}', { params: { path: { storyboardId: id } } })),
    refetchInterval: (q) => (q.state.data && isBusy(q.state.data) ? 1500 : false),
  });
}

/** The org's audio uploads, for a render's music. */
export function useAudioAssets() {
  return useQuery({
    queryKey: sbKeys.audio,
    queryFn: async () => unwrap(await api.GET('/v1/assets', { params: { query: { type: 'audio', limit: '100' } } })),
    staleTime: 60_000,
  });
}
