-- Over the free tier's allowance a job waits, unstarted, in 'paused' until the allowance resets (seed 000: "Free tier:
-- jobs pause until reset"), rather than being refused; the per-minute timer starts it then.
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('paused', 'queued', 'processing', 'completed', 'failed', 'cancelled'));
ALTER TABLE jobs ADD COLUMN paused_reason text, ADD COLUMN resume_at timestamptz;
CREATE INDEX ix_jobs_paused ON jobs (resume_at) WHERE status = 'paused';
