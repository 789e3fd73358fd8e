-- Share links (seed 004's shared_content): a public page /s/{token} that plays one video (a job's render, or a video or
-- image asset of the org) to anyone holding the link, until it expires or is revoked.
--
-- The token is looked up by its SHA-256 (token_hash), so an index scan never compares secrets. The token itself is also
-- kept, protected with the app's Data Protection key ring (as the platforms' tokens are, 0028), so the owner's list can
-- show the link at any time as Loom and Creatomate do; a copy of this table alone reveals no link.
CREATE TABLE share_links (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  -- The job whose render is shared (kept for filtering; retention forgets jobs, the link stays on the asset).
  job_id          text REFERENCES jobs (id) ON DELETE SET NULL,
  asset_id        text NOT NULL REFERENCES assets (id) ON DELETE CASCADE,
  -- The still shown before playback and as og:image: the render's thumbnail, the image itself, or none.
  poster_asset_id text REFERENCES assets (id) ON DELETE SET NULL,
  token_hash      text NOT NULL UNIQUE,
  token_protected text NOT NULL,
  title           text NOT NULL,
  password_hash   text,
  allow_download  boolean NOT NULL DEFAULT false,
  view_count      bigint NOT NULL DEFAULT 0,
  expires_at      timestamptz,
  created_by      text REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz
);
CREATE INDEX ix_share_links_org ON share_links (org_id, id DESC);
CREATE INDEX ix_share_links_job ON share_links (job_id) WHERE job_id IS NOT NULL;
CREATE INDEX ix_share_links_asset ON share_links (asset_id);
