-- A job is one trace (issue 26): the W3C trace context (traceparent) it was created in. Every later span of the job (its
-- nodes in the orchestration workers, the render, webhook deliveries) is a child of it; GET /v1/jobs/{id} answers its
-- trace id, so support can find the job's spans and logs. Null for jobs from before this column.
ALTER TABLE jobs ADD COLUMN trace_parent text;
