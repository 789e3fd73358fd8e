-- Runs move onto Durable Task (orchestrations on the Azure Storage backend). The PostgreSQL engine's work queue goes,
-- and with it the node_runs columns only it used (dependency counts and buffered events); node_runs, jobs and
-- job_logs stay the product's view of a run, written by the run's activities.
DROP TABLE durable_tasks;
ALTER TABLE node_runs DROP COLUMN remaining_deps, DROP COLUMN event, DROP COLUMN event_at;
