-- A direct generation is recorded when it is requested, before its worker has picked KIE or the local generator.
ALTER TABLE kai_generations ALTER COLUMN provider DROP NOT NULL;
