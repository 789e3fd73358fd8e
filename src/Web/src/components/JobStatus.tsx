import { Link } from 'react-router';
import { Film } from 'lucide-react';
import type { Job } from '@/api/types';
import { num } from '@/api/types';
import { Badge } from '@/components/ui/badge';
import { ProgressBar } from '@/components/ui/feedback';
import { formatDuration, formatUsd, isFinished, statusTone, timeAgo } from '@/lib/format';
import { jobTopic } from '@/lib/apiCall';

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={statusTone(status)} className="capitalize">
      {['queued', 'pending', 'processing', 'running'].includes(status) && <span className="size-1.5 animate-pulse rounded-full bg-current" aria-hidden="true" />}
      {status}
    </Badge>
  );
}

/**
 * A short title for a job: the topic its request gives (a video made with POST /v1/jobs), else its workflow (by name
 * when the caller knows it), else what it retried, else its id.
 */
export function jobTitle(job: Pick<Job, 'id' | 'workflow_id' | 'parent_job_id' | 'request'>, workflowName?: string): string {
  const topic = jobTopic(job);
  if (topic) return topic.length > 80 ? topic.slice(0, 77) + '…' : topic;
  if (job.workflow_id) return `Run of ${workflowName ?? job.workflow_id}`;
  if (job.parent_job_id) return `Retry of ${job.parent_job_id}`;
  return `Job ${job.id}`;
}

/** A row of the recent-jobs list: thumbnail, title, status, progress. */
export function JobRow({ job }: { job: Job }) {
  const thumb = job.result?.thumbnail_url;
  return (
    <li>
      <Link to={`/jobs/${job.id}`} className="flex items-center gap-3 rounded-lg p-2 hover:bg-neutral-50 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-accent-500">
        <div className="flex aspect-[9/16] w-10 shrink-0 items-center justify-center overflow-hidden rounded-md bg-neutral-100">
          {thumb ? <img src={thumb} alt="" className="h-full w-full object-cover" /> : <Film className="size-4 text-neutral-400" aria-hidden="true" />}
        </div>
        <div className="min-w-0 flex-1">
          <p className="truncate text-sm font-medium text-neutral-900">{jobTitle(job)}</p>
          <p className="text-xs text-neutral-500">
            {timeAgo(job.created_at)}
            {job.result?.duration != null && ` · ${formatDuration(num(job.result.duration))}`}
            {num(job.cost_total_usd) > 0 && ` · ${formatUsd(num(job.cost_total_usd))}`}
          </p>
          {!isFinished(job.status) && job.status !== 'paused' && <ProgressBar value={num(job.progress)} label={`Progress of ${job.id}`} className="mt-1.5 h-1.5" />}
        </div>
        <StatusBadge status={job.status} />
      </Link>
    </li>
  );
}
