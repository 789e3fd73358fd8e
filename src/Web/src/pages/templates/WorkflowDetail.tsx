import { useMemo, useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ArrowLeft, CalendarClock, Play } from 'lucide-react';
import { api } from '@/api/client';
import { applyProblemToForm, errorMessage, unwrap } from '@/api/problem';
import { num } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, buttonVariants, Card, CardContent, CardDescription, CardHeader, CardTitle, ErrorState, FormField, Input, PageHeader, Skeleton } from '@/components/ui';
import { formatDateTime, formatNumber, formatUsd, humanize, statusTone, timeAgo } from '@/lib/format';
import { workflowKeys, useWorkflow, type Workflow } from './queries';
import { initialValues, toVariables, variableFields, variablesFieldMap, type VarValue } from './variables';
import { VariablesFields } from './VariablesFields';
import { useDebounced } from '@/lib/useDebounced';

type RunValues = { vars: VarValue[]; maxCostUsd: string };


function RunCard({ workflow }: { workflow: Workflow }) {
  const navigate = useNavigate();
  const fields = useMemo(() => variableFields(workflow.variables, workflow.graph), [workflow]);
  const form = useForm<RunValues>({ defaultValues: { vars: initialValues(fields), maxCostUsd: '' } });
  const [formError, setFormError] = useState<string | null>(null);
  const values = useWatch({ control: form.control, name: 'vars' });
  const { variables, errors: varErrors } = toVariables(fields, values ?? []);
  const ready = Object.keys(varErrors).length === 0;
  const debounced = useDebounced(JSON.stringify(variables), 500);
  const estimate = useQuery({
    queryKey: ['workflow', workflow.id, 'estimate', debounced],
    queryFn: async () =>
      unwrap(await api.POST('/v1/workflows/{workflowId}/estimate', { params: { path: { workflowId: workflow.id } }, body: { variables: JSON.parse(debounced) } })),
    enabled: ready,
    placeholderData: keepPreviousData,
  });
  const run = useMutation({
    mutationFn: async (v: RunValues) => {
      const out = toVariables(fields, v.vars);
      const max = v.maxCostUsd.trim() ? Number(v.maxCostUsd) : null;
      return unwrap(
        await api.POST('/v1/workflows/{workflowId}/run', {
          params: { path: { workflowId: workflow.id } },
          body: { variables: out.variables, budget: max === null ? null : { max_cost_usd: max, max_tokens: null } },
        }),
      );
    },
    onSuccess: (job) => navigate(`/jobs/${job.id}`),
    onError: (e) => {
      const { message } = applyProblemToForm(e, form.setError, ['maxCostUsd'], { ...variablesFieldMap(fields), 'budget.max_cost_usd': 'maxCostUsd', max_cost_usd: 'maxCostUsd' });
      setFormError(message);
    },
  });
  const submit = form.handleSubmit((v) => {
    setFormError(null);
    const out = toVariables(fields, v.vars);
    let ok = true;
    for (const [i, message] of Object.entries(out.errors)) {
      form.setError(`vars.${Number(i)}`, { type: 'validate', message });
      ok = false;
    }
    if (v.maxCostUsd.trim() && !(Number(v.maxCostUsd) > 0)) {
      form.setError('maxCostUsd', { type: 'validate', message: 'Enter an amount in dollars, or leave it empty' });
      ok = false;
    }
    if (ok) run.mutate(v);
  });
  const total = estimate.data?.total;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Run</CardTitle>
        <CardDescription>Values you leave as they are use the workflow's defaults.</CardDescription>
      </CardHeader>
      <CardContent>
        <form noValidate onSubmit={submit} className="space-y-4" aria-label="Run this workflow">
          <VariablesFields fields={fields} register={form.register} errors={form.formState.errors.vars as never} />
          <FormField label="Budget (USD)" hint="Optional: the run is refused if its estimate is above this" error={form.formState.errors.maxCostUsd?.message} className="max-w-56">
            <Input inputMode="decimal" placeholder="No limit" {...form.register('maxCostUsd')} />
          </FormField>
          <div className="rounded-lg border border-neutral-200 bg-neutral-50 p-3 text-sm" aria-live="polite">
            <p className="font-medium">Estimate</p>
            {!ready && <p className="text-neutral-500">Fill in the required variables to see the estimate.</p>}
            {ready && estimate.isPending && <Skeleton className="mt-1 h-5 w-48" />}
            {ready && estimate.isError && <p className="text-red-700">{errorMessage(estimate.error)}</p>}
            {ready && total && (
              <>
                <p className="mt-1">
                  <span className="text-lg font-semibold">{formatUsd(num(total.cost_usd))}</span>
                  <span className="text-neutral-500">
                    {' '}
                    · {formatNumber(num(total.tokens), 0)} tokens · {formatNumber(num(total.kai_credits), 0)} credits · {formatNumber(num(total.render_seconds), 0)} s of render
                  </span>
                </p>
                {estimate.data!.assumptions.length > 0 && (
                  <details className="mt-1 text-xs text-neutral-500">
                    <summary className="cursor-pointer">How this is estimated</summary>
                    <p className="mt-1">{estimate.data!.assumptions.join(' ')}</p>
                  </details>
                )}
              </>
            )}
          </div>
          {formError && <Alert>{formError}</Alert>}
          <Button type="submit" loading={run.isPending}>
            <Play aria-hidden="true" /> Run workflow
          </Button>
        </form>
      </CardContent>
    </Card>
  );
}

function Versions({ workflowId }: { workflowId: string }) {
  const versions = useQuery({
    queryKey: workflowKeys.versions(workflowId),
    queryFn: async () => unwrap(await api.GET('/v1/workflows/{workflowId}/versions', { params: { path: { workflowId }, query: { limit: '50' } } })),
  });
  const list = versions.data?.data ?? [];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Versions</CardTitle>
      </CardHeader>
      <CardContent>
        {versions.isPending && <Skeleton className="h-16" />}
        {versions.isError && <ErrorState error={versions.error} onRetry={() => versions.refetch()} />}
        {versions.data && list.length === 0 && <p className="text-sm text-neutral-500">No saved versions.</p>}
        {list.length > 0 && (
          <ol className="divide-y divide-neutral-100 text-sm" aria-label="Versions">
            {list.map((v) => (
              <li key={v.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 py-2">
                <Badge tone="accent">v{num(v.version)}</Badge>
                <span className="min-w-0 flex-1 truncate">{v.name}</span>
                <span className="text-xs text-neutral-500">
                  {v.graph.nodes.length} nodes · {formatDateTime(v.created_at)}
                </span>
              </li>
            ))}
          </ol>
        )}
      </CardContent>
    </Card>
  );
}

function paramSummary(params: Record<string, unknown> | null | undefined): string {
  if (!params) return '';
  return Object.entries(params)
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' · ')
    .slice(0, 160);
}

export default function WorkflowDetail() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const workflow = useWorkflow(id);
  const back = (
    <Link to="/templates?tab=workflows" className="mb-4 inline-flex items-center gap-1 text-sm text-accent-700 hover:underline">
      <ArrowLeft className="size-4" aria-hidden="true" /> Workflows
    </Link>
  );
  if (workflow.isPending)
    return (
      <>
        {back}
        <Skeleton className="h-64" />
      </>
    );
  if (workflow.isError)
    return (
      <>
        {back}
        <ErrorState error={workflow.error} onRetry={() => workflow.refetch()} />
      </>
    );
  const w = workflow.data!;
  const canRun = hasRole(me, 'editor');
  return (
    <>
      {back}
      <PageHeader
        title={w.name}
        description={
          <>
            {w.description && <span className="block">{w.description}</span>}
            <span>
              v{num(w.version)} · {num(w.run_count)} runs{w.last_run_at ? `, last ${timeAgo(w.last_run_at)}` : ''} · updated {formatDateTime(w.updated_at)}
            </span>
          </>
        }
        actions={
          <>
            <Badge tone={statusTone(w.status === 'active' ? 'completed' : w.status)} className="self-center">
              {w.status}
            </Badge>
            {canRun && (
              <Link to={`/schedules/new?workflow=${encodeURIComponent(w.id)}`} className={buttonVariants({ variant: 'secondary' })}>
                <CalendarClock aria-hidden="true" /> Schedule
              </Link>
            )}
          </>
        }
      />
      <div className="grid gap-6 lg:grid-cols-5">
        <div className="space-y-6 lg:col-span-3">
          {canRun ? <RunCard workflow={w} /> : <Alert tone="info">Viewers can read workflows; ask an editor to run this one.</Alert>}
          <Versions workflowId={w.id} />
        </div>
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Graph</CardTitle>
            <CardDescription>
              {w.graph.nodes.length} nodes, {w.graph.edges.length} connections. The visual editor comes later.
            </CardDescription>
          </CardHeader>
          <CardContent>
            <ol className="space-y-2 text-sm" aria-label="Nodes">
              {w.graph.nodes.map((n) => {
                const into = w.graph.edges.filter((e) => e.to === n.id).map((e) => e.from);
                return (
                  <li key={n.id} className="rounded-lg border border-neutral-200 p-2">
                    <div className="flex flex-wrap items-center gap-2">
                      <code className="text-xs font-semibold">{n.id}</code>
                      <Badge>{humanize(n.type)}</Badge>
                    </div>
                    {into.length > 0 && <p className="mt-1 text-xs text-neutral-500">after {into.join(', ')}</p>}
                    {n.params && Object.keys(n.params).length > 0 && <p className="mt-1 break-words text-xs text-neutral-600">{paramSummary(n.params as Record<string, unknown>)}</p>}
                  </li>
                );
              })}
            </ol>
          </CardContent>
        </Card>
      </div>
    </>
  );
}
