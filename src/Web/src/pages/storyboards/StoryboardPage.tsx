// One storyboard (/storyboards/:id): scene cards (image, narration, image prompt, duration) to edit, redraw one at a
// time and reorder (drag a card, or its Move up / Move down buttons), and the render with its options. Polls while
// the plan, a redraw or the render runs.
import { useState, type DragEvent } from 'react';
import { Link, useParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ArrowDown, ArrowLeft, ArrowUp, GripVertical, ImageIcon, RefreshCw } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, fieldErrors, unwrap } from '@/api/problem';
import { paramChoices, useModels, useNodeCatalog } from '@/api/queries';
import { num } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Alert, Badge, Button, Card, ErrorState, FormField, Input, Loading, PageHeader, Skeleton } from '@/components/ui';
import { Select, Textarea } from '@/components/ui/input';
import { Checkbox } from '@/components/ui/checkbox';
import { formatDuration } from '@/lib/format';
import { canRender, isBusy, isEditable, moved, sceneTone, type Scene, type Storyboard } from './model';
import { sbKeys, useAudioAssets, useStoryboard } from './queries';

function useSetStoryboard(id: string) {
  const queryClient = useQueryClient();
  return (s: Storyboard) => {
    queryClient.setQueryData(sbKeys.one(id), s);
    void queryClient.invalidateQueries({ queryKey: sbKeys.list });
  };
}

function SceneCard({ storyboard, scene, editable, onDragStart, onDrop }: {
  storyboard: Storyboard;
  scene: Scene;
  editable: boolean;
  onDragStart: (e: DragEvent) => void;
  onDrop: (e: DragEvent) => void;
}) {
  const id = storyboard.id;
  const n = num(scene.index);
  const count = storyboard.scenes.length;
  const setStoryboard = useSetStoryboard(id);
  const [draft, setDraft] = useState({ narration: scene.narration, image_prompt: scene.image_prompt, duration: String(num(scene.duration_seconds)) });
  const [base, setBase] = useState(scene);
  // A scene changed by the server (a redraw, a move) shows its new text unless it is being edited.
  if (base !== scene && base.id === scene.id && draft.narration === base.narration && draft.image_prompt === base.image_prompt && draft.duration === String(num(base.duration_seconds))) {
    setBase(scene);
    setDraft({ narration: scene.narration, image_prompt: scene.image_prompt, duration: String(num(scene.duration_seconds)) });
  }
  const dirty = draft.narration !== scene.narration || draft.image_prompt !== scene.image_prompt || Number(draft.duration) !== num(scene.duration_seconds);
  const path = { storyboardId: id, n };

  const save = useMutation({
    mutationFn: async () =>
      unwrap(await api.PATCH('/v1/storyboards/{storyboardId}/scenes/{n}', {
        params: { path },
        body: { narration: draft.narration, image_prompt: draft.image_prompt, duration_seconds: Number(draft.duration), index: null },
      })),
    onSuccess: setStoryboard,
  });
  const move = useMutation({
    mutationFn: async (to: number) =>
      unwrap(await api.PATCH('/v1/storyboards/{storyboardId}/scenes/{n}', { params: { path }, body: { narration: null, image_prompt: null, duration_seconds: null, index: to } })),
    onSuccess: setStoryboard,
  });
  const regenerate = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/storyboards/{storyboardId}/scenes/{n}/regenerate', {
        params: { path },
        body: { image_prompt: draft.image_prompt !== scene.image_prompt ? draft.image_prompt : null },
      })),
    onSuccess: setStoryboard,
  });
  const errors = fieldErrors(save.error ?? regenerate.error);
  const failure = [save, move, regenerate].find((m) => m.isError && Object.keys(fieldErrors(m.error)).length === 0);
  const drawing = scene.status === 'generating';
  const canEdit = editable && !drawing;

  return (
    <li
      aria-label={`Scene ${n}`}
      className="rounded-lg border border-neutral-200 bg-white p-3 shadow-sm"
      draggable={editable}
      onDragStart={onDragStart}
      onDragOver={(e) => editable && e.preventDefault()}
      onDrop={onDrop}
    >
      <div className="mb-2 flex items-center justify-between gap-2">
        <span className="flex items-center gap-1 text-sm font-semibold">
          {editable && <GripVertical className="size-4 cursor-grab text-neutral-400" aria-hidden="true" />}
          Scene {n}
        </span>
        <div className="flex items-center gap-1">
          <Badge tone={sceneTone(scene.status)}>{scene.status}</Badge>
          <Button variant="ghost" size="icon" aria-label={`Move scene ${n} up`} disabled={!editable || n === 1 || move.isPending} onClick={() => move.mutate(n - 1)}>
            <ArrowUp />
          </Button>
          <Button variant="ghost" size="icon" aria-label={`Move scene ${n} down`} disabled={!editable || n === count || move.isPending} onClick={() => move.mutate(n + 1)}>
            <ArrowDown />
          </Button>
        </div>
      </div>
      <div className="mb-3 flex aspect-video items-center justify-center overflow-hidden rounded bg-neutral-100">
        {drawing ? (
          <Loading label="Drawing…" />
        ) : scene.image_url ? (
          <img src={scene.image_url} alt={`Scene ${n}: ${scene.image_prompt}`} className="h-full w-full object-contain" />
        ) : (
          <ImageIcon className="size-8 text-neutral-400" aria-hidden="true" />
        )}
      </div>
      {scene.error && <p className="mb-2 text-xs text-red-600">{scene.error}</p>}
      <div className="space-y-3">
        <FormField label={`Narration, scene ${n}`} error={errors.narration}>
          <Textarea rows={3} value={draft.narration} disabled={!canEdit} onChange={(e) => setDraft((d) => ({ ...d, narration: e.target.value }))} />
        </FormField>
        <FormField label={`Image prompt, scene ${n}`} error={errors.image_prompt}>
          <Textarea rows={2} value={draft.image_prompt} disabled={!canEdit} onChange={(e) => setDraft((d) => ({ ...d, image_prompt: e.target.value }))} />
        </FormField>
        <FormField label={`Duration in seconds, scene ${n}`} error={errors.duration_seconds}>
          <Input type="number" min={1} max={60} step={0.5} value={draft.duration} disabled={!canEdit} onChange={(e) => setDraft((d) => ({ ...d, duration: e.target.value }))} />
        </FormField>
      </div>
      {failure && <Alert className="mt-2">{errorMessage(failure.error)}</Alert>}
      <div className="mt-3 flex flex-wrap gap-2">
        <Button size="sm" disabled={!canEdit || !dirty} loading={save.isPending} onClick={() => save.mutate()}>
          Save scene {n}
        </Button>
        <Button size="sm" variant="secondary" disabled={!canEdit} loading={regenerate.isPending} onClick={() => regenerate.mutate()}>
          <RefreshCw aria-hidden="true" /> Regenerate image {n}
        </Button>
      </div>
    </li>
  );
}

function RenderPanel({ storyboard }: { storyboard: Storyboard }) {
  const catalog = useNodeCatalog();
  const audio = useAudioAssets();
  const setStoryboard = useSetStoryboard(storyboard.id);
  const styles = paramChoices(catalog.data, 'Subtitle.Auto', 'style').values;
  const qualities = paramChoices(catalog.data, 'Output.Render', 'quality').values;
  const models = useModels();
  const clipModels = (models.data ?? []).filter((m) => m.content_type === 'image_to_video');
  const [options, setOptions] = useState({ subtitles: 'clean_box', quality: 'standard', resolution: '1080p', music: '', musicPrompt: '', clipModel: '' });
  const [overlays, setOverlays] = useState(false);
  const set = (name: keyof typeof options) => (e: { target: { value: string } }) => setOptions((o) => ({ ...o, [name]: e.target.value }));
  const render = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/storyboards/{storyboardId}/render', {
        params: { path: { storyboardId: storyboard.id } },
        body: {
          subtitles: options.subtitles === 'none' ? false : options.subtitles,
          quality: options.quality,
          resolution: options.resolution,
          music: options.music
            ? { asset_id: options.music, prompt: null, volume: null }
            : options.musicPrompt.trim()
              ? { asset_id: null, prompt: options.musicPrompt.trim(), volume: null }
              : null,
          template_id: null,
          overlays,
          image_to_video: options.clipModel ? { model: options.clipModel, duration: null } : null,
        },
      })),
    onSuccess: setStoryboard,
  });
  const errors = fieldErrors(render.error);
  const r = storyboard.render;
  return (
    <Card className="p-5">
      <h2 className="mb-4 text-base font-semibold">Render</h2>
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <FormField label="Subtitles" error={errors.subtitles}>
          <Select value={options.subtitles} onChange={set('subtitles')}>
            {styles.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
            <option value="none">No subtitles</option>
          </Select>
        </FormField>
        <FormField label="Quality" error={errors.quality}>
          <Select value={options.quality} onChange={set('quality')}>
            {qualities.map((q) => (
              <option key={q} value={q}>
                {q}
              </option>
            ))}
          </Select>
        </FormField>
        <FormField label="Resolution" error={errors.resolution}>
          <Select value={options.resolution} onChange={set('resolution')}>
            <option value="1080p">1080p</option>
            <option value="720p">720p</option>
          </Select>
        </FormField>
        <FormField label="Music" error={errors['music.asset_id']} hint="An uploaded audio file, ducked under the narration.">
          <Select value={options.music} onChange={set('music')}>
            <option value="">No music</option>
            {audio.data?.data.map((a) => (
              <option key={a.id} value={a.id}>
                {a.filename ?? a.id}
              </option>
            ))}
          </Select>
        </FormField>
        <FormField label="Music from a prompt" error={errors['music.prompt'] ?? errors.music} hint="Generated for this render when no file is chosen.">
          <Input value={options.musicPrompt} disabled={!!options.music} onChange={set('musicPrompt')} placeholder="calm ambient piano" />
        </FormField>
        <FormField label="Animate each image" error={errors['image_to_video.model']} hint="An image-to-video model makes a clip of every scene (charged per scene).">
          <Select value={options.clipModel} onChange={set('clipModel')}>
            <option value="">No: show the stills</option>
            {clipModels.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </Select>
        </FormField>
      </div>
      <div className="mt-4">
        <Checkbox label="Show the template's headline or title card" checked={overlays} onChange={(e) => setOverlays(e.target.checked)} />
      </div>
      {render.isError && Object.keys(errors).length === 0 && <Alert className="mt-3">{errorMessage(render.error)}</Alert>}
      <div className="mt-4 flex items-center gap-3">
        <Button disabled={!canRender(storyboard)} loading={render.isPending} onClick={() => render.mutate()}>
          Render video
        </Button>
        {!canRender(storyboard) && storyboard.status === 'ready' && <span className="text-xs text-neutral-500">Every scene needs its image first.</span>}
      </div>
      {r && (
        <div className="mt-4 space-y-2" aria-live="polite">
          <p className="flex items-center gap-2 text-sm">
            Last render <Badge tone={sceneTone(r.status)}>{r.status}</Badge>
            <Link className="text-accent-600 underline" to={`/jobs/${r.job_id}`}>
              job
            </Link>
          </p>
          {r.error && <Alert>{r.error}</Alert>}
          {r.video_url && (
            <video src={r.video_url} controls playsInline preload="metadata" className="max-h-[70vh] rounded-lg bg-black" aria-label="The rendered video" />
          )}
        </div>
      )}
    </Card>
  );
}

export default function StoryboardPage() {
  const { id = '' } = useParams();
  const canEdit = hasRole(useAuth().me, 'editor');
  const q = useStoryboard(id);
  const setStoryboard = useSetStoryboard(id);
  const [dragFrom, setDragFrom] = useState<number | null>(null);
  const reorder = useMutation({
    mutationFn: async (scene_order: string[]) =>
      unwrap(await api.PATCH('/v1/storyboards/{storyboardId}', { params: { path: { storyboardId: id } }, body: { title: null, scene_order } })),
    onSuccess: setStoryboard,
  });
  const s = q.data;
  const editable = canEdit && !!s && isEditable(s);
  return (
    <>
      <Link to="/storyboards" className="mb-3 inline-flex items-center gap-1 text-sm text-neutral-500 hover:text-neutral-800">
        <ArrowLeft className="size-4" aria-hidden="true" /> Storyboards
      </Link>
      <PageHeader
        title={s?.title || s?.description || 'Storyboard'}
        description={
          s && (
            <span className="flex flex-wrap items-center gap-2">
              <Badge tone={sceneTone(s.status)}>{s.status}</Badge>
              <span>{s.scenes.length} scenes · about {formatDuration(num(s.duration_seconds))}</span>
              <span>· {s.settings.aspect_ratio} · {s.settings.image_model}</span>
              <span>· {num(s.total_credits_used)} credits used</span>
            </span>
          )
        }
      />
      {q.isPending && <Skeleton className="h-64" />}
      {q.isError && <ErrorState error={q.error} onRetry={() => q.refetch()} />}
      {s && (
        <div className="space-y-6">
          {s.status === 'generating' && (
            <Alert tone="info" title="Planning">
              Writing the scenes and drawing an image for each; this page updates as they come.
            </Alert>
          )}
          {s.error && <Alert title={s.status === 'failed' ? 'The plan failed' : 'Some of the plan failed'}>{s.error}</Alert>}
          {reorder.isError && <Alert>{errorMessage(reorder.error)}</Alert>}
          <ol className="grid gap-4 md:grid-cols-2 xl:grid-cols-3" aria-label="Scenes">
            {s.scenes.map((scene, i) => (
              <SceneCard
                key={scene.id}
                storyboard={s}
                scene={scene}
                editable={editable}
                onDragStart={() => setDragFrom(i)}
                onDrop={(e) => {
                  e.preventDefault();
                  if (dragFrom !== null && dragFrom !== i) reorder.mutate(moved(s.scenes.map((x) => x.id), dragFrom, i));
                  setDragFrom(null);
                }}
              />
            ))}
          </ol>
          {isBusy(s) && <p className="text-xs text-neutral-500" aria-live="polite">Refreshing while work runs.</p>}
          {canEdit && <RenderPanel storyboard={s} />}
        </div>
      )}
    </>
  );
}
