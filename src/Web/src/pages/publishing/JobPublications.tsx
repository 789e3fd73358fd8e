// The job page's card of this job's publications (GET /v1/publications?job_id=), live while one runs.
import { Card, CardContent, CardDescription, CardHeader, CardTitle, ErrorState, Skeleton } from '@/components/ui';
import { PublicationItem } from './parts';
import { usePublications } from './queries';

export function JobPublications({ jobId, canWrite }: { jobId: string; canWrite: boolean }) {
  const pubs = usePublications({ job_id: jobId });
  if (pubs.isPending) return <Skeleton className="h-24" />;
  if (pubs.isError) return <ErrorState error={pubs.error} onRetry={() => pubs.refetch()} />;
  if (pubs.data.data.length === 0) return null;
  return (
    <Card>
      <CardHeader>
        <CardTitle>Publications</CardTitle>
        <CardDescription>Where this video was posted</CardDescription>
      </CardHeader>
      <CardContent className="space-y-3">
        {pubs.data.data.map((p) => (
          <PublicationItem key={p.id} publication={p} showJob={false} canCancel={canWrite} />
        ))}
      </CardContent>
    </Card>
  );
}
