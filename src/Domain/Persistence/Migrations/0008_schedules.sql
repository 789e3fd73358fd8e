-- Schedules (seed 002): a workflow run on a cron expression in a time zone. The worker's ticker claims due rows
-- with SKIP LOCKED and starts each run with an idempotency key naming the schedule and the slot, so a worker that
-- dies between starting the job and advancing the schedule cannot start that slot twice.
CREATE TABLE schedules (
  id           text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  workflow_id  text NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  name         text,
  -- 'api': made with POST /v1/schedules; 'node': the workflow's Schedule.Cron node, kept in step when it is saved.
  source       text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'node')),
  cron         text NOT NULL,
  timezone     text NOT NULL DEFAULT 'UTC',
  -- Override the workflow's variables for these runs.
  variables    jsonb NOT NULL DEFAULT '{}',
  enabled      boolean NOT NULL DEFAULT true,
  next_run_at  timestamptz,
  last_run_at  timestamptz,
  last_job_id  text REFERENCES jobs (id) ON DELETE SET NULL,
  last_error   text,
  run_count    integer NOT NULL DEFAULT 0,
  created_by   text REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_schedules_org ON schedules (org_id, id);
CREATE INDEX ix_schedules_workflow ON schedules (workflow_id);
CREATE UNIQUE INDEX ux_schedules_node ON schedules (workflow_id) WHERE source = 'node';
CREATE INDEX ix_schedules_due ON schedules (next_run_at) WHERE enabled;
