import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { CalendarClock, Plus } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { num, type Schemas } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Badge, buttonVariants, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { useToast } from '@/components/ui/toast';
import { timeAgo } from '@/lib/format';
import { useWorkflows } from '../templates/queries';
import { describeCron, formatRunTime } from './cron';

export type Schedule = Schemas['ScheduleDto'];
export const schedulesKey = ['schedules'] as const;

function EnabledSwitch({ schedule, canEdit }: { schedule: Schedule; canEdit: boolean }) {
  const qc = useQueryClient();
  const toast = useToast();
  const toggle = useMutation({
    mutationFn: async (enabled: boolean) =>
      unwrap(
        await api.PATCH('/v1/schedules/{scheduleId}', {
          params: { path: { scheduleId: schedule.id } },
          body: { enabled, workflow_id: null, name: null, cron: null, timezone: null, variables: null, budget: null },
        }),
      ),
    onSuccess: (s) => {
      qc.setQueryData(['schedule', s.id], s);
      void qc.invalidateQueries({ queryKey: schedulesKey });
    },
    onError: (e) => toast({ title: 'Could not change the schedule', description: errorMessage(e), tone: 'error' }),
  });
  if (!canEdit) return <Badge tone={schedule.enabled ? 'success' : 'neutral'}>{schedule.enabled ? 'enabled' : 'paused'}</Badge>;
  return (
    <label className="inline-flex items-center gap-2 text-sm">
      <input
        type="checkbox"
        role="switch"
        aria-checked={schedule.enabled}
        className="size-4 accent-accent-600"
        checked={schedule.enabled}
        disabled={toggle.isPending}
        onChange={(e) => toggle.mutate(e.target.checked)}
        aria-label={`Enabled: ${schedule.name ?? schedule.cron}`}
      />
      <span aria-hidden="true">{schedule.enabled ? 'Enabled' : 'Paused'}</span>
    </label>
  );
}

export default function ScheduleList() {
  const { me } = useAuth();
  const canEdit = hasRole(me, 'editor');
  const schedules = useQuery({
    queryKey: schedulesKey,
    queryFn: async () => unwrap(await api.GET('/v1/schedules', { params: { query: { limit: '100' } } })),
  });
  const workflows = useWorkflows();
  const nameOf = (id: string) => workflows.data?.data.find((w) => w.id === id)?.name ?? id;
  const list = schedules.data?.data ?? [];
  const create = canEdit ? (
    <Link to="/schedules/new" className={buttonVariants()}>
      <Plus aria-hidden="true" /> New schedule
    </Link>
  ) : undefined;
  return (
    <>
      <PageHeader title="Schedules" description="Run workflows on a cron expression, in your time zone." actions={list.length > 0 ? create : undefined} />
      {schedules.isPending && (
        <div className="space-y-2">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} className="h-20 rounded-xl" />
          ))}
        </div>
      )}
      {schedules.isError && <ErrorState error={schedules.error} onRetry={() => schedules.refetch()} />}
      {schedules.data && list.length === 0 && (
        <EmptyState title="No schedules yet" icon={<CalendarClock className="size-8" />} action={create}>
          A schedule runs a saved workflow at set times, e.g. a new video every weekday at 10:00.
        </EmptyState>
      )}
      {list.length > 0 && (
        <ul className="divide-y divide-neutral-100 rounded-xl border border-neutral-200 bg-white" aria-label="Schedules">
          {list.map((s) => (
            <li key={s.id} className="flex flex-col gap-2 p-4 sm:flex-row sm:items-center sm:gap-4">
              <div className="min-w-0 flex-1">
                <Link to={`/schedules/${s.id}`} className="font-medium text-neutral-900 hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500">
                  {s.name || nameOf(s.workflow_id)}
                </Link>
                <p className="text-sm text-neutral-600">
                  {describeCron(s.cron) ?? <code className="text-xs">{s.cron}</code>} · {s.timezone}
                  {s.name && <span className="text-neutral-500"> · runs {nameOf(s.workflow_id)}</span>}
                </p>
                <p className="text-xs text-neutral-500">
                  {s.enabled && s.next_run_at ? `Next: ${formatRunTime(s.next_run_at, s.timezone)}` : 'No run planned'}
                  {s.last_run_at ? ` · last ${timeAgo(s.last_run_at)}` : ''} · {num(s.run_count)} runs
                  {s.source === 'node' && ' · from the workflow'}
                </p>
                {s.last_error && <p className="text-xs text-red-700">{s.last_error}</p>}
              </div>
              <div className="flex items-center gap-3">
                {s.last_job_id && (
                  <Link to={`/jobs/${s.last_job_id}`} className="text-sm text-accent-700 hover:underline">
                    Last job
                  </Link>
                )}
                <EnabledSwitch schedule={s} canEdit={canEdit} />
              </div>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
