-- The API request that made a job (method, path and JSON body), so a client can show it again as an API call (the web
-- app's "copy as API call"). Null for jobs a schedule started, and for jobs from before this column.
ALTER TABLE jobs ADD COLUMN request jsonb;
