// Storyboards (/storyboards): the list and the "New storyboard" form; one storyboard at /storyboards/:id (StoryboardPage).
import { useState, type FormEvent } from 'react';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Film, ImageIcon } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, fieldErrors, unwrap } from '@/api/problem';
import { paramChoices, useModels, useNodeCatalog } from '@/api/queries';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, EmptyState, ErrorState, FormField, Input, PageHeader, Skeleton } from '@/components/ui';
import { Select, Textarea } from '@/components/ui/input';
import { formatDateTime } from '@/lib/format';
import { sceneTone } from './model';
import { sbKeys, useStoryboards } from './queries';
import StoryboardPage from './StoryboardPage';

const ASPECTS = ['9:16', '16:9', '1:1', '4:5'];

function NewStoryboardForm() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const models = useModels();
  const catalog = useNodeCatalog();
  const genres = paramChoices(catalog.data, 'Script.Generate', 'genre').values;
  const imageModels = (models.data ?? []).filter((m) => m.content_type === 'prompt_to_image');
  const [from, setFrom] = useState<'prompt' | 'script'>('prompt');
  const [values, setValues] = useState({ title: '', prompt: '', script: '', scene_count: '4', aspect_ratio: '9:16', style: '', image_model: '', provider: 'auto' });
  const set = (name: keyof typeof values) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [name]: e.target.value }));

  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/storyboards', {
          body: {
            title: values.title.trim() || null,
            prompt: from === 'prompt' ? values.prompt : null,
            script: from === 'script' ? values.script : null,
            scene_count: from === 'prompt' || values.scene_count ? Number(values.scene_count) || null : null,
            aspect_ratio: values.aspect_ratio,
            style: values.style.trim() || null,
            image_model: values.image_model || null,
            provider: values.provider,
            voice: null,
            lang: null,
          },
        }),
      ),
    onSuccess: (storyboard) => {
      queryClient.setQueryData(sbKeys.one(storyboard.id), storyboard);
      void queryClient.invalidateQueries({ queryKey: sbKeys.list });
      navigate(`/storyboards/${storyboard.id}`);
    },
  });
  const errors = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <Card className="mb-6 p-5">
      <h2 className="mb-4 text-base font-semibold">New storyboard</h2>
      <form onSubmit={submit} className="grid gap-4 md:grid-cols-2" aria-label="New storyboard">
        <fieldset className="md:col-span-2">
          <legend className="mb-1.5 text-sm font-medium">Start from</legend>
          <div className="flex gap-4 text-sm">
            <label className="flex items-center gap-2">
              <input type="radio" name="from" checked={from === 'prompt'} onChange={() => setFrom('prompt')} /> A prompt (scenes written for you)
            </label>
            <label className="flex items-center gap-2">
              <input type="radio" name="from" checked={from === 'script'} onChange={() => setFrom('script')} /> My own script
            </label>
          </div>
        </fieldset>
        {from === 'prompt' ? (
          <FormField label="Prompt" error={errors.prompt} className="md:col-span-2" hint="What the video is about; each scene gets narration, an image prompt and an image.">
            <Textarea rows={3} value={values.prompt} onChange={set('prompt')} placeholder="A lighthouse keeper's last winter" />
          </FormField>
        ) : (
          <FormField label="Script" error={errors.script ?? errors['script.scenes']} className="md:col-span-2" hint="Used as is. Blank lines separate scenes; otherwise its sentences are shared over the scene count.">
            <Textarea rows={5} value={values.script} onChange={set('script')} />
          </FormField>
        )}
        <FormField label="Title" error={errors.title} hint="Optional; a written script's title otherwise.">
          <Input value={values.title} onChange={set('title')} />
        </FormField>
        <FormField label="Scenes" error={errors.scene_count} hint={from === 'script' ? 'Optional with a script.' : '1 to 20.'}>
          <Input type="number" min={1} max={20} value={values.scene_count} onChange={set('scene_count')} />
        </FormField>
        <FormField label="Aspect ratio" error={errors.aspect_ratio}>
          <Select value={values.aspect_ratio} onChange={set('aspect_ratio')}>
            {ASPECTS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </Select>
        </FormField>
        <FormField label="Style" error={errors.style} hint={`Added to every image prompt${genres.length ? `; ${genres.join(', ')} also set the script's tone` : ''}.`}>
          <Input value={values.style} onChange={set('style')} placeholder="watercolor" />
        </FormField>
        <FormField label="Image model" error={errors.image_model}>
          <Select value={values.image_model} onChange={set('image_model')}>
            <option value="">Default (flux-kontext-pro)</option>
            {imageModels.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name ?? m.id}
              </option>
            ))}
          </Select>
        </FormField>
        <FormField label="Generated by" error={errors.provider} hint="Local draws stand-in images with no key and no credits.">
          <Select value={values.provider} onChange={set('provider')}>
            <option value="auto">Automatic</option>
            <option value="kie">KIE.ai</option>
            <option value="local">Local stand-ins</option>
          </Select>
        </FormField>
        {create.isError && Object.keys(errors).length === 0 && (
          <Alert className="md:col-span-2">{errorMessage(create.error)}</Alert>
        )}
        <div className="md:col-span-2">
          <Button type="submit" loading={create.isPending}>
            Create storyboard
          </Button>
        </div>
      </form>
    </Card>
  );
}

function StoryboardList() {
  const canEdit = hasRole(useAuth().me, 'editor');
  const list = useStoryboards();
  return (
    <>
      <PageHeader title="Storyboards" description="Plan a video scene by scene: narration, an image each, then render it." />
      {canEdit && <NewStoryboardForm />}
      {list.isPending && <Skeleton className="h-32" />}
      {list.isError && <ErrorState error={list.error} onRetry={() => list.refetch()} />}
      {list.data && list.data.data.length === 0 && (
        <EmptyState title="No storyboards yet" icon={<Film className="size-8" />}>
          Describe a video above to plan its scenes.
        </EmptyState>
      )}
      {list.data && list.data.data.length > 0 && (
        <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Storyboards">
          {list.data.data.map((s) => (
            <li key={s.id}>
              <Link to={`/storyboards/${s.id}`} className="block rounded-lg border border-neutral-200 bg-white p-3 shadow-sm hover:border-accent-300">
                <div className="mb-2 flex aspect-video items-center justify-center overflow-hidden rounded bg-neutral-100">
                  {s.scenes[0]?.image_url ? (
                    <img src={s.scenes[0].image_url} alt="" className="h-full w-full object-cover" />
                  ) : (
                    <ImageIcon className="size-8 text-neutral-400" aria-hidden="true" />
                  )}
                </div>
                <div className="flex items-center justify-between gap-2">
                  <span className="truncate font-medium">{s.title || s.description || 'Untitled storyboard'}</span>
                  <Badge tone={sceneTone(s.status)}>{s.status}</Badge>
                </div>
                <p className="mt-1 text-xs text-neutral-500">
                  {s.scenes.length} scenes · {formatDateTime(s.created_at)}
                </p>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

export default function Storyboards() {
  return (
    <Routes>
      <Route index element={<StoryboardList />} />
      <Route path=":id" element={<StoryboardPage />} />
    </Routes>
  );
}
