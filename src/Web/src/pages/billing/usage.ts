// Usage data for the charts: every day of the range (days without usage are zero), one series per resource.
import { num, type Schemas } from '@/api/types';
import { formatNumber, formatUsd } from '@/lib/format';

export type UsageDay = Schemas['UsageDay'];
export type Resource = 'cost_usd' | 'llm_tokens' | 'kai_credits' | 'render_seconds';
export type ChartPoint = { date: string; label: string } & Record<Resource, number>;

export const RESOURCES: { key: Resource; label: string; color: string; format: (v: number) => string }[] = [
  { key: 'cost_usd', label: 'Cost', color: '#4f46e5', format: (v) => formatUsd(v, 2) },
  { key: 'render_seconds', label: 'Render time', color: '#0891b2', format: (v) => `${formatNumber(v / 60, 1)} min` },
  { key: 'llm_tokens', label: 'LLM tokens', color: '#d97706', format: (v) => formatNumber(v, 0) },
  { key: 'kai_credits', label: 'AI media credits', color: '#db2777', format: (v) => formatNumber(v, 0) },
];

function parseDate(s: string): Date {
  const [y, m, d] = s.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

export function isoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** One point per day from `from` to `to` (inclusive, UTC dates), zero where the API has no row. */
export function fillDays(from: string, to: string, days: UsageDay[]): ChartPoint[] {
  const byDate = new Map(days.map((d) => [d.date, d]));
  const out: ChartPoint[] = [];
  const end = parseDate(to).getTime();
  for (let t = parseDate(from).getTime(), i = 0; t <= end && i < 400; t += 86_400_000, i++) {
    const date = isoDate(new Date(t));
    const row = byDate.get(date);
    out.push({
      date,
      label: new Date(t).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' }),
      cost_usd: num(row?.cost_usd),
      llm_tokens: num(row?.llm_tokens),
      kai_credits: num(row?.kai_credits),
      render_seconds: num(row?.render_seconds),
    });
  }
  return out;
}

/** The ranges the page offers, as the API's from/to (UTC dates); "month" leaves both out (the API's default: this month). */
export function rangeOf(range: string, now = new Date()): { from?: string; to?: string } {
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const daysBack = (n: number) => isoDate(new Date(today.getTime() - n * 86_400_000));
  switch (range) {
    case '7d':
      return { from: daysBack(6), to: isoDate(today) };
    case '30d':
      return { from: daysBack(29), to: isoDate(today) };
    case '90d':
      return { from: daysBack(89), to: isoDate(today) };
    case 'last-month': {
      const start = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - 1, 1));
      const end = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 0));
      return { from: isoDate(start), to: isoDate(end) };
    }
    default:
      return {};
  }
}

export const RANGES = [
  { value: 'month', label: 'This month' },
  { value: 'last-month', label: 'Last month' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
];

/** Quota resources in words and units. */
export function formatQuota(resource: string, v: number): string {
  switch (resource) {
    case 'storage_bytes':
      return `${formatNumber(v / 1e9, 2)} GB`;
    case 'render_seconds':
      return `${formatNumber(v / 60, 1)} min`;
    case 'cost_usd':
      return formatUsd(v, 2);
    default:
      return formatNumber(v, 0);
  }
}
