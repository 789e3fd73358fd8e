-- Webhooks (seed 002): endpoints an org registers for events, and one delivery row per event and endpoint.
-- Events are written by triggers in the same transaction as the state change they report, so none is lost
-- and none is sent for a change that rolled back. The deliveries table is its own durable queue: a worker
-- claims due rows under a lease, posts them signed, and reschedules failures with backoff.

-- Prefixed, time-ordered ids like the application's (Guid v7 in hex), for rows made inside the database.
CREATE FUNCTION fenta_id(prefix text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT prefix || '_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
         || substr(replace(gen_random_uuid()::text, '-', ''), 13, 20)
$$;

CREATE TABLE webhooks (
  id           text PRIMARY KEY,
  org_id       text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  url          text NOT NULL,
  events       text[] NOT NULL,
  secret       text NOT NULL,
  description  text,
  enabled      boolean NOT NULL DEFAULT true,
  created_by   text REFERENCES users (id),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_webhooks_org ON webhooks (org_id) WHERE enabled;

CREATE TABLE webhook_deliveries (
  id               text PRIMARY KEY,
  webhook_id       text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  org_id           text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  event_id         text NOT NULL,
  event            text NOT NULL,
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'success', 'failed')),
  http_status      integer,
  response_body    text,
  error            text,
  attempts         integer NOT NULL DEFAULT 0,
  last_attempt_at  timestamptz,
  next_retry_at    timestamptz NOT NULL DEFAULT now(),
  lease_owner      text,
  lease_expires_at timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);
CREATE INDEX ix_webhook_deliveries_due ON webhook_deliveries (next_retry_at) WHERE status = 'pending';
CREATE INDEX ix_webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- One event: a delivery for every enabled endpoint of the org that listens to it, and a wake-up for the workers.
CREATE FUNCTION webhook_emit(p_org text, p_event text, p_data jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  event_id text := fenta_id('evt');
BEGIN
  INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event, payload)
  SELECT fenta_id('whd'), w.id, p_org, event_id, p_event,
         jsonb_build_object('id', event_id, 'type', p_event, 'created_at', now(), 'org_id', p_org, 'data', p_data)
  FROM webhooks w
  WHERE w.org_id = p_org AND w.enabled AND (p_event = ANY (w.events) OR '*' = ANY (w.events));
  IF FOUND THEN PERFORM pg_notify('fenta_webhooks', ''); END IF;
END $$;

-- job.started / job.completed / job.failed / job.cancelled, and workflow.run.started / .finished for workflow runs.
CREATE FUNCTION jobs_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  data jsonb;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks WHERE org_id = NEW.org_id AND enabled) THEN RETURN NULL; END IF;
  data := jsonb_build_object('job', jsonb_build_object(
    'id', NEW.id, 'status', NEW.status, 'progress', NEW.progress, 'workflow_id', NEW.workflow_id,
    'workflow_version', NEW.workflow_version, 'parent_job_id', NEW.parent_job_id, 'result', NEW.result, 'error', NEW.error,
    'cost', jsonb_build_object('tokens', NEW.cost_tokens, 'render_seconds', NEW.cost_render_seconds,
                               'kai_credits', NEW.cost_kai_credits, 'total_usd', NEW.cost_total_usd),
    'queued_at', NEW.queued_at, 'started_at', NEW.started_at, 'completed_at', NEW.completed_at,
    'url', '/v1/jobs/' || NEW.id));
  IF NEW.status = 'processing' THEN
    PERFORM webhook_emit(NEW.org_id, 'job.started', data);
    IF NEW.workflow_id IS NOT NULL THEN PERFORM webhook_emit(NEW.org_id, 'workflow.run.started', data); END IF;
  ELSIF NEW.status IN ('completed', 'failed', 'cancelled') THEN
    PERFORM webhook_emit(NEW.org_id, 'job.' || NEW.status, data);
    IF NEW.workflow_id IS NOT NULL THEN PERFORM webhook_emit(NEW.org_id, 'workflow.run.finished', data); END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_webhook_events AFTER UPDATE OF status ON jobs FOR EACH ROW
  WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION jobs_webhook_events();

-- render.succeeded / render.failed when an Output.Render node finishes for good.
CREATE FUNCTION render_webhook_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  org text := (SELECT org_id FROM jobs WHERE id = NEW.job_id);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM webhooks WHERE org_id = org AND enabled) THEN RETURN NULL; END IF;
  PERFORM webhook_emit(org, CASE NEW.status WHEN 'succeeded' THEN 'render.succeeded' ELSE 'render.failed' END,
    jsonb_build_object('job_id', NEW.job_id, 'node_id', NEW.node_id, 'render', NEW.output, 'error', NEW.error));
  RETURN NULL;
END $$;
CREATE TRIGGER node_runs_render_events AFTER UPDATE OF status ON node_runs FOR EACH ROW
  WHEN (NEW.node_type = 'Output.Render' AND NEW.status IN ('succeeded', 'failed') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION render_webhook_events();
