-- Assets (seed 002): every file the product holds for an org — uploads, stock, generations, voice, subtitles, renders.
CREATE TABLE assets (
  id                text PRIMARY KEY,
  org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  project_id        text REFERENCES projects (id) ON DELETE SET NULL,
  job_id            text REFERENCES jobs (id) ON DELETE SET NULL,
  node_id           text,
  type              text NOT NULL CHECK (type IN ('image', 'video', 'audio', 'subtitles', 'other')),
  source            text NOT NULL CHECK (source IN ('upload', 'stock', 'kai', 'generated', 'render')),
  storage_provider  text NOT NULL DEFAULT 'local',
  storage_key       text NOT NULL,
  filename          text,
  content_type      text,
  size_bytes        bigint NOT NULL DEFAULT 0,
  duration_seconds  numeric(10, 3),
  width             integer,
  height            integer,
  fps               numeric(6, 2),
  codec             text,
  metadata          jsonb NOT NULL DEFAULT '{}',
  status            text NOT NULL DEFAULT 'ready' CHECK (status IN ('processing', 'ready', 'failed')),
  created_by        text REFERENCES users (id),
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  deleted_at        timestamptz
);
CREATE INDEX ix_assets_org ON assets (org_id, id) WHERE deleted_at IS NULL;
CREATE INDEX ix_assets_job ON assets (job_id);
