// Settings → Connected accounts: one card per publishing platform (GET /v1/integrations/platforms), its accounts, connect
// (the platform's consent page, then back here through the API's callback), reconnect and disconnect.
import { useEffect, useState } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link2, Plug, RefreshCw, Unplug } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import type { Integration, PlatformInfo } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, ErrorState, Skeleton } from '@/components/ui';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime } from '@/lib/format';
import { connectResult, handleText, platformName, publishTone, statusText } from '../publishing/model';
import { PlatformMark } from '../publishing/parts';
import { pubKeys, useIntegrations, usePlatforms } from '../publishing/queries';

const RETURN_TO = '/settings/integrations';

function useConnect() {
  return useMutation({
    mutationFn: async (platform: string) =>
      unwrap(await api.POST('/v1/integrations/{platform}/connect', { params: { path: { platform } }, body: { return_to: RETURN_TO } })),
    onSuccess: (r) => {
      // Off to the platform's consent page; it sends the browser back to RETURN_TO through the API's callback.
      window.location.href = r.authorization_url;
    },
  });
}

function Avatar({ account }: { account: Integration['account'] }) {
  const [broken, setBroken] = useState(false);
  if (account.avatar_url && !broken)
    return <img src={account.avatar_url} alt="" onError={() => setBroken(true)} className="size-9 shrink-0 rounded-full bg-neutral-100 object-cover" />;
  return (
    <span aria-hidden="true" className="flex size-9 shrink-0 items-center justify-center rounded-full bg-neutral-200 text-sm font-semibold text-neutral-600">
      {account.name.charAt(0).toUpperCase()}
    </span>
  );
}

function AccountRow({ integration: i, canWrite, onDisconnect }: { integration: Integration; canWrite: boolean; onDisconnect: () => void }) {
  const connect = useConnect();
  const reconnect = i.status === 'reconnect_required';
  return (
    <li className="flex flex-col gap-2 py-3 sm:flex-row sm:items-center">
      <div className="flex min-w-0 flex-1 items-center gap-3">
        <Avatar account={i.account} />
        <div className="min-w-0">
          <p className="flex flex-wrap items-center gap-2 text-sm">
            <span className="font-medium">{i.account.name}</span>
            {i.account.handle && <span className="text-neutral-500">{handleText(i.account.handle)}</span>}
            <Badge tone={publishTone(i.status)}>{statusText(i.status)}</Badge>
          </p>
          {reconnect && i.status_reason && <p className="text-xs text-amber-800">{i.status_reason}</p>}
          <p className="text-xs text-neutral-500">Connected {formatDateTime(i.created_at)}</p>
        </div>
      </div>
      {canWrite && (
        <div className="flex shrink-0 gap-2 pl-12 sm:pl-0">
          {reconnect && (
            <Button size="sm" loading={connect.isPending} onClick={() => connect.mutate(i.platform)} aria-label={`Reconnect ${i.account.name}`}>
              <RefreshCw aria-hidden="true" /> Reconnect
            </Button>
          )}
          <Button size="sm" variant="secondary" onClick={onDisconnect} aria-label={`Disconnect ${i.account.name}`}>
            <Unplug aria-hidden="true" /> Disconnect
          </Button>
        </div>
      )}
      {connect.isError && <Alert className="mt-2">{errorMessage(connect.error)}</Alert>}
    </li>
  );
}

function PlatformCard({ platform: p, accounts, canWrite, onDisconnect }: { platform: PlatformInfo; accounts: Integration[]; canWrite: boolean; onDisconnect: (i: Integration) => void }) {
  const connect = useConnect();
  const name = platformName(p.platform);
  return (
    <Card role="region" aria-labelledby={`platform-${p.platform}`}>
      <CardHeader className="flex-row items-start gap-3 space-y-0">
        <PlatformMark platform={p.platform} className="size-10" />
        <div className="min-w-0 flex-1">
          <CardTitle id={`platform-${p.platform}`}>{name}</CardTitle>
          <CardDescription>
            {accounts.length === 0 ? 'No account connected' : `${accounts.length} account${accounts.length === 1 ? '' : 's'} connected`}
          </CardDescription>
        </div>
        {canWrite && (
          <Button
            size="sm"
            disabled={!p.configured}
            loading={connect.isPending}
            onClick={() => connect.mutate(p.platform)}
            aria-label={`Connect a ${name} account`}
            aria-describedby={!p.configured ? `missing-${p.platform}` : undefined}
          >
            <Plug aria-hidden="true" /> Connect
          </Button>
        )}
      </CardHeader>
      <CardContent className="space-y-2">
        {!p.configured && (
          <p id={`missing-${p.platform}`} className="text-xs text-neutral-500">
            Not configured on this deployment: set <code className="rounded bg-neutral-100 px-1">{p.missing_setting ?? 'its credentials'}</code>.
          </p>
        )}
        {connect.isError && <Alert>{errorMessage(connect.error)}</Alert>}
        {accounts.length > 0 && (
          <ul className="divide-y divide-neutral-100" aria-label={`${name} accounts`}>
            {accounts.map((i) => (
              <AccountRow key={i.id} integration={i} canWrite={canWrite} onDisconnect={() => onDisconnect(i)} />
            ))}
          </ul>
        )}
      </CardContent>
    </Card>
  );
}

export default function Integrations() {
  const { me } = useAuth();
  const canWrite = hasRole(me, 'editor');
  const qc = useQueryClient();
  const toast = useToast();
  const [search, setSearch] = useSearchParams();
  const [banner, setBanner] = useState<ReturnType<typeof connectResult>>(null);
  const [leaving, setLeaving] = useState<Integration | null>(null);
  const platforms = usePlatforms();
  const integrations = useIntegrations();

  // Back from the platform: say how it went once, then drop the query from the address.
  useEffect(() => {
    const result = connectResult(search);
    if (!result) return;
    setBanner(result);
    void qc.invalidateQueries({ queryKey: pubKeys.integrations });
    setSearch({}, { replace: true });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const disconnect = useMutation({
    mutationFn: async (id: string) => unwrap(await api.DELETE('/v1/integrations/{integrationId}', { params: { path: { integrationId: id } } })),
    onSuccess: (r) => {
      setLeaving(null);
      toast({
        title: `${r.integration.account.name} disconnected`,
        description: r.revoked_at_platform ? 'Access was revoked at the platform too.' : 'Its tokens are erased here; remove the app in the platform’s settings too.',
      });
      void qc.invalidateQueries({ queryKey: pubKeys.integrations });
    },
  });

  const list = integrations.data?.data ?? [];
  return (
    <div className="space-y-4">
      <div>
        <h2 className="text-lg font-semibold">Connected accounts</h2>
        <p className="text-sm text-neutral-500">Accounts on YouTube, TikTok and Instagram that finished videos can be published to.</p>
      </div>
      {banner && (
        <Alert tone={banner.tone} title={banner.title}>
          {banner.text}
        </Alert>
      )}
      {!canWrite && <Alert tone="info">Editors and above connect and disconnect accounts.</Alert>}
      {(platforms.isPending || integrations.isPending) && (
        <div className="grid gap-4" aria-busy="true">
          <Skeleton className="h-40" />
          <Skeleton className="h-40" />
          <Skeleton className="h-40" />
        </div>
      )}
      {platforms.isError && <ErrorState error={platforms.error} onRetry={() => platforms.refetch()} />}
      {integrations.isError && <ErrorState error={integrations.error} onRetry={() => integrations.refetch()} />}
      {platforms.data && integrations.data && (
        <div className="grid gap-4">
          {platforms.data.map((p) => (
            <PlatformCard key={p.platform} platform={p} accounts={list.filter((i) => i.platform === p.platform)} canWrite={canWrite} onDisconnect={setLeaving} />
          ))}
        </div>
      )}
      {platforms.data && integrations.data && list.length === 0 && (
        <p className="flex items-center gap-2 text-sm text-neutral-500">
          <Link2 className="size-4" aria-hidden="true" /> Connect an account, then publish from a finished video’s page.
        </p>
      )}
      {leaving && (
        <ConfirmDialog
          title={`Disconnect ${leaving.account.name}?`}
          description={`Videos can no longer be published to this ${platformName(leaving.platform)} account until it is connected again. Posts already made stay.`}
          confirmLabel="Disconnect"
          pending={disconnect.isPending}
          error={disconnect.error}
          onConfirm={() => disconnect.mutate(leaving.id)}
          onClose={() => {
            setLeaving(null);
            disconnect.reset();
          }}
        />
      )}
    </div>
  );
}
