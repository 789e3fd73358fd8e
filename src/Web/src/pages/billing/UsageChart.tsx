// The charts of the usage page (recharts is in this chunk only).
import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { RESOURCES, type ChartPoint, type Resource } from './usage';

export default function UsageChart({ data, resource }: { data: ChartPoint[]; resource: Resource }) {
  const r = RESOURCES.find((x) => x.key === resource) ?? RESOURCES[0];
  const total = data.reduce((s, p) => s + p[resource], 0);
  return (
    <figure aria-label={`${r.label} per day: ${r.format(total)} in total`}>
      <div className="h-64 w-full" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart accessibilityLayer={false} data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e5e5" />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} tickLine={false} />
            <YAxis tick={{ fontSize: 11 }} width={56} tickFormatter={(v: number) => r.format(v)} tickLine={false} axisLine={false} />
            <Tooltip formatter={(v) => [r.format(Number(v)), r.label]} labelFormatter={(l) => String(l)} cursor={{ fill: '#f5f5f5' }} />
            <Bar dataKey={resource} fill={r.color} radius={[3, 3, 0, 0]} maxBarSize={28} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="sr-only">
        {data
          .filter((p) => p[resource] > 0)
          .map((p) => `${p.label}: ${r.format(p[resource])}`)
          .join('; ') || 'No usage in this range.'}
      </figcaption>
    </figure>
  );
}
