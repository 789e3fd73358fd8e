// Cron helpers for the schedule form: a quick check of the five fields (the API has the last word and answers
// errors[].field "cron"), a plain-English reading of common expressions, and run times in the schedule's zone.
import { z } from 'zod';

const FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$|^[A-Za-z]{3}(-[A-Za-z]{3})?(,[A-Za-z]{3}(-[A-Za-z]{3})?)*$/;
const NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];
const RANGES: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];

/** Why an expression is not five valid cron fields, or null. */
export function cronError(expr: string): string | null {
  const parts = expr.trim().split(/\s+/).filter(Boolean);
  if (parts.length !== 5) return 'Use five fields: minute hour day-of-month month day-of-week';
  for (let i = 0; i < 5; i++) {
    if (!FIELD.test(parts[i])) return `The ${NAMES[i]} field “${parts[i]}” is not valid`;
    const [lo, hi] = RANGES[i];
    for (const n of parts[i].match(/\d+/g) ?? []) {
      const v = Number(n);
      const isStep = parts[i].includes(`/${n}`);
      if (!isStep && (v < lo || v > hi)) return `The ${NAMES[i]} must be between ${lo} and ${hi}`;
    }
  }
  return null;
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

function hhmm(h: string, m: string) {
  return `${h.padStart(2, '0')}:${m.padStart(2, '0')}`;
}

function ordinal(n: number) {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] ?? s[v] ?? s[0]}`;
}

/** "0 9 * * 1-5" → "Every weekday at 09:00"; null when the expression is not one of the common shapes. */
export function describeCron(expr: string): string | null {
  if (cronError(expr)) return null;
  const [m, h, dom, mon, dow] = expr.trim().split(/\s+/);
  const num = /^\d+$/;
  if (mon !== '*') return null;
  if (m === '*' && h === '*' && dom === '*' && dow === '*') return 'Every minute';
  const everyMin = /^\*\/(\d+)$/.exec(m);
  if (everyMin && h === '*' && dom === '*' && dow === '*') return `Every ${everyMin[1]} minutes`;
  if (num.test(m) && h === '*' && dom === '*' && dow === '*') return `Every hour at minute ${m}`;
  const everyHour = /^\*\/(\d+)$/.exec(h);
  if (num.test(m) && everyHour && dom === '*' && dow === '*') return `Every ${everyHour[1]} hours at minute ${m}`;
  if (!num.test(m) || !num.test(h)) return null;
  const at = `at ${hhmm(h, m)}`;
  if (dom === '*' && dow === '*') return `Every day ${at}`;
  if (dom === '*' && dow === '1-5') return `Every weekday ${at}`;
  if (dom === '*' && (dow === '0,6' || dow === '6,0')) return `Every weekend day ${at}`;
  if (dom === '*' && /^[0-7](,[0-7])*$/.test(dow)) {
    const days = dow.split(',').map((d) => DAYS[Number(d)]);
    return `Every ${days.length > 1 ? `${days.slice(0, -1).join(', ')} and ${days[days.length - 1]}` : days[0]} ${at}`;
  }
  if (num.test(dom) && dow === '*') return `On the ${ordinal(Number(dom))} of every month ${at}`;
  return null;
}

export const CRON_PRESETS = [
  { cron: '0 9 * * *', label: 'Daily 09:00' },
  { cron: '0 10 * * 1-5', label: 'Weekdays 10:00' },
  { cron: '0 8 * * 1', label: 'Mondays 08:00' },
  { cron: '0 */6 * * *', label: 'Every 6 hours' },
  { cron: '0 9 1 * *', label: 'Monthly, 1st 09:00' },
];

/** A run time as read in the schedule's time zone: "Mon, 3 Mar 2025, 09:00". */
export function formatRunTime(iso: unknown, timeZone: string): string {
  if (typeof iso !== 'string') return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '–';
  try {
    return new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  } catch {
    return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  }
}

/** The IANA zones this browser knows, UTC first. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return ['UTC', ...zones.filter((z) => z !== 'UTC')];
}

export function localTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

export const scheduleSchema = z
  .object({
    name: z.string().max(200, 'At most 200 characters'),
    workflowId: z.string().min(1, 'Pick a workflow'),
    cron: z.string().trim().min(1, 'Enter a cron expression'),
    timezone: z.string().min(1, 'Pick a time zone'),
    enabled: z.boolean(),
    maxCostUsd: z.string().refine((s) => s.trim() === '' || (Number.isFinite(Number(s)) && Number(s) > 0), 'Enter an amount in dollars, or leave it empty'),
    vars: z.array(z.union([z.string(), z.boolean()])),
  })
  .superRefine((v, ctx) => {
    const e = cronError(v.cron);
    if (e) ctx.addIssue({ code: 'custom', path: ['cron'], message: e });
  });
export type ScheduleValues = z.infer<typeof scheduleSchema>;

/** The API's field names → the form's. */
export const SCHEDULE_FIELD_MAP = {
  workflow_id: 'workflowId',
  'budget.max_cost_usd': 'maxCostUsd',
  max_cost_usd: 'maxCostUsd',
} as const;
