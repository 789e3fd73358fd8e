-- Mails wait in an outbox until they are sent, so one queued by an instance that stops (or while the SMTP server is down)
-- goes out later instead of being lost. A row names what to mail, never the mail: a link's secret is minted when the mail
-- is sent and only its hash is stored, so neither the outbox nor a link not yet mailed yields a working link.
CREATE TABLE mail_outbox (
  id              text PRIMARY KEY,
  -- 'email_token' (email_tokens.id: a verification or password-reset link) or 'invitation' (org_invitations.id).
  kind            text NOT NULL CHECK (kind IN ('email_token', 'invitation')),
  subject_id      text NOT NULL,
  attempts        integer NOT NULL DEFAULT 0,
  -- When a sender may take it next: now for a new mail, later after a failure, or a lease's end while one sends it.
  due_at          timestamptz NOT NULL,
  last_error      text,
  created_at      timestamptz NOT NULL
);
CREATE INDEX ix_mail_outbox_due ON mail_outbox (due_at);

-- A link has no secret until its mail goes out.
ALTER TABLE email_tokens ALTER COLUMN token_hash DROP NOT NULL;
