-- Activities run at least once: when a task hub partition changes owner mid-batch, an item's activity can be delivered
-- to two workers at the same time. One execution claims the item and renews the claim while it runs; a duplicate waits
-- for that execution instead of running the node again (and spending twice). A claim nobody renews (its worker died)
-- lapses, and the redelivered execution takes it. No index: the columns change on every heartbeat (HOT updates).
ALTER TABLE node_runs ADD COLUMN claimed_by uuid, ADD COLUMN claimed_until timestamptz;
