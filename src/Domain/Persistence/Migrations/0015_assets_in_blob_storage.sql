-- Asset bytes live only in Blob Storage now. Rows whose bytes were in the removed local folder store ('local') have no
-- blob behind them: they are retired, so nothing (stock reuse, uploads, renders, downloads) reaches for a missing blob.
UPDATE assets SET deleted_at = now(), updated_at = now() WHERE storage_provider = 'local' AND deleted_at IS NULL;
ALTER TABLE assets ALTER COLUMN storage_provider SET DEFAULT 'azure';
