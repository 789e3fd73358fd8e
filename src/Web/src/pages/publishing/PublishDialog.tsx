// The job page's "Publish" dialog: pick connected accounts, a shared title, description and hashtags ("Write with AI"
// fills each platform's own), each account's options as the platform allows them now (GET /v1/integrations/{id}/options),
// the AI disclosure; POST /v1/jobs/{jobId}/publish, with the API's field errors drawn next to their fields.
import { useMemo, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useMutation, useQueries, useQueryClient } from '@tanstack/react-query';
import { Send, Sparkles } from 'lucide-react';
import { api } from '@/api/client';
import { ApiError, errorMessage, fieldErrors, unwrap } from '@/api/problem';
import { num, type Enrichment, type Integration } from '@/api/types';
import { Alert, Button, FormField, Input, Skeleton, Textarea } from '@/components/ui';
import { Select } from '@/components/ui/input';
import { Checkbox } from '@/components/ui/checkbox';
import { Dialog, DialogContent } from '@/components/ui/dialog';
import { useToast } from '@/components/ui/toast';
import { formatDateTime } from '@/lib/format';
import {
  accountFields,
  formatHashtags,
  handleText,
  MODE_LABELS,
  placeErrors,
  platformName,
  privacyLabel,
  publishBody,
  sortAccounts,
  type AccountFields,
  type PlacedErrors,
  type TargetValues,
} from './model';
import { PlatformMark } from './parts';
import { pubKeys, useIntegrations } from './queries';

type Overrides = Omit<TargetValues, 'integrationId' | 'platform'> & { custom: boolean };

const EMPTY: Overrides = { title: '', description: '', hashtags: '', privacy: '', mode: null, publishAt: '', madeForKids: false, custom: false };

function AccountOptions({
  account,
  fields,
  values,
  errors,
  onChange,
}: {
  account: Integration;
  fields: AccountFields | undefined;
  values: Overrides;
  errors: Record<string, string>;
  onChange: (v: Partial<Overrides>) => void;
}) {
  const name = platformName(account.platform);
  const label = `${name} · ${account.account.name}`;
  const custom = values.custom || Boolean(errors.title || errors.description || errors.hashtags);
  return (
    <fieldset className="space-y-3 rounded-lg border border-neutral-200 p-3" aria-label={label}>
      <legend className="flex items-center gap-2 px-1 text-sm font-medium">
        <PlatformMark platform={account.platform} className="size-5 text-[8px]" /> {label}
      </legend>
      {errors.account && <Alert>{errors.account}</Alert>}
      {errors.integration_id && <Alert>{errors.integration_id}</Alert>}
      {!fields ? (
        <Skeleton className="h-9" />
      ) : (
        <>
          {fields.notice && <Alert tone="warning">{fields.notice}</Alert>}
          <div className="grid gap-3 sm:grid-cols-2">
            <FormField label="Privacy" error={errors.privacy}>
              <Select value={values.privacy || fields.defaultPrivacy} onChange={(e) => onChange({ privacy: e.target.value })}>
                {fields.privacy.map((p) => (
                  <option key={p} value={p}>
                    {privacyLabel(p)}
                  </option>
                ))}
              </Select>
            </FormField>
            {fields.modes.length > 0 && (
              <FormField label="Post as" error={errors.mode}>
                <Select value={values.mode ?? fields.defaultMode ?? ''} onChange={(e) => onChange({ mode: e.target.value })}>
                  {fields.modes.map((m) => (
                    <option key={m} value={m}>
                      {MODE_LABELS[m] ?? m}
                    </option>
                  ))}
                </Select>
              </FormField>
            )}
            {fields.schedule && (
              <FormField label="Publish at (optional)" hint="Uploaded private, public at this time" error={errors.publish_at}>
                <Input type="datetime-local" value={values.publishAt} onChange={(e) => onChange({ publishAt: e.target.value })} />
              </FormField>
            )}
          </div>
          {fields.madeForKids && (
            <Checkbox label="Made for kids" hint="YouTube asks this of every video" checked={values.madeForKids} onChange={(e) => onChange({ madeForKids: e.target.checked })} />
          )}
        </>
      )}
      {custom ? (
        <div className="space-y-3 border-t border-neutral-100 pt-3">
          <FormField label={`${name} title`} hint="Empty: the shared title" error={errors.title}>
            <Input value={values.title} onChange={(e) => onChange({ title: e.target.value })} />
          </FormField>
          <FormField label={`${name} description`} error={errors.description}>
            <Textarea rows={3} value={values.description} onChange={(e) => onChange({ description: e.target.value })} />
          </FormField>
          <FormField label={`${name} hashtags`} error={errors.hashtags}>
            <Input value={values.hashtags} onChange={(e) => onChange({ hashtags: e.target.value })} />
          </FormField>
        </div>
      ) : (
        <Button type="button" variant="link" size="sm" onClick={() => onChange({ custom: true })}>
          Own title, description and hashtags for {name}
        </Button>
      )}
    </fieldset>
  );
}

export function PublishDialog({ jobId, defaultTitle, onClose }: { jobId: string; defaultTitle: string; onClose: () => void }) {
  const navigate = useNavigate();
  const qc = useQueryClient();
  const toast = useToast();
  const integrations = useIntegrations();
  const accounts = useMemo(() => sortAccounts(integrations.data?.data ?? []), [integrations.data]);
  const [selected, setSelected] = useState<string[]>([]);
  const [title, setTitle] = useState(defaultTitle);
  const [description, setDescription] = useState('');
  const [hashtags, setHashtags] = useState('');
  const [aiGenerated, setAiGenerated] = useState(true);
  const [overrides, setOverrides] = useState<Record<string, Overrides>>({});
  const [placed, setPlaced] = useState<PlacedErrors | null>(null);

  const chosen = accounts.filter((a) => selected.includes(a.id));
  const options = useQueries({
    queries: chosen.map((a) => ({
      queryKey: pubKeys.options(a.id),
      queryFn: async () => unwrap(await api.GET('/v1/integrations/{integrationId}/options', { params: { path: { integrationId: a.id } } })),
      staleTime: 60_000,
    })),
  });
  const fieldsOf = (i: number) => (options[i]?.data ? accountFields(chosen[i].platform, options[i].data!) : undefined);

  const change = (id: string, v: Partial<Overrides>) => setOverrides((o) => ({ ...o, [id]: { ...EMPTY, ...o[id], ...v } }));

  const enrich = useMutation({
    mutationFn: async () => {
      const platforms = [...new Set((chosen.length ? chosen : accounts).map((a) => a.platform))];
      return unwrap(await api.POST('/v1/enrichment/generate', { body: { job_id: jobId, platforms, instructions: null, language: null } }));
    },
    onSuccess: (r: Enrichment) => {
      const first = r.items[0];
      if (first) {
        setTitle(first.title);
        setDescription(first.description);
        setHashtags(formatHashtags(first.hashtags));
      }
      // Each account gets its platform's own version.
      setOverrides((o) => {
        const next = { ...o };
        for (const a of chosen) {
          const item = r.items.find((x) => x.platform === a.platform);
          if (item) next[a.id] = { ...EMPTY, ...o[a.id], title: item.title, description: item.description, hashtags: formatHashtags(item.hashtags), custom: true };
        }
        return next;
      });
    },
  });

  const publish = useMutation({
    mutationFn: async () => {
      const body = publishBody(
        { title, description, hashtags, aiGenerated },
        chosen.map((a, i) => {
          const v = { ...EMPTY, ...overrides[a.id] };
          const f = fieldsOf(i);
          return {
            integrationId: a.id,
            platform: a.platform,
            title: v.custom ? v.title : '',
            description: v.custom ? v.description : '',
            hashtags: v.custom ? v.hashtags : '',
            privacy: v.privacy || f?.defaultPrivacy || '',
            mode: v.mode ?? f?.defaultMode ?? null,
            publishAt: v.publishAt,
            madeForKids: v.madeForKids,
          };
        }),
      );
      return unwrap(await api.POST('/v1/jobs/{jobId}/publish', { params: { path: { jobId } }, body }));
    },
    onMutate: () => setPlaced(null),
    onSuccess: (p) => {
      void qc.invalidateQueries({ queryKey: ['publications'] });
      qc.setQueryData(pubKeys.publication(p.id), p);
      toast({ title: 'Publishing', description: `To ${p.targets.length} account${p.targets.length === 1 ? '' : 's'}.`, tone: 'success' });
      onClose();
      navigate(`/publications/${p.id}`);
    },
    onError: (e) => setPlaced(placeErrors(fieldErrors(e), chosen.length)),
  });

  const active = accounts.filter((a) => a.status === 'active');
  const usage = enrich.data?.usage;
  const problem = publish.error instanceof ApiError ? publish.error : null;
  const shared = placed?.shared ?? {};

  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title="Publish this video" description="Post it to your connected accounts; each upload runs on its own and is retried when a platform is busy." className="max-w-2xl">
        {integrations.isPending && <Skeleton className="h-24" />}
        {integrations.isError && <Alert>{errorMessage(integrations.error)}</Alert>}
        {integrations.data && accounts.length === 0 && (
          <Alert tone="info" title="No connected accounts">
            <Link className="font-medium underline" to="/settings/integrations">
              Connect YouTube, TikTok or Instagram
            </Link>{' '}
            first.
          </Alert>
        )}
        {accounts.length > 0 && (
          <form
            className="space-y-5"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              publish.mutate();
            }}
          >
            <fieldset className="space-y-2">
              <legend className="mb-2 text-sm font-medium">Accounts</legend>
              {accounts.map((a) => (
                <Checkbox
                  key={a.id}
                  label={`${platformName(a.platform)} · ${a.account.name}`}
                  hint={a.status === 'active' ? (a.account.handle ? handleText(a.account.handle) : undefined) : `Connect it again: ${a.status_reason ?? 'the platform no longer accepts its grant'}`}
                  disabled={a.status !== 'active'}
                  checked={selected.includes(a.id)}
                  onChange={(e) => setSelected((s) => (e.target.checked ? [...s, a.id] : s.filter((x) => x !== a.id)))}
                />
              ))}
              {active.length === 0 && <p className="text-xs text-amber-800">Every account needs to be connected again.</p>}
            </fieldset>

            <div className="space-y-3">
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h3 className="text-sm font-medium">Post</h3>
                <div className="flex items-center gap-2">
                  {usage && (
                    <span className="text-xs text-neutral-500" aria-live="polite">
                      {usage.limit == null ? `${num(usage.used)} AI writes this month` : `${num(usage.remaining)} of ${num(usage.limit)} AI writes left until ${formatDateTime(usage.resets_at)}`}
                    </span>
                  )}
                  <Button type="button" variant="secondary" size="sm" loading={enrich.isPending} onClick={() => enrich.mutate()}>
                    <Sparkles aria-hidden="true" /> Write with AI
                  </Button>
                </div>
              </div>
              {enrich.isError && (
                <Alert tone={enrich.error instanceof ApiError && enrich.error.status === 402 ? 'warning' : 'danger'}>{errorMessage(enrich.error)}</Alert>
              )}
              <FormField label="Title" error={shared.title}>
                <Input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={500} />
              </FormField>
              <FormField label="Description" error={shared.description}>
                <Textarea rows={3} value={description} onChange={(e) => setDescription(e.target.value)} />
              </FormField>
              <FormField label="Hashtags" hint="Separated by spaces or commas; # is optional" error={shared.hashtags}>
                <Input value={hashtags} onChange={(e) => setHashtags(e.target.value)} placeholder="#science #shorts" />
              </FormField>
              <Checkbox
                label="Disclose as AI-generated"
                hint="Labels the post as made with AI where the platform has such a label"
                checked={aiGenerated}
                onChange={(e) => setAiGenerated(e.target.checked)}
              />
            </div>

            {chosen.length > 0 && (
              <div className="space-y-3">
                <h3 className="text-sm font-medium">Per account</h3>
                {chosen.map((a, i) => (
                  <AccountOptions
                    key={a.id}
                    account={a}
                    fields={fieldsOf(i)}
                    values={{ ...EMPTY, ...overrides[a.id] }}
                    errors={placed?.targets[i] ?? {}}
                    onChange={(v) => change(a.id, v)}
                  />
                ))}
                {options.some((o) => o.isError) && <Alert>{errorMessage(options.find((o) => o.isError)!.error)}</Alert>}
              </div>
            )}

            {problem && (problem.status !== 400 || (placed?.other.length ?? 0) > 0 || Object.keys(fieldErrors(problem)).length === 0) && (
              <Alert title={problem.status === 409 ? problem.code ?? 'Conflict' : 'Not published'}>
                <p>{problem.message}</p>
                {placed?.other.map((o) => (
                  <p key={o}>{o}</p>
                ))}
              </Alert>
            )}
            {publish.isError && !problem && <Alert>{errorMessage(publish.error)}</Alert>}

            <div className="flex flex-wrap justify-end gap-2">
              <Button type="button" variant="secondary" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={publish.isPending} disabled={chosen.length === 0 || options.some((o) => o.isPending)}>
                <Send aria-hidden="true" /> Publish{chosen.length > 0 ? ` to ${chosen.length}` : ''}
              </Button>
            </div>
          </form>
        )}
      </DialogContent>
    </Dialog>
  );
}
