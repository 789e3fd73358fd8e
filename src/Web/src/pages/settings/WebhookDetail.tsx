import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from 'react-router';
import { ArrowLeft, Inbox, Pencil, RefreshCw, RotateCcw, Send, ShieldCheck, Trash2 } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { num, type Schemas } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, FormField, Select, Skeleton } from '@/components/ui';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime, statusTone, timeAgo } from '@/lib/format';
import { ALL_EVENTS, formatElapsed, prettyJson } from './model';
import { SecretDialog } from './SecretDialog';
import { WebhookFormDialog, webhooksKey } from './WebhookForm';

type Delivery = Schemas['WebhookDeliveryDto'];

function deliveryTone(status: string) {
  if (status === 'success' || status === 'delivered') return 'success' as const;
  if (status === 'pending' || status === 'retrying') return 'warning' as const;
  return statusTone(status);
}

function DeliveryItem({ webhookId, delivery }: { webhookId: string; delivery: Delivery }) {
  const qc = useQueryClient();
  const toast = useToast();
  const redeliver = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/webhooks/{webhookId}/deliveries/{deliveryId}/redeliver', { params: { path: { webhookId, deliveryId: delivery.id } } }),
      ),
    onSuccess: () => {
      toast({ title: 'Redelivery queued', description: delivery.event });
      void qc.invalidateQueries({ queryKey: ['webhook', webhookId, 'deliveries'] });
    },
    onError: (e) => toast({ title: 'Could not redeliver', description: errorMessage(e), tone: 'error' }),
  });
  const code = delivery.http_status == null ? null : num(delivery.http_status);
  return (
    <li className="py-2">
      <details className="group rounded-lg border border-neutral-200 bg-white open:shadow-sm">
        <summary className="flex cursor-pointer list-none flex-wrap items-center gap-x-3 gap-y-1 rounded-lg px-3 py-2 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500">
          <Badge tone={deliveryTone(delivery.status)}>{delivery.status}</Badge>
          <code className="text-sm">{delivery.event}</code>
          <span className="text-xs text-neutral-500">{code === null ? 'no response' : `HTTP ${code}`}</span>
          <span className="text-xs text-neutral-500">
            {num(delivery.attempts)} attempt{num(delivery.attempts) === 1 ? '' : 's'}
          </span>
          <span className="ml-auto text-xs text-neutral-500">{timeAgo(delivery.created_at)}</span>
        </summary>
        <div className="space-y-3 border-t border-neutral-100 p-3 text-sm">
          <dl className="grid grid-cols-2 gap-2 sm:grid-cols-4">
            <div>
              <dt className="text-xs text-neutral-500">Created</dt>
              <dd>{formatDateTime(delivery.created_at)}</dd>
            </div>
            <div>
              <dt className="text-xs text-neutral-500">Last attempt</dt>
              <dd>{formatDateTime(delivery.last_attempt_at)}</dd>
            </div>
            <div>
              <dt className="text-xs text-neutral-500">Created → last attempt</dt>
              <dd>{formatElapsed(delivery.created_at, delivery.last_attempt_at)}</dd>
            </div>
            <div>
              <dt className="text-xs text-neutral-500">Next retry</dt>
              <dd>{delivery.next_retry_at ? formatDateTime(delivery.next_retry_at) : '–'}</dd>
            </div>
          </dl>
          {delivery.error && <Alert tone="warning">{delivery.error}</Alert>}
          <div>
            <p className="mb-1 text-xs font-medium text-neutral-600">Payload</p>
            <pre className="max-h-72 overflow-auto rounded-md bg-neutral-900 p-3 text-xs text-neutral-100" tabIndex={0} aria-label={`Payload of ${delivery.event}`}>
              {prettyJson(delivery.payload)}
            </pre>
          </div>
          {delivery.response_body && (
            <div>
              <p className="mb-1 text-xs font-medium text-neutral-600">Response body</p>
              <pre className="max-h-40 overflow-auto rounded-md bg-neutral-100 p-3 text-xs" tabIndex={0} aria-label={`Response to ${delivery.event}`}>
                {prettyJson(delivery.response_body)}
              </pre>
            </div>
          )}
          <div className="flex justify-end">
            <Button variant="secondary" size="sm" loading={redeliver.isPending} onClick={() => redeliver.mutate()} aria-label={`Redeliver ${delivery.event} (${delivery.id})`}>
              <RotateCcw aria-hidden="true" /> Redeliver
            </Button>
          </div>
        </div>
      </details>
    </li>
  );
}

function Deliveries({ webhookId }: { webhookId: string }) {
  const [status, setStatus] = useState('');
  const deliveries = useQuery({
    queryKey: ['webhook', webhookId, 'deliveries', status],
    queryFn: async () =>
      unwrap(await api.GET('/v1/webhooks/{webhookId}/deliveries', { params: { path: { webhookId }, query: { limit: '50', ...(status ? { status } : {}) } } })),
    refetchInterval: (q) => (q.state.data?.data.some((d) => d.status === 'pending') ? 3000 : false),
  });
  const list = deliveries.data?.data ?? [];
  return (
    <Card>
      <CardHeader className="sm:flex-row sm:items-end sm:justify-between">
        <div>
          <CardTitle>Deliveries</CardTitle>
          <CardDescription>Every event sent to this endpoint, newest first. Open one to see its payload.</CardDescription>
        </div>
        <div className="flex items-end gap-2">
          <FormField label="Status" className="w-36">
            <Select value={status} onChange={(e) => setStatus(e.target.value)}>
              <option value="">All</option>
              <option value="pending">Pending</option>
              <option value="success">Succeeded</option>
              <option value="failed">Failed</option>
            </Select>
          </FormField>
          <Button variant="secondary" size="icon" aria-label="Refresh deliveries" onClick={() => deliveries.refetch()}>
            <RefreshCw className={deliveries.isFetching ? 'animate-spin' : undefined} aria-hidden="true" />
          </Button>
        </div>
      </CardHeader>
      <CardContent>
        {deliveries.isPending && (
          <div className="space-y-2">
            <Skeleton className="h-10" />
            <Skeleton className="h-10" />
          </div>
        )}
        {deliveries.isError && <ErrorState error={deliveries.error} onRetry={() => deliveries.refetch()} />}
        {deliveries.data && list.length === 0 && (
          <EmptyState title="No deliveries yet" icon={<Inbox className="size-8" />}>
            Send a ping to check that your endpoint answers.
          </EmptyState>
        )}
        {list.length > 0 && (
          <ul aria-label="Deliveries">
            {list.map((d) => (
              <DeliveryItem key={d.id} webhookId={webhookId} delivery={d} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

export default function WebhookDetail() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  const [dialog, setDialog] = useState<'edit' | 'delete' | 'rotate' | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const hook = useQuery({
    queryKey: ['webhook', id],
    queryFn: async () => unwrap(await api.GET('/v1/webhooks/{webhookId}', { params: { path: { webhookId: id } } })),
    enabled: hasRole(me, 'admin'),
  });
  const ping = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/webhooks/{webhookId}/ping', { params: { path: { webhookId: id } } })),
    onSuccess: () => {
      toast({ title: 'Ping sent', description: 'It shows in the deliveries below.' });
      void qc.invalidateQueries({ queryKey: ['webhook', id, 'deliveries'] });
    },
    onError: (e) => toast({ title: 'Could not ping', description: errorMessage(e), tone: 'error' }),
  });
  const rotate = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/webhooks/{webhookId}/rotate-secret', { params: { path: { webhookId: id } } })),
    onSuccess: (r) => {
      setDialog(null);
      setSecret(r.secret);
    },
  });
  const del = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/webhooks/{webhookId}', { params: { path: { webhookId: id } } })),
    onSuccess: () => {
      toast({ title: 'Webhook deleted', description: hook.data?.url });
      void qc.invalidateQueries({ queryKey: webhooksKey });
      navigate('/settings/webhooks');
    },
  });

  const back = (
    <Link to="/settings/webhooks" className="mb-4 inline-flex items-center gap-1 text-sm text-accent-700 hover:underline">
      <ArrowLeft className="size-4" aria-hidden="true" /> All webhooks
    </Link>
  );
  if (!hasRole(me, 'admin')) return <Alert tone="info">Webhooks are managed by admins.</Alert>;
  if (hook.isPending)
    return (
      <>
        {back}
        <Skeleton className="h-32" />
      </>
    );
  if (hook.isError)
    return (
      <>
        {back}
        <ErrorState error={hook.error} onRetry={() => hook.refetch()} />
      </>
    );
  const w = hook.data;
  return (
    <div className="space-y-6">
      <div>{back}</div>
      <Card>
        <CardHeader className="gap-3 lg:flex-row lg:items-start lg:justify-between">
          <div className="min-w-0 space-y-1">
            <CardTitle className="break-all font-mono text-sm sm:text-base">{w.url}</CardTitle>
            {w.description && <CardDescription>{w.description}</CardDescription>}
            <div className="flex flex-wrap items-center gap-1">
              <Badge tone={w.enabled ? 'success' : 'warning'}>{w.enabled ? 'enabled' : 'disabled'}</Badge>
              {(w.events.includes(ALL_EVENTS) ? ['all events'] : w.events).map((e) => (
                <Badge key={e} tone="accent">
                  {e}
                </Badge>
              ))}
            </div>
            {w.disabled_reason && <p className="text-xs text-amber-800">{w.disabled_reason}</p>}
          </div>
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" size="sm" loading={ping.isPending} onClick={() => ping.mutate()}>
              <Send aria-hidden="true" /> Ping
            </Button>
            <Button variant="secondary" size="sm" onClick={() => setDialog('edit')}>
              <Pencil aria-hidden="true" /> Edit
            </Button>
            <Button variant="secondary" size="sm" onClick={() => setDialog('rotate')}>
              <ShieldCheck aria-hidden="true" /> Rotate secret
            </Button>
            <Button variant="secondary" size="sm" onClick={() => setDialog('delete')}>
              <Trash2 aria-hidden="true" /> Delete
            </Button>
          </div>
        </CardHeader>
      </Card>
      <Deliveries webhookId={id} />
      {dialog === 'edit' && (
        <WebhookFormDialog
          webhook={w}
          onClose={() => setDialog(null)}
          onSaved={(saved) => {
            setDialog(null);
            qc.setQueryData(['webhook', id], saved);
            toast({ title: 'Webhook saved', tone: 'success' });
          }}
        />
      )}
      {dialog === 'rotate' && (
        <ConfirmDialog
          title="Rotate the signing secret?"
          description="A new secret signs deliveries from now on; update your receiver with it."
          confirmLabel="Rotate secret"
          tone="default"
          pending={rotate.isPending}
          error={rotate.error}
          onConfirm={() => rotate.mutate()}
          onClose={() => {
            setDialog(null);
            rotate.reset();
          }}
        />
      )}
      {dialog === 'delete' && (
        <ConfirmDialog
          title="Delete this webhook?"
          description={`${w.url} stops receiving events, and its delivery log is gone.`}
          confirmLabel="Delete webhook"
          pending={del.isPending}
          error={del.error}
          onConfirm={() => del.mutate()}
          onClose={() => {
            setDialog(null);
            del.reset();
          }}
        />
      )}
      {secret && <SecretDialog title="New signing secret" secret={secret} what="the signing secret" onClose={() => setSecret(null)} />}
    </div>
  );
}
