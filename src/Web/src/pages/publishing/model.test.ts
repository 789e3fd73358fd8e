import { describe, expect, it } from 'vitest';
import {
  accountFields,
  compact,
  connectResult,
  counters,
  dayLabel,
  formatHashtags,
  lastDays,
  parseHashtags,
  placeErrors,
  privacyLabel,
  publishBody,
  publishTone,
  type TargetValues,
} from './model';

const options = (privacy: string[], modes: string[] = ['direct'], notice: string | null = null) => ({
  privacy_options: privacy,
  max_duration_seconds: '600',
  modes,
  comments_disabled: false,
  duet_disabled: false,
  stitch_disabled: false,
  notice,
});

describe('account fields from the options', () => {
  it('offers only what the account allows, the most public first', () => {
    const f = accountFields('youtube', options(['public', 'unlisted', 'private']));
    expect(f.privacy).toEqual(['public', 'unlisted', 'private']);
    expect(f.defaultPrivacy).toBe('public');
    expect(f.schedule).toBe(true);
    expect(f.madeForKids).toBe(true);
    expect(f.modes).toEqual([]);
    expect(f.maxDurationSeconds).toBe(600);
  });
  it('keeps an unaudited TikTok app to SELF_ONLY, with its notice and modes', () => {
    const f = accountFields('tiktok', options(['SELF_ONLY'], ['direct', 'draft'], 'Unaudited apps post privately'));
    expect(f.privacy).toEqual(['SELF_ONLY']);
    expect(f.defaultPrivacy).toBe('SELF_ONLY');
    expect(f.modes).toEqual(['direct', 'draft']);
    expect(f.defaultMode).toBe('direct');
    expect(f.notice).toBe('Unaudited apps post privately');
    expect(f.schedule).toBe(false);
    expect(privacyLabel('SELF_ONLY')).toBe('Only me');
  });
  it('prefers a draft when that is the only mode', () => {
    expect(accountFields('tiktok', options(['SELF_ONLY'], ['draft'])).defaultMode).toBe('draft');
    expect(accountFields('instagram', options(['public'], ['direct'])).defaultMode).toBeNull();
  });
});

describe('hashtags', () => {
  it('parses and formats', () => {
    expect(parseHashtags('#one, two  ##three\n')).toEqual(['one', 'two', 'three']);
    expect(parseHashtags('  ')).toEqual([]);
    expect(formatHashtags(['a', '#b'])).toBe('#a #b');
  });
});

describe('the publish body', () => {
  const base: TargetValues = { integrationId: 'int_1', platform: 'youtube', title: '', description: '', hashtags: '', privacy: 'public', mode: null, publishAt: '', madeForKids: false };
  it('sends the shared values as defaults and per-account values where given', () => {
    const body = publishBody({ title: ' Sky ', description: 'Why blue', hashtags: '#sky #science', aiGenerated: true }, [
      base,
      { ...base, integrationId: 'int_2', platform: 'tiktok', title: 'Sky!', hashtags: '#fyp', privacy: 'SELF_ONLY', mode: 'draft', publishAt: '2030-01-01T10:00', madeForKids: true },
    ]);
    expect(body).toMatchObject({ title: 'Sky', description: 'Why blue', hashtags: ['sky', 'science'], ai_generated: true });
    expect(body.targets![0]).toMatchObject({ integration_id: 'int_1', title: null, hashtags: null, privacy: 'public', made_for_kids: false, mode: null, publish_at: null });
    // Only YouTube schedules and has made-for-kids; only TikTok has modes.
    expect(body.targets![1]).toMatchObject({ integration_id: 'int_2', title: 'Sky!', hashtags: ['fyp'], privacy: 'SELF_ONLY', mode: 'draft', publish_at: null, made_for_kids: null });
  });
  it('turns a YouTube schedule into UTC', () => {
    const body = publishBody({ title: 't', description: '', hashtags: '', aiGenerated: false }, [{ ...base, publishAt: '2030-01-01T10:00' }]);
    expect(body.targets![0].publish_at).toBe(new Date('2030-01-01T10:00').toISOString());
    expect(body.ai_generated).toBe(false);
  });
});

describe('API field errors on the form', () => {
  it('places targets[i].field, shared fields and the rest', () => {
    const placed = placeErrors(
      { 'targets[1].privacy': 'only SELF_ONLY', 'targets[0].hashtags[2]': 'letters only', 'targets[0]': 'too long', title: 'is required', targets: 'names an account twice', 'targets[9].mode': 'x' },
      2,
    );
    expect(placed.targets[1]).toEqual({ privacy: 'only SELF_ONLY' });
    expect(placed.targets[0]).toEqual({ hashtags: 'letters only', account: 'too long' });
    expect(placed.shared).toEqual({ title: 'is required' });
    expect(placed.other).toEqual(['targets: names an account twice', 'targets[9].mode: x']);
  });
});

describe('status and numbers', () => {
  it('tones', () => {
    expect(publishTone('published')).toBe('success');
    expect(publishTone('partially_failed')).toBe('warning');
    expect(publishTone('retry_later')).toBe('warning');
    expect(publishTone('failed')).toBe('danger');
    expect(publishTone('uploading')).toBe('accent');
    expect(publishTone('queued')).toBe('neutral');
  });
  it('formats counters compactly', () => {
    expect(compact(950)).toBe('950');
    expect(compact(1234)).toBe('1.2K');
    expect(compact(1_500_000)).toBe('1.5M');
    expect(counters({ views: '12', likes: 3, comments: '', shares: 0 })).toEqual({ views: 12, likes: 3, comments: 0, shares: 0 });
    expect(counters(undefined)).toEqual({ views: 0, likes: 0, comments: 0, shares: 0 });
  });
  it('labels days as written and computes ranges', () => {
    expect(dayLabel('2026-12-07')).toBe('Dec 7');
    const now = new Date('2026-12-07T12:00:00Z');
    expect(lastDays(7, now)).toEqual({ from: '2026-11-30T12:00:00.000Z', to: '2026-12-07T12:00:00.000Z' });
  });
});

describe('the connect callback', () => {
  it('reads ?connected and ?integration_error', () => {
    expect(connectResult(new URLSearchParams('connected=tiktok&integration_id=int_1'))).toMatchObject({ tone: 'success', title: 'TikTok connected' });
    expect(connectResult(new URLSearchParams('integration_error=access_denied&platform=youtube'))).toMatchObject({
      tone: 'danger',
      title: 'YouTube was not connected',
      text: 'access_denied',
    });
    expect(connectResult(new URLSearchParams(''))).toBeNull();
  });
});
