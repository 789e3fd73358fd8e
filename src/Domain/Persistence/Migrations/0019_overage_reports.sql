-- Paid plans bill usage beyond their monthly allowance as Stripe meter events, one per usage record: each record keeps
-- the share of the month's overage it was billed for (0 when it fell within the allowance or the plan has no overage
-- rates) and when that was settled, so a record is reported once however many hosts run the timer.
ALTER TABLE usage_records
  ADD COLUMN overage_quantity    numeric(14, 2),
  ADD COLUMN overage_reported_at timestamptz;
-- Usage recorded before overage billing existed is not billed after the fact: it is settled without a quantity (it
-- still counts towards its month's allowance when later records are billed).
UPDATE usage_records SET overage_reported_at = now();
-- What the reporter looks for each minute: records not yet settled, oldest first (rows older than Stripe accepts stay
-- out of its reads by created_at; settled rows leave the index).
CREATE INDEX ix_usage_records_overage_pending ON usage_records (created_at, org_id) WHERE overage_reported_at IS NULL;
