-- Foundation: identity, tenancy, templates, workflows, audit (adapted from seed 002).
-- Timestamps are timestamptz (the seed's bare TIMESTAMP loses the zone); ids keep the seed's prefixes.

CREATE TABLE users (
  id              text PRIMARY KEY,
  email           text NOT NULL,
  email_verified_at timestamptz,
  password_hash   text NOT NULL,
  name            text NOT NULL,
  avatar_url      text,
  status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'deleted')),
  metadata        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);
-- Emails are compared case-insensitively; the application stores them lower-cased.
CREATE UNIQUE INDEX ux_users_email ON users (email);

CREATE TABLE orgs (
  id              text PRIMARY KEY,
  name            text NOT NULL,
  slug            text NOT NULL,
  owner_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  plan            text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
  plan_started_at timestamptz,
  billing_email   text,
  billing_customer_id text,
  settings        jsonb NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);
CREATE UNIQUE INDEX ux_orgs_slug ON orgs (slug);
CREATE INDEX ix_orgs_owner ON orgs (owner_id);

CREATE TABLE org_members (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('owner', 'admin', 'editor', 'viewer')),
  invited_by      text REFERENCES users (id),
  joined_at       timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (org_id, user_id)
);
CREATE INDEX ix_org_members_user ON org_members (user_id);

-- Invitations for people without an account yet; accepted when they register with that email.
CREATE TABLE org_invitations (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  email           text NOT NULL,
  role            text NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
  invited_by      text REFERENCES users (id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  accepted_at     timestamptz,
  UNIQUE (org_id, email)
);
CREATE INDEX ix_org_invitations_email ON org_invitations (email) WHERE accepted_at IS NULL;

CREATE TABLE projects (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name            text NOT NULL,
  description     text,
  settings        jsonb NOT NULL DEFAULT '{}',
  created_by      text REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);
CREATE INDEX ix_projects_org ON projects (org_id);

CREATE TABLE api_keys (
  id              text PRIMARY KEY,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name            text NOT NULL,
  -- SHA-256 of a 256-bit random secret: a slow KDF adds nothing for keys of that entropy.
  key_hash        text NOT NULL UNIQUE,
  key_prefix      text NOT NULL,
  scopes          text[] NOT NULL DEFAULT '{}',
  last_used_at    timestamptz,
  expires_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  revoked_at      timestamptz
);
CREATE INDEX ix_api_keys_org ON api_keys (org_id);
CREATE INDEX ix_api_keys_user ON api_keys (user_id);

-- Rotating refresh tokens; a family is one login. Reusing a rotated token revokes the family.
CREATE TABLE refresh_tokens (
  id              text PRIMARY KEY,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id       text NOT NULL,
  token_hash      text NOT NULL UNIQUE,
  expires_at      timestamptz NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  rotated_at      timestamptz,
  revoked_at      timestamptz
);
CREATE INDEX ix_refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE templates (
  id              text PRIMARY KEY,
  -- NULL org_id = a built-in template, readable by everyone.
  org_id          text REFERENCES orgs (id) ON DELETE CASCADE,
  project_id      text REFERENCES projects (id) ON DELETE CASCADE,
  name            text NOT NULL,
  description     text,
  aspect          text NOT NULL,
  resolution      text NOT NULL,
  is_public       boolean NOT NULL DEFAULT false,
  thumbnail_url   text,
  spec            jsonb NOT NULL,
  usage_count     integer NOT NULL DEFAULT 0,
  created_by      text REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);
CREATE INDEX ix_templates_org ON templates (org_id, id) WHERE deleted_at IS NULL;
CREATE INDEX ix_templates_public ON templates (id) WHERE is_public AND deleted_at IS NULL;

CREATE TABLE workflows (
  id              text PRIMARY KEY,
  org_id          text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  project_id      text REFERENCES projects (id) ON DELETE SET NULL,
  name            text NOT NULL,
  description     text,
  status          text NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'confirmed', 'preview', 'production', 'archived')),
  graph           jsonb NOT NULL,
  variables       jsonb NOT NULL DEFAULT '{}',
  version         integer NOT NULL DEFAULT 1,
  run_count       integer NOT NULL DEFAULT 0,
  last_run_at     timestamptz,
  created_by      text REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  deleted_at      timestamptz
);
CREATE INDEX ix_workflows_org ON workflows (org_id, id) WHERE deleted_at IS NULL;

CREATE TABLE workflow_versions (
  id              text PRIMARY KEY,
  workflow_id     text NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version         integer NOT NULL,
  name            text NOT NULL,
  graph           jsonb NOT NULL,
  variables       jsonb NOT NULL DEFAULT '{}',
  created_by      text REFERENCES users (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (workflow_id, version)
);

CREATE TABLE audit_logs (
  id              text PRIMARY KEY,
  org_id          text REFERENCES orgs (id) ON DELETE SET NULL,
  user_id         text REFERENCES users (id) ON DELETE SET NULL,
  api_key_id      text,
  action          text NOT NULL,
  resource_type   text NOT NULL,
  resource_id     text,
  ip_address      inet,
  user_agent      text,
  changes         jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_audit_logs_org ON audit_logs (org_id, created_at);
CREATE INDEX ix_audit_logs_resource ON audit_logs (resource_type, resource_id);
