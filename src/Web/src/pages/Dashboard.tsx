import { Link } from 'react-router';
import { ArrowRight, Clapperboard, PlusCircle, Sparkles } from 'lucide-react';
import { useJobs, useQuota } from '@/api/queries';
import { num, numOrNull, type QuotaLine } from '@/api/types';
import { useAuth } from '@/auth/AuthContext';
import { JobRow } from '@/components/JobStatus';
import { Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, PageHeader, Skeleton, StackedBar } from '@/components/ui';
import { formatDateTime, formatNumber, humanize } from '@/lib/format';

const NAMES: Record<string, string> = {
  llm_tokens: 'LLM tokens',
  tokens: 'LLM tokens',
  kai_credits: 'AI credits',
  render_seconds: 'Render time',
  storage_bytes: 'Storage',
};
const UNITS: Record<string, (v: number) => string> = {
  storage_bytes: (v) => `${formatNumber(v / 2 ** 30, 2)} GB`,
  render_seconds: (v) => `${formatNumber(v / 60, 1)} min`,
  llm_tokens: (v) => formatNumber(v, 0),
  tokens: (v) => formatNumber(v, 0),
};
function fmt(resource: string, v: number) {
  return (UNITS[resource] ?? ((x: number) => formatNumber(x, 1)))(v);
}

export function QuotaRow({ line }: { line: QuotaLine }) {
  const used = num(line.used);
  const reserved = num(line.reserved);
  const limit = numOrNull(line.limit);
  const remaining = numOrNull(line.remaining);
  const name = NAMES[line.resource] ?? humanize(line.resource);
  return (
    <div className="space-y-1.5">
      <div className="flex items-baseline justify-between gap-2 text-sm">
        <span className="font-medium text-neutral-800">{name}</span>
        <span className="text-xs text-neutral-500">{limit === null ? `${fmt(line.resource, used)} used · unlimited` : `${fmt(line.resource, used)} of ${fmt(line.resource, limit)}`}</span>
      </div>
      {limit !== null ? (
        <StackedBar
          label={name}
          segments={[
            { value: used, className: 'bg-accent-600', label: `${fmt(line.resource, used)} used` },
            { value: reserved, className: 'bg-amber-400', label: `${fmt(line.resource, reserved)} reserved` },
            { value: Math.max(0, remaining ?? limit - used - reserved), className: 'bg-transparent', label: `${fmt(line.resource, Math.max(0, remaining ?? 0))} remaining` },
          ]}
        />
      ) : (
        <div className="h-2.5 rounded-full bg-neutral-100" aria-hidden="true" />
      )}
      {(reserved > 0 || num(line.overage) > 0) && (
        <p className="text-xs text-neutral-500">
          {reserved > 0 && `${fmt(line.resource, reserved)} reserved by running jobs`}
          {num(line.overage) > 0 && ` · ${fmt(line.resource, num(line.overage))} over the allowance`}
        </p>
      )}
    </div>
  );
}

function UsageCard() {
  const quota = useQuota();
  return (
    <Card>
      <CardHeader>
        <CardTitle>Usage this month</CardTitle>
        <CardDescription>
          {quota.data ? (
            <>
              <span className="capitalize">{quota.data.plan}</span> plan · resets {formatDateTime(quota.data.resets_at)}
            </>
          ) : (
            'Against your plan’s allowance'
          )}
        </CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        {quota.isPending && [0, 1, 2].map((i) => <Skeleton key={i} className="h-8" />)}
        {quota.isError && <ErrorState error={quota.error} onRetry={() => quota.refetch()} />}
        {quota.data && quota.data.resources.length === 0 && <p className="text-sm text-neutral-500">No allowances on this plan.</p>}
        {quota.data?.resources.map((line) => <QuotaRow key={line.resource} line={line} />)}
        {quota.data && (
          <div className="flex flex-wrap gap-3 pt-1 text-xs text-neutral-500" aria-hidden="true">
            <span className="flex items-center gap-1"><span className="size-2 rounded-full bg-accent-600" /> used</span>
            <span className="flex items-center gap-1"><span className="size-2 rounded-full bg-amber-400" /> reserved</span>
            <span className="flex items-center gap-1"><span className="size-2 rounded-full bg-neutral-200" /> remaining</span>
          </div>
        )}
      </CardContent>
    </Card>
  );
}

function RecentJobs() {
  const jobs = useJobs({ limit: 8 });
  return (
    <Card>
      <CardHeader className="flex-row items-center justify-between">
        <div>
          <CardTitle>Recent videos</CardTitle>
          <CardDescription>Live status of your latest jobs</CardDescription>
        </div>
        <Button asChild variant="ghost" size="sm">
          <Link to="/library">
            Library <ArrowRight aria-hidden="true" />
          </Link>
        </Button>
      </CardHeader>
      <CardContent>
        {jobs.isPending && (
          <div className="space-y-2">
            {[0, 1, 2].map((i) => <Skeleton key={i} className="h-14" />)}
          </div>
        )}
        {jobs.isError && <ErrorState error={jobs.error} onRetry={() => jobs.refetch()} />}
        {jobs.data && jobs.data.data.length === 0 && (
          <EmptyState
            title="No videos yet"
            icon={<Clapperboard className="size-8" />}
            action={
              <Button asChild>
                <Link to="/create">Create your first video</Link>
              </Button>
            }
          >
            Pick a template, write a topic, and FentaWeb writes, voices, subtitles and renders it.
          </EmptyState>
        )}
        {jobs.data && jobs.data.data.length > 0 && (
          <ul className="-mx-2 divide-y divide-neutral-100" aria-label="Recent jobs">
            {jobs.data.data.map((job) => (
              <JobRow key={job.id} job={job} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

export default function Dashboard() {
  const { me } = useAuth();
  return (
    <>
      <PageHeader
        title={`Hello${me?.user.name ? `, ${me.user.name.split(' ')[0]}` : ''}`}
        description={me ? `${me.org.name} · what is rendering and what is left this month` : undefined}
        actions={
          <Button asChild>
            <Link to="/create">
              <PlusCircle aria-hidden="true" /> New video
            </Link>
          </Button>
        }
      />
      <div className="grid grid-cols-1 items-start gap-6 lg:grid-cols-[1fr_22rem]">
        <RecentJobs />
        <div className="space-y-6">
          <Card className="bg-gradient-to-br from-accent-600 to-accent-700 text-white">
            <CardHeader>
              <CardTitle className="flex items-center gap-2 text-white">
                <Sparkles className="size-4" aria-hidden="true" /> Quick create
              </CardTitle>
              <CardDescription className="text-accent-100">A topic is enough: stock clips, narration and subtitles are picked for you.</CardDescription>
            </CardHeader>
            <CardContent>
              <Button asChild variant="secondary">
                <Link to="/create">Start from a template</Link>
              </Button>
            </CardContent>
          </Card>
          <UsageCard />
        </div>
      </div>
    </>
  );
}
