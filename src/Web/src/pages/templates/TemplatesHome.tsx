import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { Copy, GitBranch, LayoutTemplate, PlayCircle } from 'lucide-react';
import { api } from '@/api/client';
import { errorMessage, unwrap } from '@/api/problem';
import { keys, useTemplates } from '@/api/queries';
import { num, type Template } from '@/api/types';
import { hasRole, useAuth } from '@/auth/AuthContext';
import { Badge, Button, buttonVariants, EmptyState, ErrorState, PageHeader, Skeleton } from '@/components/ui';
import { Tabs, TabsContent, TabsList, TabsTrigger } from '@/components/ui/tabs';
import { useToast } from '@/components/ui/toast';
import { cn } from '@/lib/cn';
import { formatNumber, statusTone, timeAgo } from '@/lib/format';
import { useWorkflows } from './queries';

export function useCopyTemplate() {
  const qc = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();
  return useMutation({
    mutationFn: async (t: Template) => unwrap(await api.POST('/v1/templates/{templateId}/copy', { params: { path: { templateId: t.id } } })),
    onSuccess: (copy) => {
      void qc.invalidateQueries({ queryKey: keys.templates });
      toast({ title: 'Template copied', description: copy.name, tone: 'success' });
      navigate(`/templates/${copy.id}`);
    },
    onError: (e) => toast({ title: 'Could not copy the template', description: errorMessage(e), tone: 'error' }),
  });
}

function TemplateCard({ t, canEdit }: { t: Template; canEdit: boolean }) {
  const copy = useCopyTemplate();
  return (
    <li className="flex flex-col rounded-xl border border-neutral-200 bg-white p-4">
      <div className="flex items-start justify-between gap-2">
        <Link to={`/templates/${t.id}`} className="min-w-0 font-medium text-neutral-900 hover:underline focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500">
          <span className="line-clamp-1">{t.name}</span>
        </Link>
        <Badge>{t.aspect}</Badge>
      </div>
      <p className="mt-1 line-clamp-2 min-h-10 text-sm text-neutral-500">{t.description ?? `${t.aspect} · ${t.resolution}`}</p>
      <p className="mt-2 flex flex-wrap gap-1 text-xs text-neutral-500">
        {t.built_in && <Badge tone="accent">built-in</Badge>}
        {t.is_public && !t.built_in && <Badge>public</Badge>}
        <span>
          {t.resolution} · used {formatNumber(num(t.usage_count), 0)}×
        </span>
      </p>
      {canEdit && (
      <div className="mt-4 flex flex-wrap gap-2">
        {canEdit && (
          <Link to="/create" className={buttonVariants({ size: 'sm' })} aria-label={`Use ${t.name}`}>
            <PlayCircle aria-hidden="true" /> Use
          </Link>
        )}
        {canEdit && (
          <Button variant="secondary" size="sm" loading={copy.isPending} onClick={() => copy.mutate(t)} aria-label={`Copy ${t.name}`}>
            <Copy aria-hidden="true" /> Copy
          </Button>
        )}
      </div>
      )}
    </li>
  );
}

function TemplateList() {
  const { me } = useAuth();
  const templates = useTemplates();
  const list = templates.data?.data ?? [];
  if (templates.isPending)
    return (
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {Array.from({ length: 6 }, (_, i) => (
          <Skeleton key={i} className="h-44 rounded-xl" />
        ))}
      </div>
    );
  if (templates.isError) return <ErrorState error={templates.error} onRetry={() => templates.refetch()} />;
  if (list.length === 0)
    return (
      <EmptyState title="No templates yet" icon={<LayoutTemplate className="size-8" />}>
        Templates set a video's layout, subtitles and overlays.
      </EmptyState>
    );
  return (
    <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3" aria-label="Templates">
      {list.map((t) => (
        <TemplateCard key={t.id} t={t} canEdit={hasRole(me, 'editor')} />
      ))}
    </ul>
  );
}

function WorkflowList() {
  const workflows = useWorkflows();
  const list = workflows.data?.data ?? [];
  if (workflows.isPending)
    return (
      <div className="space-y-2">
        {Array.from({ length: 4 }, (_, i) => (
          <Skeleton key={i} className="h-16 rounded-xl" />
        ))}
      </div>
    );
  if (workflows.isError) return <ErrorState error={workflows.error} onRetry={() => workflows.refetch()} />;
  if (list.length === 0)
    return (
      <EmptyState title="No workflows yet" icon={<GitBranch className="size-8" />}>
        Workflows are saved graphs of steps you can run again with different variables, or on a schedule. Create them with the API (
        <code>POST /v1/workflows</code>); the visual editor comes later.
      </EmptyState>
    );
  return (
    <ul className="divide-y divide-neutral-100 rounded-xl border border-neutral-200 bg-white" aria-label="Workflows">
      {list.map((w) => (
        <li key={w.id}>
          <Link to={`/templates/workflows/${w.id}`} className="flex flex-col gap-1 p-4 hover:bg-neutral-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-accent-500 sm:flex-row sm:items-center sm:gap-4">
            <div className="min-w-0 flex-1">
              <p className="truncate font-medium">{w.name}</p>
              {w.description && <p className="truncate text-sm text-neutral-500">{w.description}</p>}
            </div>
            <div className="flex flex-wrap items-center gap-2 text-xs text-neutral-500">
              <Badge tone={statusTone(w.status === 'active' ? 'completed' : w.status)}>{w.status}</Badge>
              <span>v{num(w.version)}</span>
              <span>{w.graph.nodes.length} nodes</span>
              <span>
                {num(w.run_count)} run{num(w.run_count) === 1 ? '' : 's'}
                {w.last_run_at ? `, last ${timeAgo(w.last_run_at)}` : ''}
              </span>
            </div>
          </Link>
        </li>
      ))}
    </ul>
  );
}

export default function TemplatesHome() {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'workflows' ? 'workflows' : 'templates';
  return (
    <>
      <PageHeader title="Templates and workflows" description="Start a video from a template, or run a saved workflow with your own variables." />
      <Tabs value={tab} onValueChange={(v) => setParams(v === 'workflows' ? { tab: v } : {}, { replace: true })}>
        <TabsList aria-label="Templates or workflows">
          <TabsTrigger value="templates">Templates</TabsTrigger>
          <TabsTrigger value="workflows">Workflows</TabsTrigger>
        </TabsList>
        <TabsContent value="templates" className={cn('mt-4')}>
          <TemplateList />
        </TabsContent>
        <TabsContent value="workflows" className="mt-4">
          <WorkflowList />
        </TabsContent>
      </Tabs>
    </>
  );
}
