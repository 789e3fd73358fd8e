import { describe, expect, it } from 'vitest';
import { cronError, describeCron, formatRunTime, scheduleSchema, timeZones } from './cron';

describe('cronError', () => {
  it('accepts five valid fields', () => {
    for (const c of ['* * * * *', '0 10 * * 1-5', '*/15 * * * *', '0 9 1,15 * *', '30 6 * * MON-FRI', '0 0 * JAN SUN']) expect(cronError(c)).toBeNull();
  });
  it('explains what is wrong', () => {
    expect(cronError('0 10 * *')).toMatch(/five fields/);
    expect(cronError('61 * * * *')).toMatch(/minute must be between 0 and 59/);
    expect(cronError('0 25 * * *')).toMatch(/hour/);
    expect(cronError('0 9 ? * *')).toMatch(/day of month/);
  });
});

describe('describeCron', () => {
  it.each([
    ['* * * * *', 'Every minute'],
    ['*/5 * * * *', 'Every 5 minutes'],
    ['15 * * * *', 'Every hour at minute 15'],
    ['0 */6 * * *', 'Every 6 hours at minute 0'],
    ['0 9 * * *', 'Every day at 09:00'],
    ['30 10 * * 1-5', 'Every weekday at 10:30'],
    ['0 8 * * 1', 'Every Monday at 08:00'],
    ['0 8 * * 1,3,5', 'Every Monday, Wednesday and Friday at 08:00'],
    ['0 9 1 * *', 'On the 1st of every month at 09:00'],
    ['0 9 22 * *', 'On the 22nd of every month at 09:00'],
  ])('%s → %s', (cron, text) => expect(describeCron(cron)).toBe(text));

  it('gives up on unusual shapes and invalid input', () => {
    expect(describeCron('0 9 * 1 *')).toBeNull();
    expect(describeCron('nope')).toBeNull();
  });
});

describe('formatRunTime', () => {
  it('reads an instant in the schedule zone', () => {
    expect(formatRunTime('2025-03-03T09:00:00Z', 'UTC')).toBe('Mon, 3 Mar 2025, 09:00');
    expect(formatRunTime('2025-03-03T09:00:00Z', 'Europe/Berlin')).toBe('Mon, 3 Mar 2025, 10:00');
    expect(formatRunTime(null, 'UTC')).toBe('–');
  });
  it('lists UTC first', () => {
    expect(timeZones()[0]).toBe('UTC');
  });
});

describe('scheduleSchema', () => {
  const base = { name: '', workflowId: 'wf_1', cron: '0 10 * * 1-5', timezone: 'UTC', enabled: true, maxCostUsd: '', vars: [] };
  it('accepts a valid schedule', () => expect(scheduleSchema.safeParse(base).success).toBe(true));
  it('puts cron, workflow and budget problems on their fields', () => {
    const r = scheduleSchema.safeParse({ ...base, workflowId: '', cron: '0 10', maxCostUsd: '-1' });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['cron', 'maxCostUsd', 'workflowId']);
  });
});
