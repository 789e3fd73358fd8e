import { useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ArrowLeft, Ban, CheckCircle2, Circle, Code2, Copy, Download, FileText, ImageIcon, Loader2, RotateCcw, Send, Share2, XCircle } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { keys, sortNodes, useJob } from '@/api/queries';
import { num, type Job, type JobNode } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { jobTitle, StatusBadge } from '@/components/JobStatus';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { ProgressBar } from '@/components/ui/feedback';
import { Dialog, DialogContent, DialogTrigger } from '@/components/ui/dialog';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { useToast } from '@/components/ui/toast';
import { jobRequest, toCurl, toFetch, toPython } from '@/lib/apiCall';
import { cn } from '@/lib/cn';
import { formatDateTime, formatDuration, formatNumber, formatUsd, isFinished } from '@/lib/format';
import { CostFigures } from '@/components/CostFigures';
import { PublishDialog } from '@/pages/publishing/PublishDialog';
import { JobPublications } from '@/pages/publishing/JobPublications';
import { ShareDialog } from '@/pages/sharing/ShareDialog';

function NodeIcon({ status }: { status: string }) {
  if (status === 'succeeded' || status === 'completed') return <CheckCircle2 className="size-5 text-emerald-600" aria-hidden="true" />;
  if (status === 'failed') return <XCircle className="size-5 text-red-600" aria-hidden="true" />;
  if (status === 'running' || status === 'processing') return <Loader2 className="size-5 animate-spin text-accent-600" aria-hidden="true" />;
  if (status === 'cancelled' || status === 'skipped') return <Ban className="size-5 text-amber-600" aria-hidden="true" />;
  return <Circle className="size-5 text-neutral-300" aria-hidden="true" />;
}

function errorText(error: unknown): string | null {
  if (!error) return null;
  if (typeof error === 'string') return error;
  if (typeof error === 'object') {
    const e = error as { message?: string; detail?: string; code?: string };
    const text = e.message ?? e.detail;
    if (text) return e.code ? `${e.code}: ${text}` : text;
    return JSON.stringify(error);
  }
  return String(error);
}

function Steps({ nodes }: { nodes: JobNode[] }) {
  if (nodes.length === 0) return <p className="text-sm text-neutral-500">The steps appear once the job starts.</p>;
  return (
    <ol className="space-y-1" aria-label="Steps">
      {sortNodes(nodes).map((n) => {
        const items = n.items;
        const total = items ? num(items.total) : 0;
        const err = errorText(n.error);
        return (
          <li key={n.node_id} className="flex gap-3 rounded-lg p-2">
            <NodeIcon status={n.status} />
            <div className="min-w-0 flex-1">
              <div className="flex flex-wrap items-center gap-x-2 gap-y-1">
                <span className="text-sm font-medium">{n.type}</span>
                <span className="text-xs text-neutral-500">{n.node_id}</span>
                {n.reused && <Badge>reused</Badge>}
                {num(n.attempt) > 1 && <Badge tone="warning">attempt {num(n.attempt)}</Badge>}
              </div>
              {total > 1 && (
                <div className="mt-1 flex items-center gap-2">
                  <ProgressBar className="h-1.5 max-w-48" value={((num(items!.succeeded) + num(items!.failed)) / total) * 100} label={`${n.node_id} items`} />
                  <span className="text-xs text-neutral-500">
                    {num(items!.succeeded)}/{total}
                    {num(items!.failed) > 0 && `, ${num(items!.failed)} failed`}
                  </span>
                </div>
              )}
              {err && <p className="mt-1 break-words text-xs text-red-700">{err}</p>}
            </div>
            <div className="shrink-0 text-right">
              <StatusBadge status={n.status} />
              {num(n.cost_usd) > 0 && <p className="mt-1 text-xs text-neutral-500">{formatUsd(num(n.cost_usd))}</p>}
            </div>
          </li>
        );
      })}
    </ol>
  );
}

function Logs({ job }: { job: Job }) {
  const logs = useQuery({
    queryKey: keys.jobLogs(job.id),
    queryFn: async () => unwrap(await api.GET('/v1/jobs/{jobId}/logs', { params: { path: { jobId: job.id }, query: { limit: '100' } } })),
    refetchInterval: isFinished(job.status) ? false : 3000,
  });
  if (logs.isPending) return <Skeleton className="h-40" />;
  if (logs.isError) return <ErrorState error={logs.error} onRetry={() => logs.refetch()} />;
  if (logs.data.data.length === 0) return <p className="text-sm text-neutral-500">No log lines yet.</p>;
  const lines = [...logs.data.data].sort((a, b) => num(a.id) - num(b.id));
  return (
    <div className="max-h-96 overflow-auto rounded-lg bg-neutral-950 p-3 font-mono text-xs leading-relaxed text-neutral-200" tabIndex={0} aria-label="Job log">
      {lines.map((l) => (
        <div key={String(l.id)} className="whitespace-pre-wrap break-words">
          <span className="text-neutral-400">{typeof l.created_at === 'string' ? new Date(l.created_at).toLocaleTimeString() : ''} </span>
          <span className={cn(l.level === 'error' ? 'text-red-400' : l.level === 'warning' ? 'text-amber-300' : 'text-emerald-300')}>{l.level.padEnd(7)}</span>
          {l.stage && <span className="text-sky-300">[{l.stage}] </span>}
          {l.message}
        </div>
      ))}
    </div>
  );
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const toast = useToast();
  return (
    <Button
      variant="secondary"
      size="sm"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          toast({ title: 'Copied', description: label, tone: 'success' });
        } catch {
          toast({ title: 'Could not copy', description: 'Select the text and copy it by hand.', tone: 'error' });
        }
      }}
    >
      <Copy aria-hidden="true" /> Copy
    </Button>
  );
}

function ApiCallDialog({ job }: { job: Job }) {
  const { me, orgId } = useAuth();
  // X-Org-Id only matters to someone in more than one org.
  const found = jobRequest(job, (me?.memberships.length ?? 0) > 1 ? orgId : null);
  const base = window.location.origin;
  const snippets = found ? { curl: toCurl(found.call, base), javascript: toFetch(found.call, base), python: toPython(found.call, base) } : null;
  return (
    <Dialog>
      <DialogTrigger asChild>
        <Button variant="secondary">
          <Code2 aria-hidden="true" /> Copy as API call
        </Button>
      </DialogTrigger>
      <DialogContent title="The API call that made this job" description="Set FENTA_API_KEY to an API key with the jobs:execute scope." className="max-w-2xl">
        {!snippets ? (
          <Alert tone="info">The API has no request for this job (it was made before jobs kept theirs), so it cannot be shown.</Alert>
        ) : (
          <Tabs defaultValue="curl">
            {!found!.exact && <Alert tone="warning" className="mb-3">A schedule started this run, so there is no request to copy: this call runs the same workflow with its own variables.</Alert>}
            <TabsList aria-label="Language">
              <TabsTrigger value="curl">curl</TabsTrigger>
              <TabsTrigger value="javascript">JavaScript</TabsTrigger>
              <TabsTrigger value="python">Python</TabsTrigger>
            </TabsList>
            {(Object.keys(snippets) as (keyof typeof snippets)[]).map((k) => (
              <TabsContent key={k} value={k} className="space-y-2">
                <pre className="max-h-80 overflow-auto rounded-lg bg-neutral-950 p-3 text-xs text-neutral-100" aria-label={`${k} snippet`} tabIndex={0}>
                  <code>{snippets[k]}</code>
                </pre>
                <CopyButton text={snippets[k]} label={`The ${k} call is on your clipboard.`} />
              </TabsContent>
            ))}
          </Tabs>
        )}
      </DialogContent>
    </Dialog>
  );
}

function Player({ job }: { job: Job }) {
  const r = job.result;
  if (!r?.video_url) return null;
  return (
    <Card className="overflow-hidden">
      <div className="flex justify-center bg-neutral-950">
        <video src={r.video_url} poster={r.thumbnail_url ?? undefined} controls playsInline preload="metadata" className="max-h-[70vh] w-full max-w-full" aria-label="The rendered video" />
      </div>
      <CardContent className="flex flex-wrap items-center gap-2 pt-4">
        <Button asChild size="sm">
          <a href={r.video_url} download={`${job.id}.mp4`}>
            <Download aria-hidden="true" /> MP4
          </a>
        </Button>
        {r.srt_url && (
          <Button asChild size="sm" variant="secondary">
            <a href={r.srt_url} download={`${job.id}.srt`}>
              <FileText aria-hidden="true" /> Subtitles (SRT)
            </a>
          </Button>
        )}
        {r.thumbnail_url && (
          <Button asChild size="sm" variant="secondary">
            <a href={r.thumbnail_url} download={`${job.id}.jpg`}>
              <ImageIcon aria-hidden="true" /> Thumbnail
            </a>
          </Button>
        )}
        <span className="ml-auto text-xs text-neutral-500">
          {r.duration != null && `${formatDuration(num(r.duration))} · `}links expire {formatDateTime(r.expires_at)}
        </span>
      </CardContent>
    </Card>
  );
}

function Costs({ job }: { job: Job }) {
  const nodes = (job.nodes ?? []).filter((n) => num(n.cost_usd) > 0);
  return (
    <Card>
      <CardHeader>
        <CardTitle>Cost</CardTitle>
        <CardDescription>{isFinished(job.status) ? 'What this job used' : 'So far; updates as steps finish'}</CardDescription>
      </CardHeader>
      <CardContent className="space-y-3">
        <p className="text-2xl font-semibold">{formatUsd(num(job.cost.total_usd))}</p>
        <CostFigures tokens={num(job.cost.tokens)} kaiCredits={num(job.cost.kai_credits)} renderSeconds={num(job.cost.render_seconds)} />
        {nodes.length > 0 && (
          <ul className="space-y-1 text-sm">
            {nodes.map((n) => (
              <li key={n.node_id} className="flex justify-between gap-2">
                <span className="truncate text-neutral-600">{n.type}</span>
                <span>{formatUsd(num(n.cost_usd))}</span>
              </li>
            ))}
          </ul>
        )}
        {job.budget && (num(job.budget.max_cost_usd) > 0 || num(job.budget.max_tokens) > 0) && (
          <p className="text-xs text-neutral-500">
            Budget:{' '}
            {[num(job.budget.max_cost_usd) > 0 && formatUsd(num(job.budget.max_cost_usd)), num(job.budget.max_tokens) > 0 && `${formatNumber(num(job.budget.max_tokens), 0)} tokens`]
              .filter(Boolean)
              .join(', ')}
          </p>
        )}
      </CardContent>
    </Card>
  );
}

export default function JobPage() {
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const { me } = useAuth();
  const toast = useToast();
  const job = useJob(id);
  const [actionError, setActionError] = useState<string | null>(null);
  const [publishing, setPublishing] = useState(false);
  const [sharing, setSharing] = useState(false);
  const canWrite = hasRole(me, 'editor');

  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/jobs/{jobId}/cancel', { params: { path: { jobId: id } } })),
    onSuccess: (j) => {
      qc.setQueryData(keys.job(id), (old: Job | undefined) => ({ ...(old ?? j), ...j, nodes: j.nodes ?? old?.nodes ?? null }));
      toast({ title: 'Cancelling', description: 'Running steps stop at their next check.' });
    },
    onError: (e) => setActionError(errorMessage(e)),
  });
  const retry = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/jobs/{jobId}/retry', { params: { path: { jobId: id } } })),
    onSuccess: (j) => {
      toast({ title: 'Retrying', description: 'A new job reuses what already succeeded.' });
      navigate(`/jobs/${j.id}`);
    },
    onError: (e) => setActionError(errorMessage(e)),
  });

  const title = useMemo(() => (job.data ? jobTitle(job.data) : 'Job'), [job.data]);

  if (job.isPending) {
    return (
      <div className="space-y-4" aria-busy="true">
        <Skeleton className="h-10 w-2/3" />
        <Skeleton className="h-64" />
      </div>
    );
  }
  if (job.isError) {
    return (
      <>
        <PageHeader title="Job" />
        <ErrorState error={job.error} onRetry={() => job.refetch()} />
      </>
    );
  }
  const j = job.data;
  const running = !isFinished(j.status);
  const err = errorText(j.error);

  return (
    <>
      <Link to="/library" className="mb-3 inline-flex items-center gap-1 text-sm text-neutral-500 hover:text-neutral-800">
        <ArrowLeft className="size-4" aria-hidden="true" /> Library
      </Link>
      <PageHeader
        title={<span className="break-words">{title}</span>}
        description={
          <span className="flex flex-wrap items-center gap-2">
            <StatusBadge status={j.status} />
            <span className="font-mono text-xs">{j.id}</span>
            <span>· created {formatDateTime(j.created_at)}</span>
            {j.duration_seconds != null && <span>· took {formatDuration(num(j.duration_seconds))}</span>}
            {running && (
              <span className="text-xs text-neutral-500" aria-live="polite">
                {job.live === 'live' ? '● live' : job.live === 'polling' ? 'refreshing every 2 s' : 'connecting…'}
              </span>
            )}
          </span>
        }
        actions={
          <>
            {canWrite && running && (
              <Button variant="destructive" loading={cancel.isPending} onClick={() => cancel.mutate()}>
                <Ban aria-hidden="true" /> Cancel
              </Button>
            )}
            {canWrite && (j.status === 'failed' || j.status === 'cancelled') && (
              <Button loading={retry.isPending} onClick={() => retry.mutate()}>
                <RotateCcw aria-hidden="true" /> Retry
              </Button>
            )}
            {canWrite && j.status === 'completed' && j.result?.video_url && (
              <Button onClick={() => setPublishing(true)}>
                <Send aria-hidden="true" /> Publish
              </Button>
            )}
            {j.status === 'completed' && j.result?.video_url && (
              <Button variant="secondary" onClick={() => setSharing(true)}>
                <Share2 aria-hidden="true" /> Share
              </Button>
            )}
            <ApiCallDialog job={j} />
          </>
        }
      />
      {actionError && <Alert className="mb-4">{actionError}</Alert>}
      {j.status === 'paused' && (
        <Alert tone="warning" className="mb-4" title="Paused">
          {j.paused_reason ?? 'The monthly allowance is used up.'} {j.resume_at ? `It starts by itself on ${formatDateTime(j.resume_at)}.` : ''}
        </Alert>
      )}
      {err && (
        <Alert className="mb-4" title={j.status === 'failed' ? 'The job failed' : 'Error'}>
          {err}
        </Alert>
      )}

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="min-w-0 space-y-6">
          {running && (
            <Card>
              <CardContent className="space-y-2 pt-5">
                <div className="flex justify-between text-sm">
                  <span className="font-medium">Rendering your video</span>
                  <span className="text-neutral-500">{num(j.progress)}%</span>
                </div>
                <ProgressBar value={num(j.progress)} label="Job progress" />
              </CardContent>
            </Card>
          )}
          {j.status === 'completed' && !j.result?.video_url && (
            <EmptyState title="No video in the result">This job finished without a rendered video (its workflow has no render step).</EmptyState>
          )}
          <Player job={j} />
          {j.status === 'completed' && <JobPublications jobId={j.id} canWrite={canWrite} />}
          <Card>
            <CardHeader>
              <CardTitle>Steps</CardTitle>
            </CardHeader>
            <CardContent>
              <Steps nodes={j.nodes ?? []} />
            </CardContent>
          </Card>
          <Card>
            <CardHeader>
              <CardTitle>Log</CardTitle>
            </CardHeader>
            <CardContent>
              <Logs job={j} />
            </CardContent>
          </Card>
        </div>
        <div className="space-y-6">
          <Costs job={j} />
          <Card>
            <CardHeader>
              <CardTitle>Details</CardTitle>
            </CardHeader>
            <CardContent>
              <dl className="space-y-2 text-sm">
                {j.workflow_id && (
                  <div className="flex justify-between gap-2"><dt className="text-neutral-500">Workflow</dt><dd className="truncate font-mono text-xs">{j.workflow_id} v{num(j.workflow_version)}</dd></div>
                )}
                {j.parent_job_id && (
                  <div className="flex justify-between gap-2"><dt className="text-neutral-500">Retry of</dt><dd><Link className="font-mono text-xs text-accent-600 hover:underline" to={`/jobs/${j.parent_job_id}`}>{j.parent_job_id}</Link></dd></div>
                )}
                <div className="flex justify-between gap-2"><dt className="text-neutral-500">Started</dt><dd>{formatDateTime(j.started_at)}</dd></div>
                <div className="flex justify-between gap-2"><dt className="text-neutral-500">Finished</dt><dd>{formatDateTime(j.completed_at)}</dd></div>
                {j.trace_id && (
                  <div className="flex justify-between gap-2"><dt className="text-neutral-500">Trace</dt><dd className="truncate font-mono text-xs">{j.trace_id}</dd></div>
                )}
              </dl>
            </CardContent>
          </Card>
        </div>
      </div>
      {publishing && <PublishDialog jobId={j.id} defaultTitle={title} onClose={() => setPublishing(false)} />}
      {sharing && <ShareDialog jobId={j.id} defaultTitle={title} canWrite={canWrite} onClose={() => setSharing(false)} />}
    </>
  );
}
