// Views per day (recharts is in this chunk only).
import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { compact } from '../publishing/model';

export type DayPoint = { label: string; views: number; published: number };

export default function ViewsChart({ data }: { data: DayPoint[] }) {
  const total = data.reduce((s, p) => s + p.views, 0);
  return (
    <figure aria-label={`Views per day: ${compact(total)} in the range`}>
      <div className="h-64 w-full" aria-hidden="true">
        <ResponsiveContainer width="100%" height="100%">
          <AreaChart accessibilityLayer={false} data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
            <defs>
              <linearGradient id="views-fill" x1="0" y1="0" x2="0" y2="1">
                <stop offset="0%" stopColor="#6366f1" stopOpacity={0.35} />
                <stop offset="100%" stopColor="#6366f1" stopOpacity={0.02} />
              </linearGradient>
            </defs>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e5e5e5" />
            <XAxis dataKey="label" tick={{ fontSize: 11 }} interval="preserveStartEnd" minTickGap={16} tickLine={false} />
            <YAxis tick={{ fontSize: 11 }} width={48} allowDecimals={false} tickFormatter={(v: number) => compact(v)} tickLine={false} axisLine={false} />
            <Tooltip formatter={(v, name) => [compact(Number(v)), name === 'views' ? 'Views' : String(name)]} labelFormatter={(l) => String(l)} />
            <Area type="monotone" dataKey="views" stroke="#4f46e5" strokeWidth={2} fill="url(#views-fill)" isAnimationActive={false} />
          </AreaChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="sr-only">
        {data
          .filter((p) => p.views > 0)
          .map((p) => `${p.label}: ${compact(p.views)} views`)
          .join('; ') || 'No views in this range.'}
      </figcaption>
    </figure>
  );
}
