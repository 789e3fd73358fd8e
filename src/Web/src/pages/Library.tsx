import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Clapperboard, Film, Search } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { num, type Job } from '@/api/types';
import { jobTitle } from '@/components/JobStatus';
import { Button, EmptyState, ErrorState, FormField, Input, PageHeader, Select, Skeleton } from '@/components/ui';
import { requestText } from '@/lib/apiCall';
import { formatDuration, timeAgo } from '@/lib/format';
import { useWorkflows } from '@/pages/templates/queries';

const RANGES: Record<string, number | null> = { all: null, '7d': 7, '30d': 30, '90d': 90 };

function Tile({ job, workflowName }: { job: Job; workflowName?: string }) {
  const thumb = job.result?.thumbnail_url;
  const title = jobTitle(job, workflowName);
  return (
    <li>
      <Link to={`/jobs/${job.id}`} className="group block rounded-xl focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500" aria-label={`${title}, ${formatDuration(num(job.result?.duration))}`}>
        <div className="relative aspect-[9/16] overflow-hidden rounded-xl bg-neutral-200">
          {thumb ? (
            <img src={thumb} alt="" loading="lazy" className="h-full w-full object-cover transition-transform duration-300 group-hover:scale-105" />
          ) : (
            <div className="flex h-full items-center justify-center text-neutral-400">
              <Film className="size-8" aria-hidden="true" />
            </div>
          )}
          {job.result?.duration != null && (
            <span className="absolute bottom-2 right-2 rounded bg-neutral-950/75 px-1.5 py-0.5 text-xs font-medium text-white">{formatDuration(num(job.result.duration))}</span>
          )}
        </div>
        <p className="mt-2 line-clamp-2 text-sm font-medium text-neutral-900">{title}</p>
        <p className="text-xs text-neutral-500">{timeAgo(job.completed_at ?? job.created_at)}</p>
      </Link>
    </li>
  );
}

export default function Library() {
  const [search, setSearch] = useState('');
  const [range, setRange] = useState('all');
  const after = useMemo(() => {
    const days = RANGES[range];
    return days ? new Date(Date.now() - days * 86400_000).toISOString() : undefined;
  }, [range]);
  const jobs = useInfiniteQuery({
    queryKey: ['jobs', 'library', { after }],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET('/v1/jobs', { params: { query: { status: 'completed', limit: '24', cursor: pageParam, created_after: after } } })),
    getNextPageParam: (last) => (last.has_more ? last.next_cursor ?? undefined : undefined),
  });
  // Workflow names, to show and search runs by (until they load, or for a deleted workflow, runs go by their ids).
  const workflows = useWorkflows();
  const names = useMemo(() => new Map((workflows.data?.data ?? []).map((w) => [w.id, w.name])), [workflows.data]);
  const all = jobs.data?.pages.flatMap((p) => p.data) ?? [];
  const q = search.trim().toLowerCase();
  // What the API answers for each job: its id, workflow (id and name), the job it retried and its request (the topic, a
  // run's variables). The list is searched as loaded; "Load more" searches further back.
  const haystack = (j: Job) => {
    const wf = j.workflow_id ? names.get(j.workflow_id) : undefined;
    return [jobTitle(j, wf), j.id, j.workflow_id, wf, j.parent_job_id, requestText(j)].filter(Boolean).join('\n').toLowerCase();
  };
  const shown = q ? all.filter((j) => haystack(j).includes(q)) : all;

  return (
    <>
      <PageHeader title="Library" description="Your finished videos. Open one to play, download or copy its API call." />
      <div className="mb-6 grid gap-3 sm:grid-cols-[1fr_12rem]">
        <FormField label="Search">
          <div className="relative">
            <Search className="pointer-events-none absolute left-3 top-1/2 size-4 -translate-y-1/2 text-neutral-400" aria-hidden="true" />
            <Input type="search" aria-label="Search" className="pl-9" placeholder="Topic, workflow, job id" value={search} onChange={(e) => setSearch(e.target.value)} />
          </div>
        </FormField>
        <FormField label="Made">
          <Select value={range} onChange={(e) => setRange(e.target.value)}>
            <option value="all">Any time</option>
            <option value="7d">Last 7 days</option>
            <option value="30d">Last 30 days</option>
            <option value="90d">Last 90 days</option>
          </Select>
        </FormField>
      </div>
      {jobs.isPending && (
        <div className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-5" aria-busy="true">
          {Array.from({ length: 10 }, (_, i) => (
            <Skeleton key={i} className="aspect-[9/16] rounded-xl" />
          ))}
        </div>
      )}
      {jobs.isError && <ErrorState error={jobs.error} onRetry={() => jobs.refetch()} />}
      {jobs.data && all.length === 0 && (
        <EmptyState title="No finished videos yet" icon={<Clapperboard className="size-8" />} action={<Button asChild><Link to="/create">Create a video</Link></Button>}>
          {range === 'all' ? 'Videos show up here when their render completes.' : 'Nothing finished in this period.'}
        </EmptyState>
      )}
      {jobs.data && all.length > 0 && shown.length === 0 && (
        <EmptyState title="No matches">
          No video matches “{search}”{jobs.hasNextPage ? ' among the ones loaded: load more to search further back.' : '.'}
        </EmptyState>
      )}
      {shown.length > 0 && (
        <ul className="grid grid-cols-2 gap-4 sm:grid-cols-3 lg:grid-cols-5" aria-label="Videos">
          {shown.map((j) => (
            <Tile key={j.id} job={j} workflowName={j.workflow_id ? names.get(j.workflow_id) : undefined} />
          ))}
        </ul>
      )}
      {jobs.hasNextPage && (
        <div className="mt-6 flex justify-center">
          <Button variant="secondary" loading={jobs.isFetchingNextPage} onClick={() => jobs.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
    </>
  );
}
