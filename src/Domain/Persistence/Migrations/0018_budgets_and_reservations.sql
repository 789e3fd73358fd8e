-- Seed 000's run budget ({max_cost_usd, max_tokens}) on jobs and on the schedules that start them.
ALTER TABLE jobs ADD COLUMN budget jsonb;
ALTER TABLE schedules ADD COLUMN budget jsonb;

-- Spend reserved before a costly node item runs (seed 004's reserve_credits / refund_credits): a KIE generation's
-- credits, an LLM call's expected tokens, a render's seconds. Reservations count against the run's budget and (credits,
-- on the free tier) the org's monthly allowance until the item's usage record is written and the reservation released,
-- so parallel items and concurrent runs cannot together spend past either.
CREATE TABLE spend_reservations (
  job_id          text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  node_id         text NOT NULL,
  item_index      integer NOT NULL,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  tokens          bigint NOT NULL DEFAULT 0,
  kai_credits     integer NOT NULL DEFAULT 0,
  render_seconds  numeric(10, 2) NOT NULL DEFAULT 0,
  cost_usd        numeric(10, 4) NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, node_id, item_index)
);
CREATE INDEX ix_spend_reservations_org ON spend_reservations (org_id);
