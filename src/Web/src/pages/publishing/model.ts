// What the publishing pages compute: platform names, status tones, the publish form's per-account fields from the
// account's options (GET /v1/integrations/{id}/options), the request body, API field errors back to form fields, date
// ranges and compact counters. No React here: model.test.ts covers it.
import type { Counters, CreatorOptions, Integration, PublishBody, PublishTarget } from '@/api/types';
import { num } from '@/api/types';

export const PLATFORMS = ['youtube', 'tiktok', 'instagram'] as const;
export type PlatformName = (typeof PLATFORMS)[number];

const NAMES: Record<string, string> = { youtube: 'YouTube', tiktok: 'TikTok', instagram: 'Instagram' };
export function platformName(platform: string): string {
  return NAMES[platform] ?? platform.charAt(0).toUpperCase() + platform.slice(1);
}

/** "creator" or "@creator" → "@creator". */
export function handleText(handle: string): string {
  return handle.startsWith('@') ? handle : `@${handle}`;
}

/** Privacy levels as people read them (the API answers each platform's own values). */
const PRIVACY_LABELS: Record<string, string> = {
  public: 'Public',
  unlisted: 'Unlisted',
  private: 'Private',
  PUBLIC_TO_EVERYONE: 'Everyone',
  MUTUAL_FOLLOW_FRIENDS: 'Friends',
  FOLLOWER_OF_CREATOR: 'Followers',
  SELF_ONLY: 'Only me',
};
export function privacyLabel(value: string): string {
  return PRIVACY_LABELS[value] ?? value;
}

export const MODE_LABELS: Record<string, string> = { direct: 'Post directly', draft: 'Send to drafts (inbox)' };

export type Tone = 'neutral' | 'accent' | 'success' | 'warning' | 'danger';

/** A publication's or a target's status → badge tone. */
export function publishTone(status: string): Tone {
  switch (status) {
    case 'succeeded':
    case 'published':
    case 'active':
      return 'success';
    case 'failed':
      return 'danger';
    case 'partially_failed':
    case 'retry_later':
    case 'reconnect_required':
    case 'cancelled':
      return 'warning';
    case 'publishing':
    case 'uploading':
    case 'processing':
      return 'accent';
    default:
      return 'neutral';
  }
}

const RUNNING_PUBLICATION = ['queued', 'publishing'];
const RUNNING_TARGET = ['queued', 'uploading', 'processing', 'retry_later'];
export function isPublicationRunning(status: string): boolean {
  return RUNNING_PUBLICATION.includes(status);
}
export function isTargetRunning(status: string): boolean {
  return RUNNING_TARGET.includes(status);
}

/** "retry_later" → "retry later". */
export function statusText(status: string): string {
  return status.replace(/_/g, ' ');
}

/** What the form offers one account, from its options: only the privacy levels and modes the platform allows now. */
export type AccountFields = {
  privacy: string[];
  defaultPrivacy: string;
  modes: string[];
  defaultMode: string | null;
  schedule: boolean;
  madeForKids: boolean;
  notice: string | null;
  maxDurationSeconds: number;
};

/** The privacy to preselect: the most public the account allows (people who want less pick it). */
const PREFERENCE = ['public', 'PUBLIC_TO_EVERYONE', 'unlisted', 'FOLLOWER_OF_CREATOR', 'MUTUAL_FOLLOW_FRIENDS', 'private', 'SELF_ONLY'];

export function accountFields(platform: string, options: CreatorOptions): AccountFields {
  const privacy = [...options.privacy_options];
  const defaultPrivacy = PREFERENCE.find((p) => privacy.includes(p)) ?? privacy[0] ?? '';
  const modes = platform === 'tiktok' ? [...options.modes] : [];
  return {
    privacy,
    defaultPrivacy,
    modes,
    defaultMode: modes.length > 0 ? (modes.includes('direct') ? 'direct' : modes[0]) : null,
    schedule: platform === 'youtube',
    madeForKids: platform === 'youtube',
    notice: options.notice ?? null,
    maxDurationSeconds: num(options.max_duration_seconds),
  };
}

/** "#one, two  #three" → ["one", "two", "three"]. */
export function parseHashtags(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((h) => h.replace(/^#+/, '').trim())
    .filter((h) => h.length > 0);
}

export function formatHashtags(tags: readonly string[]): string {
  return tags.map((t) => `#${t.replace(/^#+/, '')}`).join(' ');
}

/** One account's values in the form; empty text means "the shared value". */
export type TargetValues = {
  integrationId: string;
  platform: string;
  title: string;
  description: string;
  hashtags: string;
  privacy: string;
  mode: string | null;
  publishAt: string; // <input type="datetime-local"> value, local time; '' = now
  madeForKids: boolean;
};

export type SharedValues = { title: string; description: string; hashtags: string; aiGenerated: boolean };

/** datetime-local ("2026-12-24T18:00") → ISO 8601 in UTC; '' → null. */
export function localToIso(local: string): string | null {
  if (!local) return null;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** The body of POST /v1/jobs/{jobId}/publish: shared values as the defaults, each account's own where it has them. */
export function publishBody(shared: SharedValues, targets: TargetValues[]): PublishBody {
  return {
    title: shared.title.trim(),
    description: shared.description.trim(),
    hashtags: parseHashtags(shared.hashtags),
    privacy: null,
    ai_generated: shared.aiGenerated,
    targets: targets.map(
      (t): PublishTarget => ({
        integration_id: t.integrationId,
        title: t.title.trim() || null,
        description: t.description.trim() || null,
        hashtags: t.hashtags.trim() ? parseHashtags(t.hashtags) : null,
        privacy: t.privacy || null,
        publish_at: t.platform === 'youtube' ? localToIso(t.publishAt) : null,
        ai_generated: null,
        made_for_kids: t.platform === 'youtube' ? t.madeForKids : null,
        mode: t.platform === 'tiktok' ? t.mode : null,
      }),
    ),
  };
}

/**
 * The API's errors[].field of a publish request, placed on the form: "title" → shared, "targets[1].privacy" → the
 * second account's privacy, "targets[0].hashtags[2]" → its hashtags, "targets[0]" → the account as a whole.
 */
export type PlacedErrors = { shared: Record<string, string>; targets: Record<string, string>[]; other: string[] };

export function placeErrors(errors: Record<string, string>, targetCount: number): PlacedErrors {
  const out: PlacedErrors = { shared: {}, targets: Array.from({ length: targetCount }, () => ({})), other: [] };
  for (const [field, message] of Object.entries(errors)) {
    const m = /^targets\[(\d+)\](?:\.([a-z_]+))?/.exec(field);
    if (m && Number(m[1]) < targetCount) {
      const key = m[2] ?? 'account';
      const bag = out.targets[Number(m[1])];
      if (!(key in bag)) bag[key] = message;
    } else if (/^(title|description|hashtags|ai_generated|privacy)(\[\d+\])?$/.test(field)) {
      const key = field.replace(/\[\d+\]$/, '');
      if (!(key in out.shared)) out.shared[key] = message;
    } else {
      out.other.push(field ? `${field}: ${message}` : message);
    }
  }
  return out;
}

/** Accounts that can publish first, then by platform order. */
export function sortAccounts(list: Integration[]): Integration[] {
  return [...list].sort(
    (a, b) =>
      Number(a.status !== 'active') - Number(b.status !== 'active') ||
      PLATFORMS.indexOf(a.platform as PlatformName) - PLATFORMS.indexOf(b.platform as PlatformName) ||
      a.account.name.localeCompare(b.account.name),
  );
}

/** The callback's redirect (?connected=… or ?integration_error=…) as a message to show once. */
export function connectResult(search: URLSearchParams): { tone: 'success' | 'danger'; title: string; text: string } | null {
  const connected = search.get('connected');
  if (connected) return { tone: 'success', title: `${platformName(connected)} connected`, text: 'The account can now be published to.' };
  const error = search.get('integration_error');
  if (error) {
    const platform = search.get('platform');
    return { tone: 'danger', title: platform ? `${platformName(platform)} was not connected` : 'The account was not connected', text: error };
  }
  return null;
}

// Analytics.

export const RANGES = [7, 30, 90] as const;
export type RangeDays = (typeof RANGES)[number];

/** The last `days` days up to now: from/to as ISO 8601. */
export function lastDays(days: number, now = new Date()): { from: string; to: string } {
  const from = new Date(now.getTime() - days * 86_400_000);
  return { from: from.toISOString(), to: now.toISOString() };
}

export const COUNTERS = ['views', 'likes', 'comments', 'shares'] as const;
export type CounterName = (typeof COUNTERS)[number];

export function counters(c: Counters | null | undefined): Record<CounterName, number> {
  return { views: num(c?.views), likes: num(c?.likes), comments: num(c?.comments), shares: num(c?.shares) };
}

/** 950 → "950", 1234 → "1.2K", 1_500_000 → "1.5M". */
export function compact(value: number): string {
  return new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 }).format(value);
}

/** "2026-12-07" → "Dec 7" (the date as the API wrote it, not shifted by the time zone). */
export function dayLabel(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(date);
  if (!m) return date;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
