-- A generation's reuse key: a digest of what made it (kind, model, provider, prompt, the model's input and the node's
-- settings), for generations made from a prompt alone (never from input media, whose links differ every time). A node
-- with `reuse: true` takes the org's latest completed generation with the same key instead of paying for a new one.
ALTER TABLE kai_generations ADD COLUMN reuse_key text;
CREATE INDEX ix_kai_generations_reuse ON kai_generations (org_id, reuse_key, completed_at DESC)
  WHERE status = 'completed' AND reuse_key IS NOT NULL;
