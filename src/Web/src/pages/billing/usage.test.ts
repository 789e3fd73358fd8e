import { describe, expect, it } from 'vitest';
import { fillDays, formatQuota, rangeOf } from './usage';

describe('fillDays', () => {
  it('gives every day of the range, zero where there is no row, numbers from strings', () => {
    const points = fillDays('2025-02-27', '2025-03-02', [
      { date: '2025-02-28', llm_tokens: '1200', kai_credits: 4, render_seconds: 90.5, cost_usd: '0.42' },
      { date: '2025-03-02', llm_tokens: 10, kai_credits: 0, render_seconds: 0, cost_usd: 0.01 },
    ]);
    expect(points.map((p) => p.date)).toEqual(['2025-02-27', '2025-02-28', '2025-03-01', '2025-03-02']);
    expect(points[1]).toMatchObject({ label: 'Feb 28', llm_tokens: 1200, kai_credits: 4, render_seconds: 90.5, cost_usd: 0.42 });
    expect(points[2].cost_usd).toBe(0);
  });
  it('is empty when to is before from', () => expect(fillDays('2025-03-02', '2025-03-01', [])).toEqual([]));
});

describe('rangeOf', () => {
  const now = new Date('2025-03-15T18:00:00Z');
  it('leaves this month to the API', () => expect(rangeOf('month', now)).toEqual({}));
  it('counts the last N days including today', () => expect(rangeOf('7d', now)).toEqual({ from: '2025-03-09', to: '2025-03-15' }));
  it('knows last month', () => expect(rangeOf('last-month', now)).toEqual({ from: '2025-02-01', to: '2025-02-28' }));
});

describe('formatQuota', () => {
  it('writes units', () => {
    expect(formatQuota('render_seconds', 150)).toBe('2.5 min');
    expect(formatQuota('storage_bytes', 2.5e9)).toBe('2.5 GB');
    expect(formatQuota('llm_tokens', 12345)).toBe('12,345');
  });
});
