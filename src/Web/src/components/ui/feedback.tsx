import type { ReactNode } from 'react';
import { AlertCircle, Inbox, Loader2, RotateCw } from 'lucide-react';
import { cn } from '@/lib/cn';
import { errorMessage } from '@/api/problem';
import { Button } from './button';

export function Alert({ tone = 'danger', title, children, className }: { tone?: 'danger' | 'info' | 'warning' | 'success'; title?: ReactNode; children?: ReactNode; className?: string }) {
  const tones = {
    danger: 'border-red-200 bg-red-50 text-red-800',
    info: 'border-accent-200 bg-accent-50 text-accent-700',
    warning: 'border-amber-200 bg-amber-50 text-amber-900',
    success: 'border-emerald-200 bg-emerald-50 text-emerald-800',
  };
  return (
    <div role={tone === 'danger' ? 'alert' : 'status'} className={cn('flex gap-3 rounded-lg border p-3 text-sm', tones[tone], className)}>
      <AlertCircle className="mt-0.5 size-4 shrink-0" aria-hidden="true" />
      <div className="min-w-0 space-y-1">
        {title && <p className="font-medium">{title}</p>}
        {children && <div className="break-words">{children}</div>}
      </div>
    </div>
  );
}

/** The error state of a query: the problem's detail and a retry button. */
export function ErrorState({ error, onRetry, className }: { error: unknown; onRetry?: () => void; className?: string }) {
  return (
    <Alert className={className} title="Could not load this">
      <p>{errorMessage(error)}</p>
      {onRetry && (
        <Button variant="secondary" size="sm" className="mt-2" onClick={onRetry}>
          <RotateCw aria-hidden="true" /> Try again
        </Button>
      )}
    </Alert>
  );
}

export function EmptyState({ title, children, action, icon }: { title: ReactNode; children?: ReactNode; action?: ReactNode; icon?: ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center gap-2 rounded-xl border border-dashed border-neutral-300 bg-white px-6 py-10 text-center">
      <div className="text-neutral-400" aria-hidden="true">{icon ?? <Inbox className="size-8" />}</div>
      <p className="font-medium text-neutral-800">{title}</p>
      {children && <div className="max-w-sm text-sm text-neutral-500">{children}</div>}
      {action && <div className="mt-2">{action}</div>}
    </div>
  );
}

export function Skeleton({ className }: { className?: string }) {
  return <div className={cn('animate-pulse rounded-md bg-neutral-200/70', className)} aria-hidden="true" />;
}

export function Loading({ label = 'Loading…', className }: { label?: string; className?: string }) {
  return (
    <div role="status" className={cn('flex items-center gap-2 py-6 text-sm text-neutral-500', className)}>
      <Loader2 className="size-4 animate-spin" aria-hidden="true" />
      {label}
    </div>
  );
}

/** A horizontal bar of segments (used, reserved, remaining…), each with a label for screen readers. */
export function StackedBar({ segments, label }: { segments: { value: number; className: string; label: string }[]; label: string }) {
  const total = segments.reduce((s, x) => s + Math.max(0, x.value), 0) || 1;
  return (
    <div role="img" aria-label={`${label}: ${segments.map((s) => s.label).join(', ')}`} className="flex h-2.5 w-full overflow-hidden rounded-full bg-neutral-100">
      {segments.map((s, i) => (
        <div key={i} className={s.className} style={{ width: `${(Math.max(0, s.value) / total) * 100}%` }} />
      ))}
    </div>
  );
}

export function ProgressBar({ value, label, className }: { value: number; label: string; className?: string }) {
  const v = Math.max(0, Math.min(100, value));
  return (
    <div role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(v)} className={cn('h-2 w-full overflow-hidden rounded-full bg-neutral-100', className)}>
      <div className="h-full rounded-full bg-accent-600 transition-[width] duration-500" style={{ width: `${v}%` }} />
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-6 flex flex-col gap-3 sm:flex-row sm:items-end sm:justify-between">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-neutral-900">{title}</h1>
        {description && <p className="mt-1 text-sm text-neutral-500">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap gap-2">{actions}</div>}
    </div>
  );
}
