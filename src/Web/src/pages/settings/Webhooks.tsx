import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { ChevronRight, Plus, Webhook as WebhookIcon } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, Skeleton } from '@/components/ui';
import { useToast } from '@/components/ui/toast';
import { timeAgo } from '@/lib/format';
import { ALL_EVENTS } from './model';
import { SecretDialog } from './SecretDialog';
import { WebhookFormDialog, webhooksKey } from './WebhookForm';

export default function Webhooks() {
  const { me } = useAuth();
  const isAdmin = hasRole(me, 'admin');
  if (!isAdmin)
    return (
      <Alert tone="info" title="Webhooks are managed by admins">
        Ask an admin or owner of {me?.org.name ?? 'this organization'} to add or change webhooks.
      </Alert>
    );
  return <WebhookList />;
}

function WebhookList() {
  const toast = useToast();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<string | null>(null);
  const hooks = useQuery({ queryKey: webhooksKey, queryFn: async () => unwrap(await api.GET('/v1/webhooks', { params: { query: { limit: '100' } } })) });
  const list = hooks.data?.data ?? [];
  const add = (
    <Button onClick={() => setCreating(true)}>
      <Plus aria-hidden="true" /> Add webhook
    </Button>
  );
  return (
    <Card>
      <CardHeader className="sm:flex-row sm:items-start sm:justify-between">
        <div>
          <CardTitle>Webhooks</CardTitle>
          <CardDescription>Get job and render events pushed to your server, signed with a secret.</CardDescription>
        </div>
        {list.length > 0 && add}
      </CardHeader>
      <CardContent>
        {hooks.isPending && (
          <div className="space-y-2">
            <Skeleton className="h-16" />
            <Skeleton className="h-16" />
          </div>
        )}
        {hooks.isError && <ErrorState error={hooks.error} onRetry={() => hooks.refetch()} />}
        {hooks.data && list.length === 0 && (
          <EmptyState title="No webhooks yet" icon={<WebhookIcon className="size-8" />} action={add}>
            Add an endpoint to hear when jobs finish instead of polling.
          </EmptyState>
        )}
        {list.length > 0 && (
          <ul className="divide-y divide-neutral-100" aria-label="Webhooks">
            {list.map((w) => (
              <li key={w.id}>
                <Link
                  to={`/settings/webhooks/${w.id}`}
                  className="flex items-center gap-3 rounded-md py-3 hover:bg-neutral-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500"
                >
                  <div className="min-w-0 flex-1 space-y-1">
                    <p className="flex flex-wrap items-center gap-2">
                      <span className="truncate font-mono text-sm">{w.url}</span>
                      <Badge tone={w.enabled ? 'success' : 'warning'}>{w.enabled ? 'enabled' : 'disabled'}</Badge>
                    </p>
                    {w.description && <p className="truncate text-sm text-neutral-600">{w.description}</p>}
                    <p className="text-xs text-neutral-500">
                      {w.events.includes(ALL_EVENTS) ? 'All events' : w.events.join(', ')} · updated {timeAgo(w.updated_at)}
                    </p>
                    {w.disabled_reason && <p className="text-xs text-amber-800">{w.disabled_reason}</p>}
                  </div>
                  <ChevronRight className="size-4 text-neutral-400" aria-hidden="true" />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </CardContent>
      {creating && (
        <WebhookFormDialog
          onClose={() => setCreating(false)}
          onSaved={(w, s) => {
            setCreating(false);
            toast({ title: 'Webhook added', description: w.url, tone: 'success' });
            if (s) setSecret(s);
          }}
        />
      )}
      {secret && <SecretDialog title="Your webhook's signing secret" secret={secret} what="the signing secret" onClose={() => setSecret(null)} />}
    </Card>
  );
}
