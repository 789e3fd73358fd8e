-- Storyboards (seed 004): a planned video as scenes (narration, image prompt, duration, image), made and remade by
-- jobs. The scenes are one jsonb array in their order: they are read and written together, and reordering is a
-- rewrite of the array. The jobs are named without a foreign key: retention forgets jobs, and a storyboard keeps what
-- its jobs made (the scenes take their outcome when the job ends).
CREATE TABLE storyboards (
  id                 text PRIMARY KEY,
  org_id             text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  created_by         text REFERENCES users (id) ON DELETE SET NULL,
  title              text NOT NULL,
  description        text NOT NULL DEFAULT '',
  settings           jsonb NOT NULL,
  scenes             jsonb NOT NULL DEFAULT '[]',
  status             text NOT NULL CHECK (status IN ('draft', 'generating', 'ready', 'rendering', 'failed')),
  error              text,
  job_id             text,
  render             jsonb,
  total_credits_used integer NOT NULL DEFAULT 0,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_storyboards_org ON storyboards (org_id, id);
