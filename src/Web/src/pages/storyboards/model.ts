// Pure rules of the storyboard pages (tested in model.test.ts).
import type { components } from '@/api/schema';

export type Storyboard = components['schemas']['StoryboardDto'];
export type Scene = components['schemas']['StoryboardSceneDto'];

/** Work is under way: the plan, a render, or a scene's image. The pages poll while it is. */
export function isBusy(s: Pick<Storyboard, 'status' | 'scenes'>): boolean {
  return s.status === 'generating' || s.status === 'rendering' || s.scenes.some((x) => x.status === 'generating');
}

/** Scene edits wait for the plan and renders (the API answers 409 meanwhile). */
export function isEditable(s: Pick<Storyboard, 'status'>): boolean {
  return s.status === 'ready' || s.status === 'failed' || s.status === 'draft';
}

export function sceneTone(status: string): 'neutral' | 'accent' | 'success' | 'warning' | 'danger' {
  return status === 'ready' || status === 'completed' ? 'success' : status === 'generating' || status === 'rendering' || status === 'processing' ? 'accent' : status === 'failed' ? 'danger' : 'neutral';
}

/** The scene ids after moving the scene at `from` to `to` (0-based positions). */
export function moved(ids: string[], from: number, to: number): string[] {
  if (from === to || from < 0 || to < 0 || from >= ids.length || to >= ids.length) return ids;
  const next = [...ids];
  const [id] = next.splice(from, 1);
  next.splice(to, 0, id);
  return next;
}

/** Scenes every one with an image: the render button's rule (the API answers 409 SCENES_NOT_READY otherwise). */
export function canRender(s: Pick<Storyboard, 'status' | 'scenes'>): boolean {
  return isEditable(s) && s.scenes.length > 0 && s.scenes.every((x) => x.status === 'ready' && !!x.image_asset_id);
}
