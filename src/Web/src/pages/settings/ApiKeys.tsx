import { useState } from 'react';
import { useForm } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { KeyRound, Plus, RefreshCw, Trash2 } from 'lucide-react';
import { api } from '@/api/client';
import { ApiError, applyProblemToForm, unwrap } from '@/api/problem';
import type { Schemas } from '@/api/types';
import { useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, EmptyState, ErrorState, FormField, Input, Select, Skeleton } from '@/components/ui';
import { Checkbox } from '@/components/ui/checkbox';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Dialog, DialogClose, DialogContent } from '@/components/ui/dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime, timeAgo } from '@/lib/format';
import { apiKeySchema, expiresAt, EXPIRIES, listFieldMap, SCOPES, type ApiKeyValues } from './model';
import { SecretDialog } from './SecretDialog';

type ApiKey = Schemas['ApiKeyDto'];
const keysKey = ['api-keys'] as const;

function CreateKeyDialog({ onCreated, onClose }: { onCreated: (secret: string) => void; onClose: () => void }) {
  const qc = useQueryClient();
  const form = useForm<ApiKeyValues>({ resolver: zodResolver(apiKeySchema), defaultValues: { name: '', scopes: ['workflows:read', 'jobs:execute'], expiresInDays: '' } });
  const [formError, setFormError] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: async (v: ApiKeyValues) =>
      unwrap(await api.POST('/v1/api-keys', { body: { name: v.name.trim(), scopes: v.scopes, expires_at: expiresAt(v.expiresInDays) } })),
    onSuccess: (created) => {
      void qc.invalidateQueries({ queryKey: keysKey });
      onCreated(created.key);
    },
    onError: (e) => {
      const map = listFieldMap(['scopes'] as const, e instanceof ApiError ? e.problem.errors : undefined);
      const { message } = applyProblemToForm(e, form.setError, ['name', 'scopes'], { ...map, expires_at: 'expiresInDays' });
      setFormError(message);
    },
  });
  const { errors } = form.formState;
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title="Create an API key" description="A key acts as you in this organization, limited to the scopes you pick.">
        <form
          noValidate
          className="space-y-4"
          onSubmit={form.handleSubmit((v) => {
            setFormError(null);
            create.mutate(v);
          })}
        >
          <FormField label="Name" hint="Where the key is used, e.g. “CI pipeline”" error={errors.name?.message}>
            <Input autoComplete="off" {...form.register('name')} />
          </FormField>
          <fieldset aria-describedby={errors.scopes ? 'scopes-error' : undefined}>
            <legend className="mb-2 text-sm font-medium text-neutral-800">Scopes</legend>
            <div className="space-y-2">
              {SCOPES.map((s) => (
                <Checkbox key={s.value} label={<code className="text-xs">{s.value}</code>} hint={s.hint} value={s.value} {...form.register('scopes')} />
              ))}
            </div>
            {errors.scopes && (
              <p id="scopes-error" role="alert" className="mt-1 text-xs font-medium text-red-600">
                {errors.scopes.message}
              </p>
            )}
          </fieldset>
          <FormField label="Expires" error={errors.expiresInDays?.message}>
            <Select {...form.register('expiresInDays')}>
              {EXPIRIES.map((e) => (
                <option key={e.value} value={e.value}>
                  {e.label}
                </option>
              ))}
            </Select>
          </FormField>
          {formError && <Alert>{formError}</Alert>}
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button variant="secondary">Cancel</Button>
            </DialogClose>
            <Button type="submit" loading={create.isPending}>
              Create key
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}

function KeyRow({ apiKey, mine, onSecret }: { apiKey: ApiKey; mine: boolean; onSecret: (title: string, secret: string) => void }) {
  const qc = useQueryClient();
  const toast = useToast();
  const [confirm, setConfirm] = useState<'roll' | 'revoke' | null>(null);
  const roll = useMutation({
    mutationFn: async () => unwrap(await api.POST('/v1/api-keys/{keyId}/roll', { params: { path: { keyId: apiKey.id } }, body: { expires_in: 0 } })),
    onSuccess: (rolled) => {
      setConfirm(null);
      void qc.invalidateQueries({ queryKey: keysKey });
      onSecret(`New secret for “${rolled.api_key.name}”`, rolled.key);
    },
  });
  const revoke = useMutation({
    mutationFn: async () => unwrap(await api.DELETE('/v1/api-keys/{keyId}', { params: { path: { keyId: apiKey.id } } })),
    onSuccess: () => {
      setConfirm(null);
      toast({ title: 'Key revoked', description: apiKey.name });
      void qc.invalidateQueries({ queryKey: keysKey });
    },
  });
  return (
    <li className="flex flex-col gap-3 py-4 sm:flex-row sm:items-start">
      <div className="min-w-0 flex-1 space-y-1">
        <p className="flex flex-wrap items-center gap-2 text-sm font-medium">
          {apiKey.name}
          <code className="rounded bg-neutral-100 px-1.5 py-0.5 text-xs text-neutral-700">{apiKey.prefix}…</code>
          {!mine && <Badge>another member's</Badge>}
        </p>
        <div className="flex flex-wrap gap-1" aria-label="Scopes">
          {apiKey.scopes.map((s) => (
            <Badge key={s} tone="accent">
              {s}
            </Badge>
          ))}
        </div>
        <p className="text-xs text-neutral-500">
          Created {formatDateTime(apiKey.created_at)} · last used {apiKey.last_used_at ? timeAgo(apiKey.last_used_at) : 'never'}
          {apiKey.expires_at ? ` · expires ${formatDateTime(apiKey.expires_at)}` : ''}
        </p>
      </div>
      <div className="flex gap-2">
        {mine && (
          <Button variant="secondary" size="sm" aria-label={`Roll ${apiKey.name}`} onClick={() => setConfirm('roll')}>
            <RefreshCw aria-hidden="true" /> Roll
          </Button>
        )}
        <Button variant="secondary" size="sm" aria-label={`Revoke ${apiKey.name}`} onClick={() => setConfirm('revoke')}>
          <Trash2 aria-hidden="true" /> Revoke
        </Button>
      </div>
      {confirm === 'roll' && (
        <ConfirmDialog
          title={`Roll “${apiKey.name}”?`}
          description="You get a new secret with the same name and scopes; the current secret stops working at once."
          confirmLabel="Roll key"
          tone="default"
          pending={roll.isPending}
          error={roll.error}
          onConfirm={() => roll.mutate()}
          onClose={() => {
            setConfirm(null);
            roll.reset();
          }}
        />
      )}
      {confirm === 'revoke' && (
        <ConfirmDialog
          title={`Revoke “${apiKey.name}”?`}
          description="Requests made with it fail from now on. This cannot be undone."
          confirmLabel="Revoke key"
          pending={revoke.isPending}
          error={revoke.error}
          onConfirm={() => revoke.mutate()}
          onClose={() => {
            setConfirm(null);
            revoke.reset();
          }}
        />
      )}
    </li>
  );
}

export default function ApiKeys() {
  const { me } = useAuth();
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ title: string; secret: string } | null>(null);
  const keys = useQuery({ queryKey: keysKey, queryFn: async () => unwrap(await api.GET('/v1/api-keys', { params: { query: { limit: '100' } } })) });
  const list = keys.data?.data ?? [];
  const canCreate = me?.user.email_verified !== false;
  const newKey = (
    <Button onClick={() => setCreating(true)} disabled={!canCreate}>
      <Plus aria-hidden="true" /> New API key
    </Button>
  );
  return (
    <Card>
      <CardHeader className="sm:flex-row sm:items-start sm:justify-between">
        <div>
          <CardTitle>API keys</CardTitle>
          <CardDescription>Call the API from your code: send the key as <code>Authorization: Bearer …</code>.</CardDescription>
        </div>
        {list.length > 0 && newKey}
      </CardHeader>
      <CardContent>
        {!canCreate && <Alert tone="warning" className="mb-3">Verify your email address before creating keys.</Alert>}
        {keys.isPending && (
          <div className="space-y-2">
            <Skeleton className="h-16" />
            <Skeleton className="h-16" />
          </div>
        )}
        {keys.isError && <ErrorState error={keys.error} onRetry={() => keys.refetch()} />}
        {keys.data && list.length === 0 && (
          <EmptyState title="No API keys yet" icon={<KeyRound className="size-8" />} action={newKey}>
            Create a key to start jobs, upload assets or read usage from your own code.
          </EmptyState>
        )}
        {list.length > 0 && (
          <ul className="divide-y divide-neutral-100" aria-label="API keys">
            {list.map((k) => (
              <KeyRow key={k.id} apiKey={k} mine={k.user_id === me?.user.id} onSecret={(title, s) => setSecret({ title, secret: s })} />
            ))}
          </ul>
        )}
      </CardContent>
      {creating && (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(s) => {
            setCreating(false);
            setSecret({ title: 'Your new API key', secret: s });
          }}
        />
      )}
      {secret && <SecretDialog title={secret.title} secret={secret.secret} what="the API key" onClose={() => setSecret(null)} />}
    </Card>
  );
}
