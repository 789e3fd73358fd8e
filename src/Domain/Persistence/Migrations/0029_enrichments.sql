-- AI enrichment (seed 003): each generated set of titles, descriptions and hashtags for a finished job. A row is
-- reserved (completed_at NULL) under the org's advisory lock before the writer runs, so two requests at the last
-- allowance of the month cannot both pass; it is completed with what was written, or deleted when writing failed.
-- seq numbers the row's LLM usage record (usage_records.item_index, node 'enrichment'), so a second enrichment of the
-- same job is a usage record of its own under ux_usage_records_item.
CREATE TABLE enrichments (
  id            text PRIMARY KEY,
  seq           integer GENERATED ALWAYS AS IDENTITY UNIQUE,
  org_id        text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id       text REFERENCES users (id) ON DELETE SET NULL,
  job_id        text REFERENCES jobs (id) ON DELETE SET NULL,
  model         text,
  items         jsonb,
  created_at    timestamptz NOT NULL DEFAULT now(),
  completed_at  timestamptz
);
CREATE INDEX ix_enrichments_org ON enrichments (org_id, created_at);
CREATE INDEX ix_enrichments_job ON enrichments (job_id);
