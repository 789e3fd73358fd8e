// Usage and billing: usage by day and resource (charts), quota, plan, Stripe Checkout and portal, invoices.
import { lazy, Suspense, useMemo, useState } from 'react';
import { Route, Routes, useSearchParams } from 'react-router';
import { useMutation, useQuery } from '@tanstack/react-query';
import { CreditCard, ExternalLink, FileText, Sparkles } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { useQuota } from '@/api/queries';
import { num, numOrNull, type QuotaLine } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, FormField, PageHeader, Select, Skeleton, StackedBar } from '@/components/ui';
import { cn } from '@/lib/cn';
import { formatDateTime, formatUsd, humanize } from '@/lib/format';
import { fillDays, formatQuota, RANGES, rangeOf, RESOURCES, type Resource } from './usage';

const UsageChart = lazy(() => import('./UsageChart'));

function PlanCard() {
  const { me } = useAuth();
  const isAdmin = hasRole(me, 'admin');
  const [params] = useSearchParams();
  const billing = useQuery({ queryKey: ['billing'], queryFn: async () => unwrap(await api.GET('/v1/billing')) });
  const here = `${window.location.origin}/billing`;
  const checkout = useMutation({
    mutationFn: async (plan: string) =>
      unwrap(await api.POST('/v1/billing/checkout', { body: { plan, success_url: `${here}?checkout=success`, cancel_url: `${here}?checkout=cancelled` } })),
    onSuccess: (s) => window.location.assign(s.url),
  });
  const portal = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/billing/portal', { body: { return_url: here } })),
    onSuccess: (s) => window.location.assign(s.url),
  });
  const b = billing.data;
  const outcome = params.get('checkout');
  return (
    <Card>
      <CardHeader>
        <CardTitle>Plan</CardTitle>
        <CardDescription>Your subscription, paid through Stripe.</CardDescription>
      </CardHeader>
      <CardContent className="space-y-4">
        {outcome === 'success' && <Alert tone="success">Thanks! Your plan changes as soon as Stripe confirms the payment.</Alert>}
        {outcome === 'cancelled' && <Alert tone="info">Checkout was cancelled; nothing changed.</Alert>}
        {billing.isPending && <Skeleton className="h-20" />}
        {billing.isError && <ErrorState error={billing.error} onRetry={() => billing.refetch()} />}
        {b && (
          <>
            <div className="flex flex-wrap items-baseline gap-x-3 gap-y-1">
              <p className="text-2xl font-semibold capitalize">{b.plan}</p>
              {b.subscription_status && <Badge tone={b.subscription_status === 'active' ? 'success' : 'warning'}>{b.subscription_status}</Badge>}
            </div>
            {b.current_period_end != null && (
              <p className="text-sm text-neutral-600">
                {b.cancel_at_period_end ? 'Ends' : 'Renews'} {formatDateTime(b.current_period_end)}
              </p>
            )}
            {!b.stripe_configured && <Alert tone="info">Online payments are not set up on this server, so plans cannot be bought here.</Alert>}
            {isAdmin ? (
              <div className="flex flex-wrap gap-2">
                {b.plans_for_sale
                  .filter((p) => p !== b.plan)
                  .map((p) => (
                    <Button key={p} loading={checkout.isPending && checkout.variables === p} disabled={checkout.isPending} onClick={() => checkout.mutate(p)}>
                      <Sparkles aria-hidden="true" /> Upgrade to {humanize(p)}
                    </Button>
                  ))}
                <Button variant="secondary" loading={portal.isPending} onClick={() => portal.mutate()}>
                  <CreditCard aria-hidden="true" /> Manage billing
                </Button>
              </div>
            ) : (
              <p className="text-sm text-neutral-500">Admins and owners change the plan.</p>
            )}
            {checkout.isError && <Alert title="Checkout could not start">{errorMessage(checkout.error)}</Alert>}
            {portal.isError && <Alert title="The billing portal could not open">{errorMessage(portal.error)}</Alert>}
          </>
        )}
      </CardContent>
    </Card>
  );
}

function QuotaRow({ line }: { line: QuotaLine }) {
  const used = num(line.used);
  const reserved = num(line.reserved);
  const limit = numOrNull(line.limit);
  const remaining = numOrNull(line.remaining);
  const name = humanize(line.resource);
  return (
    <li className="space-y-1.5">
      <div className="flex flex-wrap justify-between gap-x-2 text-sm">
        <span className="font-medium">{name}</span>
        <span className="text-xs text-neutral-500">
          {limit === null ? `${formatQuota(line.resource, used)} used · unlimited` : `${formatQuota(line.resource, used)} of ${formatQuota(line.resource, limit)}`}
        </span>
      </div>
      {limit !== null ? (
        <StackedBar
          label={name}
          segments={[
            { value: used, className: 'bg-accent-600', label: `${formatQuota(line.resource, used)} used` },
            { value: reserved, className: 'bg-amber-400', label: `${formatQuota(line.resource, reserved)} reserved` },
            { value: Math.max(0, remaining ?? limit - used - reserved), className: 'bg-transparent', label: `${formatQuota(line.resource, Math.max(0, remaining ?? 0))} remaining` },
          ]}
        />
      ) : (
        <div className="h-2.5 rounded-full bg-neutral-100" aria-hidden="true" />
      )}
      <p className="text-xs text-neutral-500">
        {reserved > 0 && `${formatQuota(line.resource, reserved)} reserved by running jobs · `}
        {remaining !== null && `${formatQuota(line.resource, Math.max(0, remaining))} remaining`}
        {num(line.overage) > 0 && ` · ${formatQuota(line.resource, num(line.overage))} over`}
      </p>
    </li>
  );
}

function QuotaCard() {
  const quota = useQuota();
  const q = quota.data;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Quota</CardTitle>
        <CardDescription>{q ? `This period's allowances; they reset ${formatDateTime(q.resets_at)}.` : 'This period’s allowances.'}</CardDescription>
      </CardHeader>
      <CardContent>
        {quota.isPending && <Skeleton className="h-32" />}
        {quota.isError && <ErrorState error={quota.error} onRetry={() => quota.refetch()} />}
        {q && (
          <>
            <ul className="space-y-4" aria-label="Quota">
              {q.resources.map((l) => (
                <QuotaRow key={l.resource} line={l} />
              ))}
            </ul>
            <div className="mt-4 flex flex-wrap gap-3 text-xs text-neutral-500">
              <span className="inline-flex items-center gap-1">
                <span className="size-2 rounded-full bg-accent-600" aria-hidden="true" /> used
              </span>
              <span className="inline-flex items-center gap-1">
                <span className="size-2 rounded-full bg-amber-400" aria-hidden="true" /> reserved
              </span>
              <span>{q.blocks_at_limit ? 'Jobs are refused at the limit.' : 'Usage above the limit is billed as overage.'}</span>
            </div>
          </>
        )}
      </CardContent>
    </Card>
  );
}

function UsageCard() {
  const [range, setRange] = useState('month');
  const [resource, setResource] = useState<Resource>('cost_usd');
  const query = rangeOf(range);
  const usage = useQuery({
    queryKey: ['usage', query],
    queryFn: async () => unwrap(await api.GET('/v1/usage', { params: { query } })),
  });
  const u = usage.data;
  const data = useMemo(() => (u ? fillDays(u.from, u.to, u.days) : []), [u]);
  return (
    <Card>
      <CardHeader className="gap-3 sm:flex-row sm:items-end sm:justify-between">
        <div>
          <CardTitle>Usage</CardTitle>
          <CardDescription>{u ? `${u.from} to ${u.to} (UTC)` : 'By day and resource.'}</CardDescription>
        </div>
        <FormField label="Range" className="w-44">
          <Select value={range} onChange={(e) => setRange(e.target.value)}>
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </Select>
        </FormField>
      </CardHeader>
      <CardContent className="space-y-4">
        {usage.isError && <ErrorState error={usage.error} onRetry={() => usage.refetch()} />}
        <div role="radiogroup" aria-label="Resource" className="grid grid-cols-2 gap-2 lg:grid-cols-4">
          {RESOURCES.map((r) => {
            const total = u ? num(u.totals[r.key]) : null;
            const active = r.key === resource;
            return (
              <button
                key={r.key}
                type="button"
                role="radio"
                aria-checked={active}
                onClick={() => setResource(r.key)}
                className={cn(
                  'rounded-lg border p-3 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
                  active ? 'border-accent-600 bg-accent-50' : 'border-neutral-200 bg-white hover:border-neutral-300',
                )}
              >
                <span className="block text-xs text-neutral-600">{r.label}</span>
                <span className="block text-lg font-semibold">{total === null ? '–' : r.format(total)}</span>
              </button>
            );
          })}
        </div>
        {usage.isPending && <Skeleton className="h-64" />}
        {u && (
          <Suspense fallback={<Skeleton className="h-64" />}>
            <UsageChart data={data} resource={resource} />
          </Suspense>
        )}
        {u && u.days.length === 0 && <p className="text-sm text-neutral-500">No usage in this range yet.</p>}
        {u && <p className="text-xs text-neutral-500">Storage in use now: {formatQuota('storage_bytes', num(u.storage_bytes))}</p>}
      </CardContent>
    </Card>
  );
}

function InvoicesCard() {
  const invoices = useQuery({
    queryKey: ['billing', 'invoices'],
    queryFn: async () => unwrap(await api.GET('/v1/billing/invoices', { params: { query: { limit: '24' } } })),
  });
  const list = invoices.data?.data ?? [];
  return (
    <Card>
      <CardHeader>
        <CardTitle>Invoices</CardTitle>
      </CardHeader>
      <CardContent>
        {invoices.isPending && <Skeleton className="h-24" />}
        {invoices.isError && <ErrorState error={invoices.error} onRetry={() => invoices.refetch()} />}
        {invoices.data && list.length === 0 && (
          <EmptyState title="No invoices yet" icon={<FileText className="size-8" />}>
            Invoices appear here once you are on a paid plan.
          </EmptyState>
        )}
        {list.length > 0 && (
          <div className="overflow-x-auto">
            <table className="w-full text-left text-sm">
              <caption className="sr-only">Invoices</caption>
              <thead className="text-xs text-neutral-500">
                <tr>
                  <th scope="col" className="py-2 pr-3 font-medium">Period</th>
                  <th scope="col" className="py-2 pr-3 font-medium">Amount</th>
                  <th scope="col" className="py-2 pr-3 font-medium">Status</th>
                  <th scope="col" className="py-2 font-medium"><span className="sr-only">Link</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-neutral-100">
                {list.map((inv) => (
                  <tr key={inv.id}>
                    <td className="py-2 pr-3 whitespace-nowrap">
                      {inv.period_start} – {inv.period_end}
                    </td>
                    <td className="py-2 pr-3">{formatUsd(num(inv.amount_usd), 2)}</td>
                    <td className="py-2 pr-3">
                      <Badge tone={inv.status === 'paid' ? 'success' : inv.status === 'open' ? 'warning' : 'neutral'}>{inv.status}</Badge>
                    </td>
                    <td className="py-2 text-right">
                      {inv.hosted_invoice_url && (
                        <a href={inv.hosted_invoice_url} target="_blank" rel="noreferrer" className="inline-flex items-center gap-1 text-accent-700 hover:underline">
                          View<span className="sr-only"> the invoice for {inv.period_start}</span> <ExternalLink className="size-3" aria-hidden="true" />
                        </a>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </CardContent>
    </Card>
  );
}

function BillingPage() {
  return (
    <>
      <PageHeader title="Usage and billing" description="What your organization used, what is left this period, and your plan." />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="space-y-6 lg:col-span-2">
          <UsageCard />
          <InvoicesCard />
        </div>
        <div className="space-y-6">
          <PlanCard />
          <QuotaCard />
        </div>
      </div>
    </>
  );
}

export default function BillingRoutes() {
  return (
    <Routes>
      <Route index element={<BillingPage />} />
      <Route path="*" element={<BillingPage />} />
    </Routes>
  );
}
