import { describe, expect, it } from 'vitest';
import { apiKeySchema, assignableRoles, expiresAt, formatElapsed, invitableRoles, inviteSchema, listFieldMap, prettyJson, webhookBody, webhookSchema } from './model';

describe('roles', () => {
  it('lets admins and owners invite, never as owner or above themselves', () => {
    expect(invitableRoles('viewer')).toEqual([]);
    expect(invitableRoles('editor')).toEqual([]);
    expect(invitableRoles('admin')).toEqual(['admin', 'editor', 'viewer']);
    expect(invitableRoles('owner')).toEqual(['admin', 'editor', 'viewer']);
  });
  it('keeps the owner role to owners', () => {
    expect(assignableRoles('admin', 'editor')).toEqual(['admin', 'editor', 'viewer']);
    expect(assignableRoles('admin', 'owner')).toEqual([]);
    expect(assignableRoles('owner', 'editor')).toEqual(['owner', 'admin', 'editor', 'viewer']);
    expect(assignableRoles('editor', 'viewer')).toEqual([]);
  });
});

describe('schemas', () => {
  it('checks an invitation', () => {
    expect(inviteSchema.safeParse({ email: 'a@example.com', role: 'editor' }).success).toBe(true);
    expect(inviteSchema.safeParse({ email: 'nope', role: 'editor' }).error!.issues[0].path).toEqual(['email']);
    expect(inviteSchema.safeParse({ email: 'a@example.com', role: 'owner' }).success).toBe(false);
  });
  it('wants a name and a scope for a key', () => {
    const r = apiKeySchema.safeParse({ name: ' ', scopes: [], expiresInDays: '' });
    expect(r.error!.issues.map((i) => i.path[0]).sort()).toEqual(['name', 'scopes']);
  });
  it('wants an http(s) URL and some events for a webhook', () => {
    const base = { url: 'https://example.com/h', description: '', allEvents: false, events: ['job.completed'], enabled: true };
    expect(webhookSchema.safeParse(base).success).toBe(true);
    expect(webhookSchema.safeParse({ ...base, url: 'ftp://x' }).success).toBe(false);
    expect(webhookSchema.safeParse({ ...base, events: [] }).error!.issues[0].path).toEqual(['events']);
    expect(webhookSchema.safeParse({ ...base, events: [], allEvents: true }).success).toBe(true);
  });
  it('sends * for all events and null for no description', () => {
    expect(webhookBody({ url: ' https://x.io ', description: ' ', allEvents: true, events: ['job.failed'], enabled: true })).toEqual({
      url: 'https://x.io',
      description: null,
      events: ['*'],
      enabled: true,
    });
  });
});

describe('helpers', () => {
  it('computes an expiry', () => {
    expect(expiresAt('', new Date('2025-01-01T00:00:00Z'))).toBeNull();
    expect(expiresAt('30', new Date('2025-01-01T00:00:00Z'))).toBe('2025-01-31T00:00:00.000Z');
  });
  it('maps list item errors to the list field', () => {
    expect(listFieldMap(['scopes'], [{ field: 'scopes[1]' }, { field: 'name' }])).toEqual({ 'scopes[1]': 'scopes' });
  });
  it('formats timings and payloads', () => {
    expect(formatElapsed('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.250Z')).toBe('250 ms');
    expect(formatElapsed('2025-01-01T00:00:00Z', '2025-01-01T00:00:03.400Z')).toBe('3.4 s');
    expect(formatElapsed(null, '2025-01-01T00:00:00Z')).toBe('–');
    expect(prettyJson('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(prettyJson('not json')).toBe('not json');
    expect(prettyJson({ b: [1] })).toBe('{\n  "b": [\n    1\n  ]\n}');
  });
});
