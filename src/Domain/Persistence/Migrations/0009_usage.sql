-- Usage records (seed 002): what an org consumed, one row per consuming node item and resource, so an activity that
-- runs twice (a worker died after recording) still counts once. Storage is not recorded here: it is the live assets' size.
-- Not partitioned yet: a month of rows per org is found through (org_id, created_at).
CREATE TABLE usage_records (
  id                text PRIMARY KEY,
  org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id           text REFERENCES users (id) ON DELETE SET NULL,
  job_id            text REFERENCES jobs (id) ON DELETE SET NULL,
  node_id           text,
  item_index        integer,
  resource_type     text NOT NULL CHECK (resource_type IN ('llm_tokens', 'kai_credits', 'render_seconds')),
  llm_tokens_prompt integer,
  llm_tokens_output integer,
  llm_model         text,
  kai_credits       integer,
  kai_model         text,
  render_seconds    numeric(10, 2),
  render_profile    text,
  cost_usd          numeric(10, 4) NOT NULL DEFAULT 0,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_usage_records_org ON usage_records (org_id, created_at);
CREATE INDEX ix_usage_records_job ON usage_records (job_id);
CREATE UNIQUE INDEX ux_usage_records_item ON usage_records (job_id, node_id, item_index, resource_type) WHERE job_id IS NOT NULL;
