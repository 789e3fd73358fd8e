-- Issue 24: a password reset proves the mailbox, so it ends every credential minted before it; a rolled key has one successor.

-- Access tokens issued before this instant are refused (they are checked without a look-up of their own, so the user row
-- says when they stopped counting); refresh tokens and API keys are revoked outright by the reset, and checked against it too.
ALTER TABLE users ADD COLUMN credentials_valid_after timestamptz;

-- When the key was rolled: set once, by the one roll that wins the row lock, so a key has at most one successor.
ALTER TABLE api_keys ADD COLUMN rolled_at timestamptz;

-- The account notices: what a reset revoked, and that someone tried to register the address (subject: users.id).
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_kind_check;
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_kind_check
  CHECK (kind IN ('email_token', 'invitation', 'credentials_revoked', 'registration_attempt'));
