import { useState } from 'react';
import { useForm, useWatch } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from '@/api/client';
import { ApiError, applyProblemToForm, unwrap } from '@/api/problem';
import type { Schemas } from '@/api/types';
import { Alert, Button, FormField, Input, Textarea } from '@/components/ui';
import { Checkbox } from '@/components/ui/checkbox';
import { Dialog, DialogClose, DialogContent } from '@/components/ui/dialog';
import { ALL_EVENTS, listFieldMap, WEBHOOK_EVENTS, webhookBody, webhookSchema, type WebhookValues } from './model';

export type Webhook = Schemas['WebhookDto'];
export const webhooksKey = ['webhooks'] as const;

/** Create (`webhook` absent: answers the signing secret) or edit a webhook. */
export function WebhookFormDialog({ webhook, onSaved, onClose }: { webhook?: Webhook; onSaved: (w: Webhook, secret?: string) => void; onClose: () => void }) {
  const qc = useQueryClient();
  const all = webhook?.events.includes(ALL_EVENTS) ?? false;
  const form = useForm<WebhookValues>({
    resolver: zodResolver(webhookSchema),
    defaultValues: {
      url: webhook?.url ?? '',
      description: webhook?.description ?? '',
      allEvents: all,
      events: webhook ? webhook.events.filter((e) => e !== ALL_EVENTS) : ['job.completed', 'job.failed'],
      enabled: webhook?.enabled ?? true,
    },
  });
  const allEvents = useWatch({ control: form.control, name: 'allEvents' });
  const [formError, setFormError] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: async (v: WebhookValues): Promise<{ webhook: Webhook; secret?: string }> => {
      const body = webhookBody(v);
      if (webhook) return { webhook: unwrap(await api.PATCH('/v1/webhooks/{webhookId}', { params: { path: { webhookId: webhook.id } }, body })) };
      return unwrap(await api.POST('/v1/webhooks', { body }));
    },
    onSuccess: (r) => {
      void qc.invalidateQueries({ queryKey: webhooksKey });
      onSaved(r.webhook, r.secret);
    },
    onError: (e) => {
      const map = listFieldMap(['events'] as const, e instanceof ApiError ? e.problem.errors : undefined);
      const { message } = applyProblemToForm(e, form.setError, ['url', 'description', 'events', 'enabled'], map);
      setFormError(message);
    },
  });
  const { errors } = form.formState;
  return (
    <Dialog open onOpenChange={(o) => !o && onClose()}>
      <DialogContent title={webhook ? 'Edit webhook' : 'Add a webhook'} description="FentaWeb POSTs a signed JSON event to this URL when something happens.">
        <form
          noValidate
          className="space-y-4"
          onSubmit={form.handleSubmit((v) => {
            setFormError(null);
            save.mutate(v);
          })}
        >
          <FormField label="Endpoint URL" error={errors.url?.message}>
            <Input type="url" inputMode="url" placeholder="https://example.com/hooks/fenta" autoComplete="off" {...form.register('url')} />
          </FormField>
          <FormField label="Description" hint="Optional" error={errors.description?.message}>
            <Textarea rows={2} {...form.register('description')} />
          </FormField>
          <fieldset>
            <legend className="mb-2 text-sm font-medium text-neutral-800">Events</legend>
            <Checkbox label="All events" hint="Including events added later" {...form.register('allEvents')} />
            <div className="mt-3 grid gap-2 sm:grid-cols-2">
              {WEBHOOK_EVENTS.map((e) => (
                <Checkbox key={e} label={<code className="text-xs">{e}</code>} value={e} disabled={allEvents} {...form.register('events')} />
              ))}
            </div>
            {errors.events && (
              <p role="alert" className="mt-1 text-xs font-medium text-red-600">
                {errors.events.message}
              </p>
            )}
          </fieldset>
          {webhook && <Checkbox label="Enabled" hint="A disabled webhook receives nothing" {...form.register('enabled')} />}
          {formError && <Alert>{formError}</Alert>}
          <div className="flex justify-end gap-2">
            <DialogClose asChild>
              <Button variant="secondary">Cancel</Button>
            </DialogClose>
            <Button type="submit" loading={save.isPending}>
              {webhook ? 'Save' : 'Add webhook'}
            </Button>
          </div>
        </form>
      </DialogContent>
    </Dialog>
  );
}
