// What the settings pages know about the API that its OpenAPI document does not list: roles, API key scopes and
// webhook events (mirrors of Domain/Identity/OrgRole.cs and Domain/Webhooks/Webhook.cs; the API validates them and
// answers errors[].field when they drift), plus the forms' schemas.
import { z } from 'zod';

export type Role = 'owner' | 'admin' | 'editor' | 'viewer';
export const ROLES: Role[] = ['owner', 'admin', 'editor', 'viewer'];
const RANK: Record<string, number> = { viewer: 0, editor: 1, admin: 2, owner: 3 };

export const ROLE_HINTS: Record<Role, string> = {
  owner: 'Everything, including billing and owners',
  admin: 'Members, webhooks and billing',
  editor: 'Create videos, workflows and schedules',
  viewer: 'Read only',
};

export function rank(role: string | undefined | null): number {
  return role && role in RANK ? RANK[role] : -1;
}

/** Roles a caller may invite as: admins and owners invite, never above themselves, never as owner. */
export function invitableRoles(callerRole: string | undefined): Role[] {
  if (rank(callerRole) < RANK.admin) return [];
  return ROLES.filter((r) => r !== 'owner' && rank(r) <= rank(callerRole));
}

/** Roles a caller may give a member who has `memberRole`: only owners touch the owner role (theirs or anyone's). */
export function assignableRoles(callerRole: string | undefined, memberRole: string): Role[] {
  if (rank(callerRole) < RANK.admin) return [];
  if (memberRole === 'owner' && callerRole !== 'owner') return [];
  return ROLES.filter((r) => r !== 'owner' || callerRole === 'owner');
}

export const SCOPES = [
  { value: 'workflows:read', hint: 'Read workflows, templates, jobs and schedules' },
  { value: 'workflows:write', hint: 'Create and change workflows, templates, schedules and webhooks' },
  { value: 'jobs:execute', hint: 'Start, cancel and retry jobs' },
  { value: 'assets:upload', hint: 'Upload assets' },
  { value: 'billing:view', hint: 'Read usage, quota and invoices' },
] as const;

export const WEBHOOK_EVENTS = [
  'job.started',
  'job.completed',
  'job.failed',
  'job.cancelled',
  'workflow.run.started',
  'workflow.run.finished',
  'render.succeeded',
  'render.failed',
  'publication.succeeded',
  'publication.failed',
] as const;
/** Subscribes to every event, including ones added later. */
export const ALL_EVENTS = '*';

export const inviteSchema = z.object({
  email: z.string().trim().min(1, 'Enter an email address').max(254).email('Enter a valid email address'),
  role: z.enum(['admin', 'editor', 'viewer'], { message: 'Pick a role' }),
});
export type InviteValues = z.infer<typeof inviteSchema>;

export const EXPIRIES = [
  { value: '', label: 'Never' },
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: '365', label: 'In a year' },
] as const;

export const apiKeySchema = z.object({
  name: z.string().trim().min(1, 'Name the key').max(100, 'At most 100 characters'),
  scopes: z.array(z.string()).min(1, 'Pick at least one scope'),
  expiresInDays: z.string(),
});
export type ApiKeyValues = z.infer<typeof apiKeySchema>;

/** The key's expiry as the API wants it (an ISO instant), or null for none. */
export function expiresAt(days: string, now = new Date()): string | null {
  const n = Number(days);
  if (!days || !Number.isFinite(n) || n <= 0) return null;
  return new Date(now.getTime() + n * 86_400_000).toISOString();
}

export const webhookSchema = z
  .object({
    url: z
      .string()
      .trim()
      .min(1, 'Enter the URL that receives events')
      .refine((s) => {
        try {
          const u = new URL(s);
          return u.protocol === 'https:' || u.protocol === 'http:';
        } catch {
          return false;
        }
      }, 'Enter an http(s) URL'),
    description: z.string().max(500, 'At most 500 characters'),
    allEvents: z.boolean(),
    events: z.array(z.string()),
    enabled: z.boolean(),
  })
  .superRefine((v, ctx) => {
    if (!v.allEvents && v.events.length === 0) ctx.addIssue({ code: 'custom', path: ['events'], message: 'Pick at least one event, or all events' });
  });
export type WebhookValues = z.infer<typeof webhookSchema>;

/** The request body of a webhook form: `*` when all events are wanted. */
export function webhookBody(v: WebhookValues) {
  return {
    url: v.url.trim(),
    description: v.description.trim() || null,
    events: v.allEvents ? [ALL_EVENTS] : v.events,
    enabled: v.enabled,
  };
}

/** "scopes[2]" → "scopes", "events[0]" → "events": the API names list items, the forms name the list. */
export function listFieldMap<T extends string>(fields: readonly T[], errors: { field?: string }[] | undefined): Record<string, T> {
  const map: Record<string, T> = {};
  for (const e of errors ?? []) {
    const base = e.field?.replace(/\[\d+\]$/, '');
    const match = fields.find((f) => f === base);
    if (e.field && match) map[e.field] = match;
  }
  return map;
}

/** Milliseconds between two instants as "120 ms" / "3.4 s" / "2 min", or "–". */
export function formatElapsed(from: unknown, to: unknown): string {
  if (typeof from !== 'string' || typeof to !== 'string') return '–';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A delivery payload or response body, pretty-printed when it is JSON. */
export function prettyJson(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') {
    try {
      return JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      return value;
    }
  }
  return JSON.stringify(value, null, 2);
}
