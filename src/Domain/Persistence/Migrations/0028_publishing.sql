-- Publishing (seed 003; seed 002's integrations): accounts connected on YouTube, TikTok and Instagram, the videos
-- published to them, and their statistics over time.

-- A connected account. Its tokens are one Data Protection payload (the key ring lives outside this database: in Blob
-- Storage, wrapped by a Key Vault certificate in Azure), so a copy of the table alone reveals no token. A grant the
-- platform no longer honours is 'reconnect_required' (the person must consent again); a disconnected one is 'revoked'
-- and kept for the publications that name it.
CREATE TABLE integrations (
  id                 text PRIMARY KEY,
  org_id             text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  created_by         text REFERENCES users (id) ON DELETE SET NULL,
  platform           text NOT NULL CHECK (platform IN ('youtube', 'tiktok', 'instagram')),
  status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reconnect_required', 'revoked')),
  status_reason      text,
  account_id         text NOT NULL,
  account_name       text NOT NULL,
  account_handle     text,
  avatar_url         text,
  scopes             text[] NOT NULL DEFAULT '{}',
  credentials        text NOT NULL,
  expires_at         timestamptz,
  refresh_expires_at timestamptz,
  last_used_at       timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
-- Connecting an account the org already has (again, after a revoke at the platform) renews that row.
CREATE UNIQUE INDEX ux_integrations_account ON integrations (org_id, platform, account_id) WHERE status <> 'revoked';
CREATE INDEX ix_integrations_org ON integrations (org_id, created_at);

-- One authorization in flight: the state (kept as its hash) is single-use and binds the consent to the person and org
-- that asked; the PKCE verifier is protected like the tokens.
CREATE TABLE oauth_states (
  state_hash    text PRIMARY KEY,
  org_id        text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id       text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  platform      text NOT NULL,
  code_verifier text NOT NULL,
  return_to     text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz NOT NULL,
  used_at       timestamptz
);

-- A request to publish one job's video to one or more accounts; its targets are published by its own orchestration
-- (instance id = publication id). Publications outlive their job (retention forgets jobs after 30 days; the analytics
-- of what was published stay).
CREATE TABLE publications (
  id          text PRIMARY KEY,
  org_id      text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  job_id      text REFERENCES jobs (id) ON DELETE SET NULL,
  node_id     text,
  asset_id    text NOT NULL,
  created_by  text REFERENCES users (id) ON DELETE SET NULL,
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'publishing', 'succeeded', 'partially_failed', 'failed', 'cancelled')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX ix_publications_org ON publications (org_id, created_at DESC);
CREATE INDEX ix_publications_job ON publications (job_id);
-- A workflow's Output.Publish node files one publication, however often its activity runs.
CREATE UNIQUE INDEX ux_publications_node ON publications (job_id, node_id) WHERE node_id IS NOT NULL;

-- One account a publication posts to. The unique (job, account) row is what keeps a video from being posted twice to
-- one account, however often a publish is asked for or an activity runs; the checkpoint is the platform adapter's
-- upload session (YouTube's session URI and acknowledged byte, TikTok's publish id and chunk, Instagram's container).
CREATE TABLE publication_targets (
  id                text PRIMARY KEY,
  publication_id    text NOT NULL REFERENCES publications (id) ON DELETE CASCADE,
  org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  job_id            text REFERENCES jobs (id) ON DELETE SET NULL,
  integration_id    text NOT NULL REFERENCES integrations (id),
  platform          text NOT NULL,
  request           jsonb NOT NULL,
  status            text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'uploading', 'processing', 'retry_later', 'published', 'failed', 'cancelled')),
  phase             text,
  checkpoint        jsonb NOT NULL DEFAULT '{}',
  platform_video_id text,
  url               text,
  error             jsonb,
  attempts          integer NOT NULL DEFAULT 0,
  next_attempt_at   timestamptz,
  claimed_by        uuid,
  claimed_until     timestamptz,
  published_at      timestamptz,
  stats_checked_at  timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_publication_targets_once ON publication_targets (job_id, integration_id);
CREATE INDEX ix_publication_targets_publication ON publication_targets (publication_id);
CREATE INDEX ix_publication_targets_stats ON publication_targets (stats_checked_at NULLS FIRST) WHERE status = 'published';

-- A published video's counters as read at one time; analytics take the latest per video and the growth over a range.
CREATE TABLE publication_stats (
  target_id   text NOT NULL REFERENCES publication_targets (id) ON DELETE CASCADE,
  org_id      text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  captured_at timestamptz NOT NULL,
  views       bigint,
  likes       bigint,
  comments    bigint,
  shares      bigint,
  PRIMARY KEY (target_id, captured_at)
);
CREATE INDEX ix_publication_stats_org ON publication_stats (org_id, captured_at);
