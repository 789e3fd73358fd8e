import { useEffect, useMemo, useRef, useState } from 'react';
import { useForm, useWatch, type UseFormReturn } from 'react-hook-form';
import { zodResolver } from '@hookform/resolvers/zod';
import { z } from 'zod';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { Check, Film, ImageIcon, Loader2, Pause, Play, Sparkles, Upload, Video } from 'lucide-react';
import { api } from '@/api/client';
import { applyProblemToForm, errorMessage, unwrap } from '@/api/problem';
import { keys, paramChoices, useModels, useNodeCatalog, useTemplates, useVoices } from '@/api/queries';
import { num, type CostEstimate, type CreateJobRequest, type Model, type Template } from '@/api/types';
import { Alert, Badge, Button, Card, CardContent, CardDescription, CardHeader, CardTitle, ErrorState, FormField, Input, PageHeader, Select, Skeleton, Textarea } from '@/components/ui';
import { ProgressBar } from '@/components/ui/feedback';
import { cn } from '@/lib/cn';
import { formatDuration, formatNumber, formatUsd, humanize } from '@/lib/format';
import { buildJobRequest, CREATE_FIELD_MAP, profileOfTemplate, type CreateValues, type SourceType } from '@/lib/jobRequest';
import { uploadAsset } from '@/lib/upload';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { CostFigures } from '@/components/CostFigures';
import { useDebounced } from '@/lib/useDebounced';

const schema = z
  .object({
    templateId: z.string(),
    prompt: z.string().trim().min(1, 'Write what the video is about').max(4000, 'Keep it under 4000 characters'),
    genre: z.string(),
    lang: z.string().max(16),
    durationSeconds: z.number({ message: 'Enter a number of seconds' }).int().min(5, 'At least 5 seconds').max(180, 'At most 180 seconds'),
    sourceType: z.enum(['stock', 'upload', 'kai_image', 'kai_video']),
    stockQuery: z.string().max(200),
    stockCount: z.number({ message: 'Enter a number' }).int().min(1).max(20),
    assetIds: z.array(z.string()),
    model: z.string(),
    mediaPrompt: z.string().max(4000),
    ttsProvider: z.string(),
    voice: z.string().max(64),
    speed: z.number({ message: 'Enter a number' }).min(0.5, 'At least 0.5').max(2, 'At most 2'),
    subtitleStyle: z.string(),
    musicPrompt: z.string().max(500, 'At most 500 characters'),
    profile: z.string().min(1),
    quality: z.string().min(1),
    maxCostUsd: z.string().refine((s) => s.trim() === '' || (Number.isFinite(Number(s)) && Number(s) > 0), 'Enter an amount in dollars, or leave it empty'),
  })
  .superRefine((v, ctx) => {
    if (v.sourceType === 'upload' && v.assetIds.length === 0) ctx.addIssue({ code: 'custom', path: ['assetIds'], message: 'Pick at least one of your uploads' });
    if ((v.sourceType === 'kai_image' || v.sourceType === 'kai_video') && !v.model) ctx.addIssue({ code: 'custom', path: ['model'], message: 'Pick a model' });
  });

const DEFAULTS: CreateValues = {
  templateId: '',
  prompt: '',
  genre: 'story',
  lang: 'en',
  durationSeconds: 30,
  sourceType: 'stock',
  stockQuery: '',
  stockCount: 5,
  assetIds: [],
  model: '',
  mediaPrompt: '',
  ttsProvider: 'auto',
  voice: '',
  speed: 1,
  subtitleStyle: 'clean_box',
  musicPrompt: '',
  profile: '9x16_1080p',
  quality: 'standard',
  maxCostUsd: '',
};

const SOURCES: { value: SourceType; label: string; description: string; icon: typeof Film }[] = [
  { value: 'stock', label: 'Stock footage', description: 'Clips found for your topic', icon: Film },
  { value: 'upload', label: 'My uploads', description: 'Your own clips and images', icon: Upload },
  { value: 'kai_image', label: 'AI images', description: 'Generated stills', icon: ImageIcon },
  { value: 'kai_video', label: 'AI video', description: 'Generated clips', icon: Video },
];


// ---------------------------------------------------------------- template gallery

function TemplateGallery({ form, templates, profiles, styles }: { form: UseFormReturn<CreateValues>; templates: Template[]; profiles: string[]; styles: string[] }) {
  const selected = useWatch({ control: form.control, name: 'templateId' });
  const choose = (t: Template | null) => {
    form.setValue('templateId', t?.id ?? '', { shouldDirty: true });
    if (!t) return;
    const profile = profileOfTemplate(t.aspect, t.resolution, profiles);
    if (profile) form.setValue('profile', profile, { shouldDirty: true });
    const style = t.spec.subtitle_style_presets?.find((s) => styles.includes(s));
    if (style) form.setValue('subtitleStyle', style, { shouldDirty: true });
  };
  const options: (Template | null)[] = [null, ...templates];
  return (
    <div role="radiogroup" aria-label="Template" className="grid grid-cols-2 gap-3 sm:grid-cols-3">
      {options.map((t) => {
        const id = t?.id ?? '';
        const active = selected === id;
        const [w, h] = (t?.aspect ?? '9:16').split(':').map(Number);
        return (
          <button
            key={id || 'none'}
            type="button"
            role="radio"
            aria-checked={active}
            onClick={() => choose(t)}
            className={cn(
              'group relative flex flex-col gap-2 rounded-lg border bg-white p-3 text-left transition-colors focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
              active ? 'border-accent-600 ring-1 ring-accent-600' : 'border-neutral-200 hover:border-neutral-300',
            )}
          >
            <div className="flex h-20 items-center justify-center rounded-md bg-gradient-to-br from-neutral-100 to-neutral-200">
              <div
                className={cn('rounded-sm border-2', active ? 'border-accent-600 bg-accent-100' : 'border-neutral-400 bg-white')}
                style={{ width: `${(w / Math.max(w, h)) * 44}px`, height: `${(h / Math.max(w, h)) * 64}px` }}
                aria-hidden="true"
              />
            </div>
            <div className="min-w-0">
              <p className="truncate text-sm font-medium">{t?.name ?? 'No template'}</p>
              <p className="line-clamp-2 text-xs text-neutral-500">{t ? t.description ?? `${t.aspect} · ${t.resolution}` : 'Plain layout from your settings below'}</p>
            </div>
            {t && <Badge className="absolute right-2 top-2">{t.aspect}</Badge>}
            {active && (
              <span className="absolute left-2 top-2 flex size-5 items-center justify-center rounded-full bg-accent-600 text-white" aria-hidden="true">
                <Check className="size-3" />
              </span>
            )}
          </button>
        );
      })}
    </div>
  );
}

// ---------------------------------------------------------------- sources

function ModelPicker({ form, models, kind }: { form: UseFormReturn<CreateValues>; models: Model[]; kind: 'image' | 'video' }) {
  const list = models.filter((m) => m.output === kind && m.active);
  const model = useWatch({ control: form.control, name: 'model' });
  useEffect(() => {
    if (list.length > 0 && !list.some((m) => m.id === model)) form.setValue('model', list[0].id);
  }, [list, model, form]);
  if (list.length === 0) return <Alert tone="info">No {kind} models are available right now.</Alert>;
  return (
    <div role="radiogroup" aria-label={`${kind === 'image' ? 'Image' : 'Video'} model`} className="grid gap-2 sm:grid-cols-2">
      {list.map((m) => {
        const active = model === m.id;
        return (
          <button
            key={m.id}
            type="button"
            role="radio"
            aria-checked={active}
            disabled={m.locked}
            onClick={() => form.setValue('model', m.id, { shouldDirty: true })}
            className={cn(
              'flex items-center justify-between gap-3 rounded-lg border p-3 text-left text-sm focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500 disabled:opacity-50',
              active ? 'border-accent-600 bg-accent-50' : 'border-neutral-200 bg-white hover:border-neutral-300',
            )}
          >
            <span className="min-w-0">
              <span className="block truncate font-medium">{m.name}</span>
              <span className="block text-xs text-neutral-500">
                {m.family} · about {formatDuration(num(m.estimated_seconds))} per generation
              </span>
            </span>
            <Badge tone={active ? 'accent' : 'neutral'} aria-label={`${num(m.base_credits)} credits per generation`}>
              {formatNumber(num(m.base_credits), 0)} cr
            </Badge>
          </button>
        );
      })}
    </div>
  );
}

function UploadPicker({ form }: { form: UseFormReturn<CreateValues> }) {
  const qc = useQueryClient();
  const assets = useQuery({
    queryKey: keys.assets({ picker: true }),
    queryFn: async () => unwrap(await api.GET('/v1/assets', { params: { query: { limit: '50' } } })),
  });
  const chosen = useWatch({ control: form.control, name: 'assetIds' });
  const error = form.formState.errors.assetIds?.message;
  const [progress, setProgress] = useState<number | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const toggle = (id: string) =>
    form.setValue('assetIds', chosen.includes(id) ? chosen.filter((x) => x !== id) : [...chosen, id], { shouldDirty: true, shouldValidate: true });

  const upload = async (file: File) => {
    setUploadError(null);
    setProgress(0);
    try {
      const asset = await uploadAsset(file, (p) => setProgress((p.loaded / Math.max(1, p.total)) * 100));
      await qc.invalidateQueries({ queryKey: ['assets'] });
      form.setValue('assetIds', [...form.getValues('assetIds'), asset.id], { shouldDirty: true, shouldValidate: true });
    } catch (e) {
      setUploadError(errorMessage(e));
    } finally {
      setProgress(null);
    }
  };

  const ready = assets.data?.data.filter((a) => a.status === 'ready') ?? [];
  return (
    <fieldset className="space-y-3" aria-describedby={error ? 'assets-error' : undefined}>
      <legend className="text-sm font-medium text-neutral-800">Your uploads, in the order to use them</legend>
      {assets.isPending && <Skeleton className="h-20" />}
      {assets.isError && <ErrorState error={assets.error} onRetry={() => assets.refetch()} />}
      {assets.data && ready.length === 0 && <p className="text-sm text-neutral-500">You have no ready uploads yet. Upload a clip or image below.</p>}
      {ready.length > 0 && (
        <ul className="grid max-h-64 gap-2 overflow-auto sm:grid-cols-2">
          {ready.map((a) => {
            const i = chosen.indexOf(a.id);
            return (
              <li key={a.id}>
                <label className={cn('flex cursor-pointer items-center gap-3 rounded-lg border p-2 text-sm', i >= 0 ? 'border-accent-600 bg-accent-50' : 'border-neutral-200 bg-white')}>
                  <input type="checkbox" className="size-4 accent-accent-600" checked={i >= 0} onChange={() => toggle(a.id)} />
                  <span className="min-w-0 flex-1">
                    <span className="block truncate font-medium">{a.filename ?? a.id}</span>
                    <span className="block text-xs text-neutral-500">
                      {a.type}
                      {a.duration_seconds != null && ` · ${formatDuration(num(a.duration_seconds))}`}
                    </span>
                  </span>
                  {i >= 0 && <Badge tone="accent">#{i + 1}</Badge>}
                </label>
              </li>
            );
          })}
        </ul>
      )}
      {error && (
        <p id="assets-error" role="alert" className="text-xs font-medium text-red-600">
          {error}
        </p>
      )}
      <div className="flex flex-wrap items-center gap-3">
        <input
          ref={fileInput}
          type="file"
          accept="video/*,image/*,audio/*"
          className="sr-only"
          aria-label="Upload a file"
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void upload(f);
            e.target.value = '';
          }}
        />
        <Button variant="secondary" size="sm" onClick={() => fileInput.current?.click()} loading={progress !== null}>
          <Upload aria-hidden="true" /> Upload a file
        </Button>
        <Link to="/assets" className="text-sm text-accent-600 hover:underline">
          Manage assets
        </Link>
      </div>
      {progress !== null && <ProgressBar value={progress} label="Upload progress" />}
      {uploadError && <Alert>{uploadError}</Alert>}
    </fieldset>
  );
}

// ---------------------------------------------------------------- voice

/**
 * Plays GET /v1/voices/{provider}/{voice}/sample. An <audio src> cannot send the bearer token, so the WAV is read
 * with the typed client and played from a blob: URL, revoked when it stops, ends, fails or the page goes.
 */
function useVoiceSample() {
  const [playing, setPlaying] = useState<string | null>(null);
  const [loading, setLoading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const audio = useRef<HTMLAudioElement | null>(null);
  const blobUrl = useRef<string | null>(null);
  const request = useRef(0);
  const release = () => {
    audio.current?.pause();
    audio.current = null;
    if (blobUrl.current) URL.revokeObjectURL(blobUrl.current);
    blobUrl.current = null;
  };
  const stop = () => {
    request.current++;
    release();
    setPlaying(null);
    setLoading(null);
  };
  useEffect(() => stop, []);
  const play = async (provider: string, voice: string) => {
    const key = `${provider}/${voice}`;
    if (playing === key) return stop();
    stop();
    const mine = request.current;
    setError(null);
    setLoading(key);
    try {
      const wav = unwrap(
        await api.GET('/v1/voices/{provider}/{voice}/sample', { params: { path: { provider, voice } }, parseAs: 'blob' }),
      );
      if (mine !== request.current) return; // another voice was asked for meanwhile
      const url = URL.createObjectURL(wav);
      blobUrl.current = url;
      const a = new Audio(url);
      audio.current = a;
      a.onended = () => {
        if (audio.current === a) stop();
      };
      await a.play();
      if (mine === request.current) setPlaying(key);
    } catch (e) {
      if (mine !== request.current) return;
      release();
      setError(errorMessage(e));
    } finally {
      if (mine === request.current) setLoading(null);
    }
  };
  return { play, playing, loading, error };
}

function VoicePicker({ form }: { form: UseFormReturn<CreateValues> }) {
  const voices = useVoices();
  const provider = useWatch({ control: form.control, name: 'ttsProvider' });
  const voice = useWatch({ control: form.control, name: 'voice' });
  const sample = useVoiceSample();
  const { errors } = form.formState;
  // 'auto' uses OpenAI when configured, else espeak: list the voices of the provider that will speak.
  const effective = provider === 'auto' ? voices.data?.find((p) => p.provider === 'openai' && p.configured)?.provider ?? 'espeak' : provider;
  const list = voices.data?.find((p) => p.provider === effective);
  const key = `${effective}/${voice}`;
  if (voices.isPending) return <Skeleton className="h-24" />;
  if (voices.isError) return <ErrorState error={voices.error} onRetry={() => voices.refetch()} />;
  return (
    <div className="space-y-4">
      <div className="grid gap-4 sm:grid-cols-3">
        <FormField label="Speech engine" error={errors.ttsProvider?.message}>
          <Select {...form.register('ttsProvider', { onChange: () => form.setValue('voice', '') })}>
            <option value="auto">Automatic</option>
            {voices.data.map((p) => (
              <option key={p.provider} value={p.provider} disabled={!p.configured}>
                {p.provider === 'espeak' ? 'eSpeak (offline)' : p.provider === 'openai' ? 'OpenAI' : p.provider === 'elevenlabs' ? 'ElevenLabs (KIE.ai credits)' : humanize(p.provider)}
                {!p.configured && ' (not configured)'}
              </option>
            ))}
          </Select>
        </FormField>
        <FormField
          label="Voice"
          error={errors.voice?.message}
          className="sm:col-span-2"
          hint={list?.notes}
        >
          <div className="flex gap-2">
            <Select className="flex-1" {...form.register('voice')} aria-label="Voice">
              <option value="">Default for the language</option>
              {list?.voices.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </Select>
            <Button
              variant="secondary"
              size="icon"
              aria-label={sample.playing === key ? 'Stop the voice sample' : 'Play a sample of this voice'}
              disabled={!voice}
              onClick={() => void sample.play(effective, voice)}
            >
              {sample.loading === key ? <Loader2 className="animate-spin" aria-hidden="true" /> : sample.playing === key ? <Pause aria-hidden="true" /> : <Play aria-hidden="true" />}
            </Button>
          </div>
        </FormField>
      </div>
      {sample.error && <p className="text-xs text-red-600" role="alert">{sample.error}</p>}
      <FormField label="Speaking speed" hint="0.5 (slow) to 2 (fast)" error={errors.speed?.message} className="sm:max-w-48">
        <Input type="number" step="0.05" min={0.5} max={2} {...form.register('speed', { valueAsNumber: true })} />
      </FormField>
    </div>
  );
}

// ---------------------------------------------------------------- estimate

type EstimateState = { data?: CostEstimate; error?: unknown; pending: boolean };

function useEstimate(body: Partial<CreateJobRequest> | null): EstimateState {
  const json = body ? JSON.stringify(body) : null;
  const debounced = useDebounced(json, 600);
  const q = useQuery<CostEstimate>({
    queryKey: ['estimate', debounced],
    enabled: debounced !== null,
    retry: false,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
    // POST /v1/jobs/estimate takes the body of POST /v1/jobs and creates nothing.
    queryFn: async ({ signal }) =>
      unwrap(await api.POST('/v1/jobs/estimate', { body: JSON.parse(debounced!) as CreateJobRequest, signal })),
  });
  return { data: q.data, error: q.error, pending: q.isFetching || json !== debounced };
}

function EstimatePanel({ estimate, budget }: { estimate: EstimateState; budget: string }) {
  const { data, error, pending } = estimate;
  const total = data ? num(data.total.cost_usd) : null;
  const over = total !== null && budget.trim() !== '' && Number(budget) > 0 && total > Number(budget);
  return (
    <section aria-labelledby="estimate-title" aria-live="polite" className="space-y-3">
      <div className="flex items-center justify-between">
        <h2 id="estimate-title" className="text-sm font-semibold">Cost estimate</h2>
        {pending && <Loader2 className="size-4 animate-spin text-neutral-400" aria-label="Updating the estimate" />}
      </div>
      {error ? (
        <Alert>{errorMessage(error)}</Alert>
      ) : !data ? (
        <p className="text-sm text-neutral-500">Write a topic to see what this video will cost.</p>
      ) : (
        <>
          <p className="text-3xl font-semibold tracking-tight">{formatUsd(total ?? 0)}</p>
          <CostFigures tokens={num(data.total.tokens)} kaiCredits={num(data.total.kai_credits)} renderSeconds={num(data.total.render_seconds)} />
          {over && <Alert tone="warning">This is over your budget of {formatUsd(Number(budget))}: the job would be refused.</Alert>}
          {data.nodes.length > 0 && (
            <details className="text-xs text-neutral-600">
              <summary className="cursor-pointer select-none font-medium">Per step</summary>
              <ul className="mt-2 space-y-1">
                {data.nodes.map((n) => (
                  <li key={n.node_id} className="flex justify-between gap-2">
                    <span className="truncate">{n.type}{num(n.items) > 1 && ` ×${num(n.items)}`}</span>
                    <span>{formatUsd(num(n.cost_usd))}</span>
                  </li>
                ))}
              </ul>
              {data.assumptions.length > 0 && (
                <ul className="mt-2 list-disc space-y-0.5 pl-4 text-neutral-500">
                  {data.assumptions.map((a) => <li key={a}>{a}</li>)}
                </ul>
              )}
            </details>
          )}
        </>
      )}
    </section>
  );
}

// ---------------------------------------------------------------- page

function Section({ title, description, children }: { title: string; description?: string; children: React.ReactNode }) {
  return (
    <Card>
      <CardHeader>
        <CardTitle>{title}</CardTitle>
        {description && <CardDescription>{description}</CardDescription>}
      </CardHeader>
      <CardContent className="space-y-4">{children}</CardContent>
    </Card>
  );
}

export default function Create() {
  const navigate = useNavigate();
  // Viewers may price a video but not make one (the API would answer 403).
  const canCreate = hasRole(useAuth().me, 'editor');
  const templates = useTemplates();
  const models = useModels();
  const catalog = useNodeCatalog();
  const form = useForm<CreateValues>({ resolver: zodResolver(schema), defaultValues: DEFAULTS, mode: 'onTouched' });
  const { errors } = form.formState;
  const [formError, setFormError] = useState<string | null>(null);

  const genres = paramChoices(catalog.data, 'Script.Generate', 'genre');
  const styles = paramChoices(catalog.data, 'Subtitle.Auto', 'style');
  const profiles = paramChoices(catalog.data, 'Output.Render', 'profile');
  const qualities = paramChoices(catalog.data, 'Output.Render', 'quality');

  const values = useWatch({ control: form.control }) as CreateValues;
  const sourceType = values.sourceType;
  const body = useMemo(() => (values.prompt?.trim() ? buildJobRequest({ ...DEFAULTS, ...values }) : null), [values]);
  const estimate = useEstimate(body as Partial<CreateJobRequest> | null);

  const submit = useMutation({
    // The API keeps the request with the job (its `request`): the job page shows it as an API call.
    mutationFn: async (v: CreateValues) => unwrap(await api.POST('/v1/jobs', { body: buildJobRequest(v) as CreateJobRequest })),
    onSuccess: (job) => navigate(`/jobs/${job.id}`),
    onError: (e) => {
      const { unmatched, message } = applyProblemToForm(e, form.setError, Object.keys(DEFAULTS) as (keyof CreateValues)[], CREATE_FIELD_MAP);
      const rest = Object.entries(unmatched).map(([f, m]) => `${f}: ${m}`);
      setFormError(rest.length > 0 ? `${message} (${rest.join('; ')})` : message);
    },
  });

  const onSubmit = form.handleSubmit((v) => {
    setFormError(null);
    submit.mutate(v);
  });

  return (
    <>
      <PageHeader title="Create a video" description="Pick a look, say what it is about, choose footage and a voice. The estimate updates as you go." />
      <form onSubmit={onSubmit} noValidate className="grid grid-cols-1 gap-6 lg:grid-cols-[1fr_20rem]">
        <div className="min-w-0 space-y-6">
          <Section title="Template" description="Layout, captions and overlays.">
            {templates.isPending && <Skeleton className="h-36" />}
            {templates.isError && <ErrorState error={templates.error} onRetry={() => templates.refetch()} />}
            {templates.data && <TemplateGallery form={form} templates={templates.data.data} profiles={profiles.values} styles={styles.values} />}
            {errors.templateId && <p role="alert" className="text-xs font-medium text-red-600">{errors.templateId.message}</p>}
          </Section>

          <Section title="Story" description="The script is written from this.">
            <FormField label="Topic or prompt" error={errors.prompt?.message} hint="For example: “Three surprising facts about octopuses, upbeat”.">
              <Textarea rows={3} {...form.register('prompt')} />
            </FormField>
            <div className="grid gap-4 sm:grid-cols-3">
              <FormField label="Genre" error={errors.genre?.message}>
                <Select {...form.register('genre')}>
                  {(genres.values.length ? genres.values : ['story']).map((g) => (
                    <option key={g} value={g}>{humanize(g)}</option>
                  ))}
                </Select>
              </FormField>
              <FormField label="Language" hint="BCP 47, e.g. en, de, pt-BR" error={errors.lang?.message}>
                <Input {...form.register('lang')} />
              </FormField>
              <FormField label="Length (seconds)" error={errors.durationSeconds?.message}>
                <Input type="number" min={5} max={180} {...form.register('durationSeconds', { valueAsNumber: true })} />
              </FormField>
            </div>
          </Section>

          <Section title="Footage" description="Where the pictures come from.">
            <div role="radiogroup" aria-label="Footage source" className="grid grid-cols-2 gap-2 sm:grid-cols-4">
              {SOURCES.map(({ value, label, description, icon: Icon }) => (
                <button
                  key={value}
                  type="button"
                  role="radio"
                  aria-checked={sourceType === value}
                  onClick={() => form.setValue('sourceType', value, { shouldDirty: true })}
                  className={cn(
                    'flex flex-col items-start gap-1 rounded-lg border p-3 text-left focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500',
                    sourceType === value ? 'border-accent-600 bg-accent-50' : 'border-neutral-200 bg-white hover:border-neutral-300',
                  )}
                >
                  <Icon className={cn('size-4', sourceType === value ? 'text-accent-600' : 'text-neutral-500')} aria-hidden="true" />
                  <span className="text-sm font-medium">{label}</span>
                  <span className="text-xs text-neutral-600">{description}</span>
                </button>
              ))}
            </div>
            {errors.sourceType && <p role="alert" className="text-xs font-medium text-red-600">{errors.sourceType.message}</p>}
            {sourceType === 'stock' && (
              <div className="grid gap-4 sm:grid-cols-[1fr_8rem]">
                <FormField label="Search terms" hint="Leave empty to search for your topic." error={errors.stockQuery?.message}>
                  <Input {...form.register('stockQuery')} />
                </FormField>
                <FormField label="Clips" error={errors.stockCount?.message}>
                  <Input type="number" min={1} max={20} {...form.register('stockCount', { valueAsNumber: true })} />
                </FormField>
              </div>
            )}
            {sourceType === 'upload' && <UploadPicker form={form} />}
            {(sourceType === 'kai_image' || sourceType === 'kai_video') && (
              <div className="space-y-4">
                {models.isPending && <Skeleton className="h-24" />}
                {models.isError && <ErrorState error={models.error} onRetry={() => models.refetch()} />}
                {models.data && <ModelPicker form={form} models={models.data} kind={sourceType === 'kai_image' ? 'image' : 'video'} />}
                {errors.model && <p role="alert" className="text-xs font-medium text-red-600">{errors.model.message}</p>}
                <FormField label={sourceType === 'kai_image' ? 'Image prompt' : 'Video prompt'} hint="Leave empty to use your topic." error={errors.mediaPrompt?.message}>
                  <Textarea rows={2} {...form.register('mediaPrompt')} />
                </FormField>
              </div>
            )}
          </Section>

          <Section title="Voice" description="Who reads the script.">
            <VoicePicker form={form} />
          </Section>

          <Section title="Music" description="A track made for this video (Suno; an instrumental bed offline), ducked under the narration.">
            <FormField label="Background music" hint="Describe it, e.g. calm piano with soft drums; leave empty for none." error={errors.musicPrompt?.message}>
              <Input placeholder="calm piano with soft drums" {...form.register('musicPrompt')} />
            </FormField>
          </Section>

          <Section title="Look and output">
            <div className="grid gap-4 sm:grid-cols-3">
              <FormField label="Subtitles" error={errors.subtitleStyle?.message}>
                <Select {...form.register('subtitleStyle')}>
                  {(styles.values.length ? styles.values : ['clean_box']).map((s) => (
                    <option key={s} value={s}>{humanize(s)}</option>
                  ))}
                  <option value="none">No subtitles</option>
                </Select>
              </FormField>
              <FormField label="Aspect and size" error={errors.profile?.message}>
                <Select {...form.register('profile')}>
                  {(profiles.values.length ? profiles.values : ['9x16_1080p']).map((p) => (
                    <option key={p} value={p}>{p.replace('x', ':').replace('_', ' · ')}</option>
                  ))}
                </Select>
              </FormField>
              <FormField label="Quality" error={errors.quality?.message}>
                <Select {...form.register('quality')}>
                  {(qualities.values.length ? qualities.values : ['standard']).map((q) => (
                    <option key={q} value={q}>{humanize(q)}</option>
                  ))}
                </Select>
              </FormField>
            </div>
          </Section>
        </div>

        <aside className="lg:sticky lg:top-20 lg:self-start">
          <Card>
            <CardContent className="space-y-5 pt-5">
              <EstimatePanel estimate={estimate} budget={values.maxCostUsd ?? ''} />
              <FormField label="Budget (USD, optional)" hint="The job is refused if its estimate is higher." error={errors.maxCostUsd?.message}>
                <Input inputMode="decimal" placeholder="e.g. 0.50" {...form.register('maxCostUsd')} />
              </FormField>
              {formError && <Alert>{formError}</Alert>}
              {canCreate ? (
                <Button type="submit" size="lg" className="w-full" loading={submit.isPending}>
                  <Sparkles aria-hidden="true" /> Create video
                </Button>
              ) : (
                <Alert tone="info">You are a viewer in this organization: an editor or admin can create this video.</Alert>
              )}
            </CardContent>
          </Card>
        </aside>
      </form>
    </>
  );
}
