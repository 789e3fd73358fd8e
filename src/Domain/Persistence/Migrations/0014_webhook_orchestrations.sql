-- Webhook deliveries move onto orchestrations (one per delivery, started by a timer function): the delivery loop's
-- leases and its NOTIFY wake-up go. A delivery records how many times it was handed to an orchestration (each
-- hand-over gets its own instance) and whether one has it now.
ALTER TABLE webhook_deliveries DROP COLUMN lease_owner, DROP COLUMN lease_expires_at,
  ADD COLUMN dispatches integer NOT NULL DEFAULT 0,
  ADD COLUMN dispatched boolean NOT NULL DEFAULT false;
CREATE INDEX ix_webhook_deliveries_undispatched ON webhook_deliveries (id) WHERE status = 'pending' AND NOT dispatched;

CREATE OR REPLACE FUNCTION webhook_emit(p_org text, p_event text, p_data jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  event_id text := fenta_id('evt');
BEGIN
  INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event, payload)
  SELECT fenta_id('whd'), w.id, p_org, event_id, p_event,
         jsonb_build_object('id', event_id, 'type', p_event, 'created_at', now(), 'org_id', p_org, 'data', p_data)
  FROM webhooks w
  WHERE w.org_id = p_org AND w.enabled AND (p_event = ANY (w.events) OR '*' = ANY (w.events));
END $$;
