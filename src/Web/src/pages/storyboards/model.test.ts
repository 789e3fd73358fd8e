import { describe, expect, it } from 'vitest';
import { canRender, isBusy, isEditable, moved } from './model';

const scene = (status: string, image: string | null = 'ast_1') => ({ status, image_asset_id: image }) as never;

describe('storyboard rules', () => {
  it('is busy while the plan, a render or a scene image runs', () => {
    expect(isBusy({ status: 'generating', scenes: [] })).toBe(true);
    expect(isBusy({ status: 'ready', scenes: [scene('ready'), scene('generating')] })).toBe(true);
    expect(isBusy({ status: 'ready', scenes: [scene('ready')] })).toBe(false);
    expect(isEditable({ status: 'rendering' })).toBe(false);
  });

  it('moves a scene to another position', () => {
    expect(moved(['a', 'b', 'c'], 2, 0)).toEqual(['c', 'a', 'b']);
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moved(['a', 'b'], 1, 5)).toEqual(['a', 'b']);
  });

  it('renders only when every scene has its image', () => {
    expect(canRender({ status: 'ready', scenes: [scene('ready'), scene('ready')] })).toBe(true);
    expect(canRender({ status: 'ready', scenes: [scene('ready'), scene('pending', null)] })).toBe(false);
    expect(canRender({ status: 'rendering', scenes: [scene('ready')] })).toBe(false);
  });
});
