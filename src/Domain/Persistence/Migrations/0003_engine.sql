-- The durable engine: jobs (runs of a graph), node_runs (one row per node, plus one per item of a fanned-out
-- node), durable_tasks (the hot work queue) and job_logs.

CREATE TABLE jobs (
  id                  text PRIMARY KEY,
  org_id              text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  project_id          text REFERENCES projects (id) ON DELETE SET NULL,
  workflow_id         text REFERENCES workflows (id) ON DELETE SET NULL,
  workflow_version    integer,
  template_id         text REFERENCES templates (id) ON DELETE SET NULL,
  status              text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'cancelled')),
  progress            integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  -- The graph snapshot the job runs, with variables applied: later edits of the workflow do not touch it.
  config              jsonb NOT NULL,
  result              jsonb,
  error               jsonb,
  cost_tokens         integer NOT NULL DEFAULT 0,
  cost_render_seconds numeric(10, 2) NOT NULL DEFAULT 0,
  cost_kai_credits    integer NOT NULL DEFAULT 0,
  cost_total_usd      numeric(10, 4) NOT NULL DEFAULT 0,
  queued_at           timestamptz NOT NULL DEFAULT now(),
  started_at          timestamptz,
  completed_at        timestamptz,
  retry_count         integer NOT NULL DEFAULT 0,
  parent_job_id       text REFERENCES jobs (id) ON DELETE SET NULL,
  idempotency_key     text,
  node_count          integer NOT NULL,
  nodes_done          integer NOT NULL DEFAULT 0,
  created_by          text REFERENCES users (id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_jobs_org ON jobs (org_id, id);
CREATE INDEX ix_jobs_workflow ON jobs (workflow_id);
CREATE INDEX ix_jobs_finished ON jobs (completed_at) WHERE completed_at IS NOT NULL;
CREATE UNIQUE INDEX ux_jobs_idempotency ON jobs (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- item_index: 0 for an ordinary node; for a fanned-out node, -1 is the node itself (it completes when its items
-- have) and 0..n-1 are its items.
CREATE TABLE node_runs (
  job_id          text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  node_id         text NOT NULL,
  item_index      integer NOT NULL,
  node_type       text NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled')),
  attempt         integer NOT NULL DEFAULT 0,
  -- For a node: predecessors not yet done. For a fanned-out node (item -1): items not yet done.
  remaining_deps  integer NOT NULL,
  item_count      integer,
  input           jsonb,
  output          jsonb,
  error           jsonb,
  external_ref    text,
  event           jsonb,
  -- When the latest external event arrived: a wait that started before it must not sleep through it.
  event_at        timestamptz,
  reused          boolean NOT NULL DEFAULT false,
  cost_usd        numeric(10, 4) NOT NULL DEFAULT 0,
  started_at      timestamptz,
  completed_at    timestamptz,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, node_id, item_index)
) WITH (fillfactor = 80);

-- Small and hot: rows are deleted when done, so keep room for HOT updates.
CREATE TABLE durable_tasks (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  queue            text NOT NULL,
  priority         integer NOT NULL DEFAULT 100,
  run_at           timestamptz NOT NULL DEFAULT now(),
  job_id           text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  node_id          text NOT NULL,
  item_index       integer NOT NULL,
  attempts         integer NOT NULL DEFAULT 0,
  lease_owner      text,
  lease_expires_at timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);
CREATE INDEX ix_durable_tasks_ready ON durable_tasks (queue, priority, run_at, id) WHERE lease_owner IS NULL;
CREATE INDEX ix_durable_tasks_leases ON durable_tasks (lease_expires_at) WHERE lease_owner IS NOT NULL;
CREATE INDEX ix_durable_tasks_node ON durable_tasks (job_id, node_id, item_index);

CREATE TABLE job_logs (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id      text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  level       text NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
  stage       text,
  message     text NOT NULL,
  data        jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_job_logs_job ON job_logs (job_id, id);
