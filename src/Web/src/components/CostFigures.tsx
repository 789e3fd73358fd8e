import { formatDuration, formatNumber } from '@/lib/format';

/** A cost's three measures side by side: an estimate's (Create) or a job's so far (Job page). */
export function CostFigures({ tokens, kaiCredits, renderSeconds }: { tokens: number; kaiCredits: number; renderSeconds: number }) {
  const figures: [string, string][] = [
    ['LLM tokens', formatNumber(tokens, 0)],
    ['AI credits', formatNumber(kaiCredits, 0)],
    ['Render', formatDuration(renderSeconds)],
  ];
  return (
    <dl className="grid grid-cols-3 gap-2 text-xs">
      {figures.map(([label, value]) => (
        <div key={label} className="rounded-md bg-neutral-50 p-2">
          <dt className="text-neutral-500">{label}</dt>
          <dd className="font-medium">{value}</dd>
        </div>
      ))}
    </dl>
  );
}
