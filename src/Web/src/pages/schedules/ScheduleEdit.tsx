import { useEffect, useMemo, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { ArrowLeft, Trash2 } from 'lucide-react';
import { api } from '@/api/client';
import { applyProblemToForm, unwrap } from '@/api/problem';
import { num } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, ErrorState, FormField, Input, PageHeader, Select, Skeleton } from '@/components/ui';
import { Checkbox } from '@/components/ui/checkbox';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime, timeAgo } from '@/lib/format';
import { useWorkflow, useWorkflows } from '../templates/queries';
import { initialValues, toVariables, variableFields, variablesFieldMap } from '../templates/variables';
import { VariablesFields } from '../templates/VariablesFields';
import { CRON_PRESETS, describeCron, formatRunTime, localTimeZone, SCHEDULE_FIELD_MAP, scheduleSchema, timeZones, type ScheduleValues } from './cron';
import { schedulesKey, type Schedule } from './ScheduleList';

function UpcomingRuns({ schedule }: { schedule: Schedule }) {
  const runs = (schedule.upcoming ?? []) as string[];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Next runs</CardTitle>
        <CardDescription>As the API computes them, in {schedule.timezone}.</CardDescription>
      </CardHeader>
      <CardContent>
        {!schedule.enabled && <p className="text-sm text-neutral-500">Paused: enable the schedule to plan runs.</p>}
        {schedule.enabled && runs.length === 0 && <p className="text-sm text-neutral-500">No upcoming runs.</p>}
        {schedule.enabled && runs.length > 0 && (
          <ol className="space-y-1 text-sm" aria-label="Next runs">
            {runs.map((r) => (
              <li key={r}>
                <span className="block">{formatRunTime(r, schedule.timezone)}</span>
                {localTimeZone() !== schedule.timezone && <span className="block text-xs text-neutral-500">{formatDateTime(r)} your time</span>}
              </li>
            ))}
          </ol>
        )}
        <dl className="mt-4 grid grid-cols-2 gap-2 border-t border-neutral-100 pt-3 text-sm">
          <div>
            <dt className="text-xs text-neutral-500">Runs so far</dt>
            <dd>{num(schedule.run_count)}</dd>
          </div>
          <div>
            <dt className="text-xs text-neutral-500">Last run</dt>
            <dd>
              {schedule.last_run_at ? timeAgo(schedule.last_run_at) : 'never'}
              {schedule.last_job_id && (
                <>
                  {' · '}
                  <Link to={`/jobs/${schedule.last_job_id}`} className="text-accent-700 hover:underline">
                    job
                  </Link>
                </>
              )}
            </dd>
          </div>
        </dl>
        {schedule.last_error && <Alert className="mt-3">{schedule.last_error}</Alert>}
      </CardContent>
    </Card>
  );
}

function ScheduleForm({ schedule, initialWorkflow }: { schedule?: Schedule; initialWorkflow?: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const workflows = useWorkflows();
  const zones = useMemo(() => timeZones(), []);
  const fromNode = schedule?.source === 'node';
  const form = useForm<ScheduleValues>({
    resolver: zodResolver(scheduleSchema),
    defaultValues: {
      name: schedule?.name ?? '',
      workflowId: schedule?.workflow_id ?? initialWorkflow ?? '',
      cron: schedule?.cron ?? '0 10 * * 1-5',
      timezone: schedule?.timezone ?? localTimeZone(),
      enabled: schedule?.enabled ?? true,
      maxCostUsd: schedule?.budget?.max_cost_usd != null ? String(num(schedule.budget.max_cost_usd)) : '',
      vars: [],
    },
  });
  const workflowId = useWatch({ control: form.control, name: 'workflowId' });
  const cron = useWatch({ control: form.control, name: 'cron' });
  const workflow = useWorkflow(workflowId || undefined);
  const fields = useMemo(() => (workflow.data ? variableFields(workflow.data.variables, workflow.data.graph) : []), [workflow.data]);
  useEffect(() => {
    form.setValue('vars', initialValues(fields, schedule && schedule.workflow_id === workflowId ? schedule.variables : undefined));
  }, [fields, form, schedule, workflowId]);
  const [formError, setFormError] = useState<string | null>(null);

  const save = useMutation({
    mutationFn: async (v: ScheduleValues) => {
      const out = toVariables(fields, v.vars);
      const max = v.maxCostUsd.trim() ? Number(v.maxCostUsd) : null;
      const budget = max === null ? (schedule?.budget ? { max_cost_usd: null, max_tokens: null } : null) : { max_cost_usd: max, max_tokens: null };
      const body = {
        name: v.name.trim() || null,
        cron: fromNode ? null : v.cron.trim(),
        timezone: fromNode ? null : v.timezone,
        variables: out.variables,
        enabled: v.enabled,
        budget,
      };
      if (schedule)
        return unwrap(await api.PATCH('/v1/schedules/{scheduleId}', { params: { path: { scheduleId: schedule.id } }, body: { ...body, workflow_id: null } }));
      return unwrap(await api.POST('/v1/schedules', { body: { ...body, workflow_id: v.workflowId } }));
    },
    onSuccess: (s) => {
      void qc.invalidateQueries({ queryKey: schedulesKey });
      qc.setQueryData(['schedule', s.id], s);
      toast({ title: schedule ? 'Schedule saved' : 'Schedule created', description: describeCron(s.cron) ?? s.cron, tone: 'success' });
      if (!schedule) navigate(`/schedules/${s.id}`, { replace: true });
    },
    onError: (e) => {
      const { message } = applyProblemToForm(e, form.setError, ['name', 'workflowId', 'cron', 'timezone', 'enabled', 'maxCostUsd'], {
        ...SCHEDULE_FIELD_MAP,
        ...variablesFieldMap(fields),
      });
      setFormError(message);
    },
  });
  const submit = form.handleSubmit((v) => {
    setFormError(null);
    const out = toVariables(fields, v.vars);
    const bad = Object.entries(out.errors);
    bad.forEach(([i, message]) => form.setError(`vars.${Number(i)}`, { type: 'validate', message }));
    if (bad.length === 0) save.mutate(v);
  });
  const { errors } = form.formState;
  const reading = describeCron(cron ?? '');
  return (
    <form noValidate onSubmit={submit} className="space-y-6" aria-label={schedule ? 'Edit schedule' : 'New schedule'}>
      <Card>
        <CardHeader>
          <CardTitle>When</CardTitle>
          {fromNode && <CardDescription>This schedule comes from the workflow's cron node: edit the workflow to change when it runs.</CardDescription>}
        </CardHeader>
        <CardContent className="space-y-4">
          <FormField label="Name" hint="Optional" error={errors.name?.message}>
            <Input autoComplete="off" placeholder="Weekday news video" {...form.register('name')} />
          </FormField>
          <div className="grid gap-4 sm:grid-cols-2">
            <FormField
              label="Cron expression"
              hint={reading ?? 'minute hour day-of-month month day-of-week'}
              error={errors.cron?.message}
            >
              <Input className="font-mono" autoComplete="off" spellCheck={false} disabled={fromNode} {...form.register('cron')} />
            </FormField>
            <FormField label="Time zone" error={errors.timezone?.message}>
              <Select disabled={fromNode} {...form.register('timezone')}>
                {zones.map((z) => (
                  <option key={z} value={z}>
                    {z}
                  </option>
                ))}
              </Select>
            </FormField>
          </div>
          {!fromNode && (
            <div className="flex flex-wrap gap-2" role="group" aria-label="Common schedules">
              {CRON_PRESETS.map((p) => (
                <Button key={p.cron} variant="secondary" size="sm" onClick={() => form.setValue('cron', p.cron, { shouldValidate: true, shouldDirty: true })}>
                  {p.label}
                </Button>
              ))}
            </div>
          )}
          <Checkbox label="Enabled" hint="A paused schedule keeps its settings but starts nothing" {...form.register('enabled')} />
        </CardContent>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>What</CardTitle>
        </CardHeader>
        <CardContent className="space-y-4">
          <FormField label="Workflow" hint={schedule ? 'A schedule keeps its workflow; create another schedule for a different one' : undefined} error={errors.workflowId?.message}>
            <Select disabled={!!schedule || workflows.isPending} {...form.register('workflowId')}>
              <option value="">{workflows.isPending ? 'Loading workflows…' : 'Pick a workflow'}</option>
              {workflows.data?.data.map((w) => (
                <option key={w.id} value={w.id}>
                  {w.name}
                </option>
              ))}
              {schedule && !workflows.data?.data.some((w) => w.id === schedule.workflow_id) && <option value={schedule.workflow_id}>{schedule.workflow_id}</option>}
            </Select>
          </FormField>
          {workflows.isError && <ErrorState error={workflows.error} onRetry={() => workflows.refetch()} />}
          {workflows.data && workflows.data.data.length === 0 && (
            <Alert tone="info">
              There are no workflows to schedule yet. <Link to="/templates?tab=workflows" className="underline">See workflows</Link>
            </Alert>
          )}
          {workflowId && workflow.isPending && <Skeleton className="h-16" />}
          {workflow.isError && <ErrorState error={workflow.error} />}
          {workflow.data && (
            <fieldset>
              <legend className="mb-2 text-sm font-medium text-neutral-800">Variables</legend>
              <VariablesFields fields={fields} register={form.register} errors={errors.vars as never} />
            </fieldset>
          )}
          <FormField label="Budget per run (USD)" hint="Optional: a run whose estimate is above this is refused" error={errors.maxCostUsd?.message} className="max-w-56">
            <Input inputMode="decimal" placeholder="No limit" {...form.register('maxCostUsd')} />
          </FormField>
        </CardContent>
      </Card>
      {formError && <Alert>{formError}</Alert>}
      <div className="flex justify-end gap-2">
        <Link to="/schedules" className="inline-flex h-9 items-center rounded-md px-4 text-sm font-medium text-neutral-700 hover:bg-neutral-100">
          Cancel
        </Link>
        <Button type="submit" loading={save.isPending}>
          {schedule ? 'Save schedule' : 'Create schedule'}
        </Button>
      </div>
    </form>
  );
}

export default function ScheduleEdit() {
  const { id } = useParams();
  const [params] = useSearchParams();
  const { me } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const canEdit = hasRole(me, 'editor');
  const [deleting, setDeleting] = useState(false);
  const schedule = useQuery({
    queryKey: ['schedule', id ?? ''],
    queryFn: async () => unwrap(await api.GET('/v1/schedules/{scheduleId}', { params: { path: { scheduleId: id! } } })),
    enabled: !!id,
  });
  const del = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/schedules/{scheduleId}', { params: { path: { scheduleId: id! } } })),
    onSuccess: () => {
      toast({ title: 'Schedule deleted' });
      void qc.invalidateQueries({ queryKey: schedulesKey });
      navigate('/schedules');
    },
  });
  const back = (
    <Link to="/schedules" className="mb-4 inline-flex items-center gap-1 text-sm text-accent-700 hover:underline">
      <ArrowLeft className="size-4" aria-hidden="true" /> Schedules
    </Link>
  );
  if (!id) {
    return (
      <>
        {back}
        <PageHeader title="New schedule" />
        {canEdit ? <ScheduleForm initialWorkflow={params.get('workflow') ?? undefined} /> : <Alert tone="info">Only editors create schedules.</Alert>}
      </>
    );
  }
  if (schedule.isPending)
    return (
      <>
        {back}
        <Skeleton className="h-80" />
      </>
    );
  if (schedule.isError)
    return (
      <>
        {back}
        <ErrorState error={schedule.error} onRetry={() => schedule.refetch()} />
      </>
    );
  const s = schedule.data;
  return (
    <>
      {back}
      <PageHeader
        title={s.name || 'Schedule'}
        description={
          <>
            {describeCron(s.cron) ?? s.cron} · {s.timezone} <Badge tone={s.enabled ? 'success' : 'neutral'}>{s.enabled ? 'enabled' : 'paused'}</Badge>
          </>
        }
        actions={
          canEdit && s.source !== 'node' ? (
            <Button variant="secondary" onClick={() => setDeleting(true)}>
              <Trash2 aria-hidden="true" /> Delete
            </Button>
          ) : undefined
        }
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          {canEdit ? (
            <ScheduleForm key={s.updated_at as string} schedule={s} />
          ) : (
            <Card>
              <CardContent className="pt-5 text-sm">
                <p>
                  Runs <code>{s.cron}</code> in {s.timezone}. Viewers can read schedules; ask an editor to change this one.
                </p>
              </CardContent>
            </Card>
          )}
        </div>
        <UpcomingRuns schedule={s} />
      </div>
      {deleting && (
        <ConfirmDialog
          title="Delete this schedule?"
          description="It starts no more runs. Jobs it already started are kept."
          confirmLabel="Delete schedule"
          pending={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate()}
          onClose={() => {
            setDeleting(false);
            del.reset();
          }}
        />
      )}
    </>
  );
}
