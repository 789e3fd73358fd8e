export function formatUsd(value: number, digits?: number): string {
  const d = digits ?? (value !== 0 && Math.abs(value) < 0.1 ? 4 : 2);
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: d, maximumFractionDigits: d }).format(value);
}

export function formatNumber(value: number, maxDigits = 1): string {
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: maxDigits }).format(value);
}

/** 75 → "1:15", 3700 → "1:01:40". */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDateTime(iso: unknown): string {
  if (typeof iso !== 'string' || !iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '–' : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function timeAgo(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string' || !iso) return '–';
  const diff = (now - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(diff)) return '–';
  if (diff < 45) return 'just now';
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  if (diff < 3600) return rtf.format(-Math.round(diff / 60), 'minute');
  if (diff < 86400) return rtf.format(-Math.round(diff / 3600), 'hour');
  return rtf.format(-Math.round(diff / 86400), 'day');
}

export const FINISHED = ['completed', 'failed', 'cancelled'];
export function isFinished(status: string): boolean {
  return FINISHED.includes(status);
}

export function statusTone(status: string): 'neutral' | 'accent' | 'success' | 'warning' | 'danger' {
  switch (status) {
    case 'completed':
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'danger';
    case 'processing':
    case 'running':
      return 'accent';
    case 'paused':
    case 'cancelled':
    case 'skipped':
      return 'warning';
    default:
      return 'neutral';
  }
}

/** "quota.render_seconds" / "kai_credits" → "Kai credits". */
export function humanize(key: string): string {
  const s = key.replace(/[._]/g, ' ').trim();
  return s.charAt(0).toUpperCase() + s.slice(1);
}
