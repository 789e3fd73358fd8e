-- POST /v1/assets/complete claims the pending upload before it reads, probes and copies the file, so that of several
-- calls at once (on any number of API instances) exactly one does the work and the others answer 409 or the result.
-- A claim ends when its holder finishes or fails; one whose holder died runs out at upload_claim_expires_at.
ALTER TABLE assets ADD COLUMN upload_claim text;
ALTER TABLE assets ADD COLUMN upload_claim_expires_at timestamptz;
