import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { ArrowLeft, Copy, PlayCircle } from 'lucide-react';
import { api } from '@/api/client';
import { unwrap } from '@/api/problem';
import { num } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Badge, Button, buttonVariants, Card, CardContent, CardHeader, CardTitle, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { formatDateTime, formatNumber, humanize } from '@/lib/format';
import { useCopyTemplate } from './TemplatesHome';

export default function TemplateDetail() {
  const { id = '' } = useParams();
  const { me } = useAuth();
  const copy = useCopyTemplate();
  const template = useQuery({
    queryKey: ['template', id],
    queryFn: async () => unwrap(await api.GET('/v1/templates/{templateId}', { params: { path: { templateId: id } } })),
  });
  const back = (
    <Link to="/templates" className="mb-4 inline-flex items-center gap-1 text-sm text-accent-700 hover:underline">
      <ArrowLeft className="size-4" aria-hidden="true" /> Templates
    </Link>
  );
  if (template.isPending)
    return (
      <>
        {back}
        <Skeleton className="h-64" />
      </>
    );
  if (template.isError)
    return (
      <>
        {back}
        <ErrorState error={template.error} onRetry={() => template.refetch()} />
      </>
    );
  const t = template.data;
  const spec = t.spec;
  const placeholders = Object.entries(spec.placeholders ?? {});
  return (
    <>
      {back}
      <PageHeader
        title={t.name}
        description={t.description ?? undefined}
        actions={
          <>
            {hasRole(me, 'editor') && (
              <Link to="/create" className={buttonVariants()}>
                <PlayCircle aria-hidden="true" /> Use this template
              </Link>
            )}
            {hasRole(me, 'editor') && (
              <Button variant="secondary" loading={copy.isPending} onClick={() => copy.mutate(t)}>
                <Copy aria-hidden="true" /> Copy
              </Button>
            )}
          </>
        }
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <Card className="lg:col-span-1">
          <CardHeader>
            <CardTitle>Format</CardTitle>
          </CardHeader>
          <CardContent>
            <dl className="grid grid-cols-2 gap-3 text-sm">
              <div>
                <dt className="text-neutral-500">Aspect</dt>
                <dd>{t.aspect}</dd>
              </div>
              <div>
                <dt className="text-neutral-500">Resolution</dt>
                <dd>{t.resolution}</dd>
              </div>
              <div>
                <dt className="text-neutral-500">Used</dt>
                <dd>{formatNumber(num(t.usage_count), 0)} times</dd>
              </div>
              <div>
                <dt className="text-neutral-500">Updated</dt>
                <dd>{formatDateTime(t.updated_at)}</dd>
              </div>
              {spec.rules?.cuts && (
                <div>
                  <dt className="text-neutral-500">Cuts</dt>
                  <dd>{spec.rules.cuts}</dd>
                </div>
              )}
              {spec.rules?.min_scene != null && (
                <div>
                  <dt className="text-neutral-500">Scene length</dt>
                  <dd>
                    {num(spec.rules.min_scene)}–{num(spec.rules.max_scene)} s
                  </dd>
                </div>
              )}
            </dl>
            <div className="mt-3 flex flex-wrap gap-1">
              {t.built_in && <Badge tone="accent">built-in</Badge>}
              {t.is_public && <Badge>public</Badge>}
            </div>
          </CardContent>
        </Card>
        <Card className="lg:col-span-2">
          <CardHeader>
            <CardTitle>Tracks</CardTitle>
          </CardHeader>
          <CardContent>
            <ul className="divide-y divide-neutral-100 text-sm" aria-label="Tracks">
              {spec.tracks.map((tr) => (
                <li key={tr.id} className="flex flex-wrap items-center gap-2 py-2">
                  <code className="text-xs">{tr.id}</code>
                  <Badge>{tr.type}</Badge>
                  {tr.style?.font && (
                    <span className="text-xs text-neutral-500">
                      {tr.style.font}
                      {tr.style.size != null ? ` ${num(tr.style.size)}px` : ''}
                      {tr.style.position ? ` · ${tr.style.position}` : ''}
                    </span>
                  )}
                </li>
              ))}
            </ul>
            {(spec.overlays?.length ?? 0) > 0 && (
              <>
                <h3 className="mt-4 text-sm font-semibold">Overlays</h3>
                <ul className="mt-1 divide-y divide-neutral-100 text-sm" aria-label="Overlays">
                  {spec.overlays!.map((o, i) => (
                    <li key={i} className="flex flex-wrap gap-2 py-2">
                      <Badge>{o.content.type}</Badge>
                      <span className="min-w-0 truncate">{o.content.text ?? (o.content.placeholder ? `{{${o.content.placeholder}}}` : '')}</span>
                      <span className="text-xs text-neutral-500">
                        {num(o.from)}–{num(o.to)} s on {o.track}
                      </span>
                    </li>
                  ))}
                </ul>
              </>
            )}
            {placeholders.length > 0 && (
              <>
                <h3 className="mt-4 text-sm font-semibold">Placeholders</h3>
                <dl className="mt-1 grid gap-1 text-sm sm:grid-cols-2">
                  {placeholders.map(([k, v]) => (
                    <div key={k}>
                      <dt className="inline font-medium">{humanize(k)}: </dt>
                      <dd className="inline text-neutral-600">{v}</dd>
                    </div>
                  ))}
                </dl>
              </>
            )}
            {(spec.subtitle_style_presets?.length ?? 0) > 0 && (
              <p className="mt-4 text-sm">
                <span className="font-semibold">Subtitle styles: </span>
                {spec.subtitle_style_presets!.map(humanize).join(', ')}
              </p>
            )}
          </CardContent>
        </Card>
      </div>
    </>
  );
}
