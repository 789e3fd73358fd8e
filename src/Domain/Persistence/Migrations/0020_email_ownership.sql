-- Email ownership: verification and password-reset links, invitations accepted explicitly, and a cap on mail per address.
-- Every link carries a random secret; only its SHA-256 is stored, so a database read does not yield working links.

CREATE TABLE email_tokens (
  id              text PRIMARY KEY,
  user_id         text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose         text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
  -- The address the link was mailed to: verifying proves ownership of this one, not of whatever the account says later.
  email           text NOT NULL,
  token_hash      text NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX ux_email_tokens_hash ON email_tokens (token_hash);
CREATE INDEX ix_email_tokens_user ON email_tokens (user_id, purpose) WHERE used_at IS NULL;

-- Invitations were claimed by registering the address; now they are accepted with their mailed token by a verified owner.
ALTER TABLE org_invitations ADD COLUMN token_hash text;
ALTER TABLE org_invitations ADD COLUMN expires_at timestamptz NOT NULL DEFAULT now() + interval '7 days';
ALTER TABLE org_invitations ALTER COLUMN expires_at DROP DEFAULT;
CREATE UNIQUE INDEX ux_org_invitations_token ON org_invitations (token_hash);

-- Mails sent per address per hour, so the mail-sending endpoints cannot be turned on someone's inbox.
CREATE TABLE mail_send_windows (
  address         text NOT NULL,
  window_start    timestamptz NOT NULL,
  sent            integer NOT NULL,
  PRIMARY KEY (address, window_start)
);
