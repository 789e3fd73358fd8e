-- KIE.ai generations (seed 002): one row per generation node item (and per direct /v1/kai call), with the
-- provider's task id, the unguessable token of its callback URL, what it cost and the assets it produced.
CREATE TABLE kai_generations (
  id                text PRIMARY KEY,
  org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  job_id            text REFERENCES jobs (id) ON DELETE SET NULL,
  node_id           text NOT NULL,
  item_index        integer NOT NULL DEFAULT 0,
  type              text NOT NULL CHECK (type IN ('image', 'video', 'edit', 'audio')),
  model             text NOT NULL,
  provider          text NOT NULL CHECK (provider IN ('kie', 'local')),
  prompt            text NOT NULL,
  params            jsonb NOT NULL DEFAULT '{}',
  status            text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
  attempt           integer NOT NULL DEFAULT 1,
  external_id       text,
  callback_token    text NOT NULL UNIQUE,
  callback_at       timestamptz,
  result_asset_ids  text[] NOT NULL DEFAULT '{}',
  credits_used      integer NOT NULL DEFAULT 0,
  error             jsonb,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  completed_at      timestamptz
);
CREATE UNIQUE INDEX ux_kai_generations_node ON kai_generations (job_id, node_id, item_index);
CREATE INDEX ix_kai_generations_org ON kai_generations (org_id, id);
CREATE INDEX ix_kai_generations_external ON kai_generations (external_id);
