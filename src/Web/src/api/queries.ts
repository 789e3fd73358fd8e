// Shared queries (React Query) over the typed client. Pages import these instead of repeating the calls.
import { useEffect, useRef, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { unwrap } from './problem';
import { streamEvents } from './sse';
import type { Job, JobNode } from './types';
import { isFinished } from '@/lib/format';

export const keys = {
  jobs: (filter: object = {}) => ['jobs', filter] as const,
  job: (id: string) => ['job', id] as const,
  jobLogs: (id: string) => ['job', id, 'logs'] as const,
  quota: ['usage', 'quota'] as const,
  templates: ['templates'] as const,
  models: ['models'] as const,
  voices: ['voices'] as const,
  nodes: ['nodes'] as const,
  assets: (filter: object = {}) => ['assets', filter] as const,
};

export type JobFilter = { status?: string; created_after?: string; created_before?: string; limit?: number };

/** A page of jobs, polled every 3 s while any of them is still running. */
export function useJobs(filter: JobFilter = {}) {
  return useQuery({
    queryKey: keys.jobs(filter),
    queryFn: async () =>
      unwrap(await api.GET('/v1/jobs', { params: { query: { ...filter, limit: filter.limit?.toString() } } })),
    refetchInterval: (q) => (q.state.data?.data.some((j) => !isFinished(j.status)) ? 3000 : false),
  });
}

export function useQuota() {
  return useQuery({ queryKey: keys.quota, queryFn: async () => unwrap(await api.GET('/v1/usage/quota')) });
}

export function useTemplates() {
  return useQuery({
    queryKey: keys.templates,
    queryFn: async () => unwrap(await api.GET('/v1/templates', { params: { query: { limit: '100' } } })),
    staleTime: 60_000,
  });
}

export function useModels() {
  return useQuery({ queryKey: keys.models, queryFn: async () => unwrap(await api.GET('/v1/models')), staleTime: 300_000 });
}

export function useVoices() {
  return useQuery({ queryKey: keys.voices, queryFn: async () => unwrap(await api.GET('/v1/voices')), staleTime: 300_000 });
}

/** The node catalog (GET /v1/nodes): the choices of each node's params (subtitle styles, output profiles, genres…). */
export function useNodeCatalog() {
  return useQuery({ queryKey: keys.nodes, queryFn: async () => unwrap(await api.GET('/v1/nodes')), staleTime: 600_000 });
}

/** The choices of one param of one node type, from the catalog. */
export function paramChoices(catalog: { type: string; params: { name: string; values: string[] | null; default: unknown }[] }[] | undefined, nodeType: string, param: string) {
  const p = catalog?.find((n) => n.type === nodeType)?.params.find((x) => x.name === param);
  return { values: p?.values ?? [], default: typeof p?.default === 'string' ? p.default : undefined };
}

type NodeEvent = { node_id: string; type?: string; status: string; attempt?: number; items?: JobNode['items']; error?: JobNode['error'] };
type JobEvent = { id: string; status: string; progress: number; error?: Job['error'] };

/** Nodes in the order they ran: by start time, the ones not started yet last. */
export function sortNodes(nodes: JobNode[]): JobNode[] {
  const time = (v: unknown) => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : Number.MAX_SAFE_INTEGER);
  return [...nodes].sort((a, b) => time(a.started_at) - time(b.started_at) || time(a.completed_at) - time(b.completed_at));
}

/** Applies one event of GET /v1/jobs/{id}/events to the cached job. */
export function applyJobEvent(job: Job, event: string, data: unknown): Job {
  if (event === 'job') {
    const e = data as JobEvent;
    return { ...job, status: e.status, progress: e.progress, error: e.error ?? job.error };
  }
  if (event === 'node') {
    const e = data as NodeEvent;
    const nodes = [...(job.nodes ?? [])];
    const i = nodes.findIndex((n) => n.node_id === e.node_id);
    const base: JobNode =
      i >= 0
        ? nodes[i]
        : { node_id: e.node_id, type: e.type ?? '', status: e.status, attempt: 0, reused: false, items: null, output: null, error: null, external_ref: null, cost_usd: 0, started_at: null as unknown as string, completed_at: null as unknown as string };
    const next: JobNode = { ...base, status: e.status, attempt: e.attempt ?? base.attempt, items: e.items ?? base.items, error: e.error ?? base.error };
    if (i >= 0) nodes[i] = next;
    else nodes.push(next);
    return { ...job, nodes };
  }
  return job;
}

/**
 * One job, live: read once, then kept current from its Server-Sent Events (fetch streaming with the bearer token);
 * when the job ends it is read again for its result and costs. If the stream cannot be opened it polls every 2 s.
 */
export function useJob(id: string) {
  const qc = useQueryClient();
  const [live, setLive] = useState<'connecting' | 'live' | 'polling' | 'done'>('connecting');
  const query = useQuery({
    queryKey: keys.job(id),
    queryFn: async () => unwrap(await api.GET('/v1/jobs/{jobId}', { params: { path: { jobId: id } } })),
    refetchInterval: (q) => (live === 'polling' && q.state.data && !isFinished(q.state.data.status) ? 2000 : false),
  });
  const status = query.data?.status;
  const running = status !== undefined && !isFinished(status);
  const streaming = useRef(false);

  useEffect(() => {
    if (!running || streaming.current) return;
    streaming.current = true;
    const abort = new AbortController();
    // Events carry states, not times or costs: read the whole job again at most every 2 s while they come.
    let refetchTimer: ReturnType<typeof setTimeout> | null = null;
    const refetchSoon = () => {
      refetchTimer ??= setTimeout(() => {
        refetchTimer = null;
        if (!abort.signal.aborted) void qc.invalidateQueries({ queryKey: keys.job(id), exact: true });
      }, 2000);
    };
    setLive('connecting');
    streamEvents(
      `/v1/jobs/${encodeURIComponent(id)}/events`,
      (e) => {
        setLive('live');
        let data: unknown;
        try {
          data = JSON.parse(e.data);
        } catch {
          return;
        }
        qc.setQueryData<Job>(keys.job(id), (job) => (job ? applyJobEvent(job, e.event, data) : job));
        refetchSoon();
      },
      abort.signal,
    )
      .then(() => setLive('done'))
      .catch(() => {
        if (!abort.signal.aborted) setLive('polling');
      })
      .finally(() => {
        streaming.current = false;
      });
    return () => {
      abort.abort();
      if (refetchTimer) clearTimeout(refetchTimer);
      streaming.current = false;
    };
  }, [id, running, qc]);

  // Finished while this page watched it: the last event said so, and the effect above stopped the stream (and its
  // pending re-read) as it did. Read the job again for its result, costs and outputs, and its log; once.
  const watchedRunning = useRef(false);
  if (running) watchedRunning.current = true;
  useEffect(() => {
    if (status === undefined || running) return;
    setLive('done');
    if (!watchedRunning.current) return;
    watchedRunning.current = false;
    void qc.invalidateQueries({ queryKey: keys.job(id), exact: true });
    void qc.invalidateQueries({ queryKey: keys.jobLogs(id) });
  }, [status, running, id, qc]);

  return { ...query, live };
}
