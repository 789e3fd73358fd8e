// Analytics (/analytics): what published videos did over the last 7, 30 or 90 days, from the counters the API's
// statistics timer reads from each platform: totals and gained, views per day, per platform, top videos.
import { lazy, Suspense, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { ExternalLink } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { num } from '@/api/types';
import { Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { cn } from '@/lib/cn';
import { formatDateTime } from '@/lib/format';
import { compact, counters, COUNTERS, dayLabel, lastDays, platformName, RANGES, type RangeDays } from '../publishing/model';
import { PlatformMark } from '../publishing/parts';
import { pubKeys } from '../publishing/queries';

const ViewsChart = lazy(() => import('./ViewsChart'));

const LABELS = { views: 'Views', likes: 'Likes', comments: 'Comments', shares: 'Shares' } as const;

function RangePicker({ value, onChange }: { value: RangeDays; onChange: (d: RangeDays) => void }) {
  return (
    <div role="radiogroup" aria-label="Date range" className="inline-flex gap-1 rounded-lg bg-neutral-100 p-1">
      {RANGES.map((d) => (
        <button
          key={d}
          type="button"
          role="radio"
          aria-checked={value === d}
          onClick={() => onChange(d)}
          className={cn(
            'whitespace-nowrap rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
            value === d ? 'bg-white text-neutral-900 shadow-sm' : 'text-neutral-600 hover:text-neutral-900',
          )}
        >
          Last {d} days
        </button>
      ))}
    </div>
  );
}

export default function Analytics() {
  const [days, setDays] = useState<RangeDays>(30);
  // The range is fixed when chosen (not on every render), so the query key stays put.
  const range = useMemo(() => lastDays(days), [days]);
  const overview = useQuery({
    queryKey: pubKeys.analytics('overview', { days }),
    queryFn: async () => unwrap(await api.GET('/v1/analytics/overview', { params: { query: range } })),
  });
  const platforms = useQuery({
    queryKey: pubKeys.analytics('platforms', { days }),
    queryFn: async () => unwrap(await api.GET('/v1/analytics/platforms', { params: { query: range } })),
  });
  const videos = useQuery({
    queryKey: pubKeys.analytics('videos', { days }),
    queryFn: async () => unwrap(await api.GET('/v1/analytics/videos', { params: { query: range } })),
  });

  const o = overview.data;
  const totals = counters(o?.totals);
  const gained = counters(o?.gained);
  const series = (o?.days ?? []).map((d) => ({ label: dayLabel(d.date), views: num(d.views), published: num(d.published) }));

  return (
    <>
      <PageHeader title="Analytics" description="Views, likes, comments and shares of your published videos, as the platforms report them." actions={<RangePicker value={days} onChange={setDays} />} />
      {overview.isError && <ErrorState className="mb-4" error={overview.error} onRetry={() => overview.refetch()} />}

      <section aria-label="Overview" className="mb-6 grid grid-cols-2 gap-3 lg:grid-cols-5">
        <Card>
          <CardContent className="pt-5">
            <p className="text-sm text-neutral-500">Published in range</p>
            {o ? <p className="text-2xl font-semibold">{compact(num(o.published_in_range))}</p> : <Skeleton className="mt-1 h-8 w-16" />}
            {o && <p className="text-xs text-neutral-500">{compact(num(o.videos))} videos in all</p>}
          </CardContent>
        </Card>
        {COUNTERS.map((c) => (
          <Card key={c}>
            <CardContent className="pt-5">
              <p className="text-sm text-neutral-500">{LABELS[c]}</p>
              {o ? <p className="text-2xl font-semibold">{compact(totals[c])}</p> : <Skeleton className="mt-1 h-8 w-16" />}
              {o && (
                <p className={cn('text-xs', gained[c] > 0 ? 'text-emerald-700' : 'text-neutral-500')}>
                  +{compact(gained[c])} in {days} days
                </p>
              )}
            </CardContent>
          </Card>
        ))}
      </section>

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-[1fr_22rem]">
        <Card className="min-w-0">
          <CardHeader>
            <CardTitle>Views per day</CardTitle>
            <CardDescription>Gained each day, over every published video</CardDescription>
          </CardHeader>
          <CardContent>
            {!o ? (
              <Skeleton className="h-64" />
            ) : (
              <Suspense fallback={<Skeleton className="h-64" />}>
                <ViewsChart data={series} />
              </Suspense>
            )}
          </CardContent>
        </Card>

        <Card>
          <CardHeader>
            <CardTitle>By platform</CardTitle>
          </CardHeader>
          <CardContent>
            {platforms.isPending && <Skeleton className="h-32" />}
            {platforms.isError && <ErrorState error={platforms.error} onRetry={() => platforms.refetch()} />}
            {platforms.data && platforms.data.length === 0 && <p className="text-sm text-neutral-500">Nothing published yet.</p>}
            {platforms.data && platforms.data.length > 0 && (
              <ul className="space-y-3" aria-label="Platforms">
                {(() => {
                  const max = Math.max(1, ...platforms.data.map((p) => num(p.totals.views)));
                  return platforms.data.map((p) => (
                    <li key={p.platform} className="space-y-1">
                      <div className="flex items-center gap-2 text-sm">
                        <PlatformMark platform={p.platform} className="size-6 text-[9px]" />
                        <span className="font-medium">{platformName(p.platform)}</span>
                        <span className="ml-auto text-neutral-600">
                          {compact(num(p.totals.views))} views · {num(p.videos)} video{num(p.videos) === 1 ? '' : 's'}
                        </span>
                      </div>
                      <div className="h-2 overflow-hidden rounded-full bg-neutral-100" aria-hidden="true">
                        <div className="h-full rounded-full bg-accent-600" style={{ width: `${(num(p.totals.views) / max) * 100}%` }} />
                      </div>
                      <p className="text-xs text-neutral-500">
                        {compact(num(p.totals.likes))} likes · {compact(num(p.totals.comments))} comments · {compact(num(p.totals.shares))} shares · +{compact(num(p.gained.views))} views in range
                      </p>
                    </li>
                  ));
                })()}
              </ul>
            )}
          </CardContent>
        </Card>
      </div>

      <Card className="mt-6">
        <CardHeader>
          <CardTitle>Top videos</CardTitle>
          <CardDescription>Most viewed first; counters as last read from each platform</CardDescription>
        </CardHeader>
        <CardContent>
          {videos.isPending && <Skeleton className="h-32" />}
          {videos.isError && <ErrorState error={videos.error} onRetry={() => videos.refetch()} />}
          {videos.data && videos.data.length === 0 && (
            <EmptyState title="No published videos">
              Publish a finished video from its page; its counters appear here once the platforms report them.
            </EmptyState>
          )}
          {videos.data && videos.data.length > 0 && (
            <div className="overflow-x-auto">
              <table className="w-full min-w-[40rem] text-sm">
                <caption className="sr-only">Top videos</caption>
                <thead>
                  <tr className="border-b border-neutral-200 text-left text-xs text-neutral-500">
                    <th scope="col" className="py-2 pr-3 font-medium">Video</th>
                    <th scope="col" className="py-2 pr-3 font-medium">Platform</th>
                    {COUNTERS.map((c) => (
                      <th key={c} scope="col" className="py-2 pr-3 text-right font-medium">
                        {LABELS[c]}
                      </th>
                    ))}
                    <th scope="col" className="py-2 text-right font-medium">Gained views</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-neutral-100">
                  {videos.data.map((v) => {
                    const c = counters(v.counters);
                    return (
                      <tr key={v.target_id}>
                        <td className="max-w-72 py-2 pr-3">
                          <div className="flex items-center gap-1">
                            {v.url ? (
                              <a href={v.url} target="_blank" rel="noreferrer" className="truncate font-medium text-accent-600 hover:underline">
                                {v.title ?? 'Untitled'}
                                <ExternalLink className="ml-1 inline size-3" aria-hidden="true" />
                              </a>
                            ) : (
                              <span className="truncate font-medium">{v.title ?? 'Untitled'}</span>
                            )}
                          </div>
                          <p className="text-xs text-neutral-500">
                            {v.job_id && (
                              <>
                                <Link to={`/jobs/${v.job_id}`} className="hover:underline">
                                  job
                                </Link>{' '}
                                ·{' '}
                              </>
                            )}
                            published {formatDateTime(v.published_at)}
                          </p>
                        </td>
                        <td className="py-2 pr-3">
                          {platformName(v.platform)}
                          {v.account_name && <span className="block text-xs text-neutral-500">{v.account_name}</span>}
                        </td>
                        {COUNTERS.map((k) => (
                          <td key={k} className="py-2 pr-3 text-right tabular-nums">
                            {compact(c[k])}
                          </td>
                        ))}
                        <td className="py-2 text-right tabular-nums text-emerald-700">+{compact(num(v.gained.views))}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </CardContent>
      </Card>
    </>
  );
}
