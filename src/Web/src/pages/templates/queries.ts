// Queries of the templates, workflows and schedules pages.
import { useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import type { Schemas } from '@/api/types';

export type Workflow = Schemas['WorkflowDto'];
export type WorkflowVersion = Schemas['WorkflowVersionDto'];

export const workflowKeys = {
  list: ['workflows'] as const,
  one: (id: string) => ['workflow', id] as const,
  versions: (id: string) => ['workflow', id, 'versions'] as const,
};

export function useWorkflows() {
  return useQuery({
    queryKey: workflowKeys.list,
    queryFn: async () => unwrap(await api.GET('/v1/workflows', { params: { query: { limit: '100' } } })),
  });
}

export function useWorkflow(id: string | undefined) {
  return useQuery({
    queryKey: workflowKeys.one(id ?? ''),
    queryFn: async () => unwrap(await api.GET('/v1/workflows/{workflowId}', { params: { path: { workflowId: id! } } })),
    enabled: !!id,
  });
}
