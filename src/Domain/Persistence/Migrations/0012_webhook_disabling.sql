-- An endpoint whose deliveries keep failing is switched off (as Stripe does) and says why, until an admin turns it on.
ALTER TABLE webhooks ADD COLUMN disabled_reason text;
