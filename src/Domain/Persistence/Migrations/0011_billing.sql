-- Stripe subscriptions: an org's paid plan follows its subscription (webhooks), invoices are kept as Stripe reports
-- them (seed 002), and every webhook event is recorded once so a redelivery changes nothing.
ALTER TABLE orgs
  ADD COLUMN stripe_subscription_id text,
  ADD COLUMN subscription_status    text,
  ADD COLUMN current_period_end     timestamptz,
  ADD COLUMN cancel_at_period_end   boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX ux_orgs_billing_customer ON orgs (billing_customer_id) WHERE billing_customer_id IS NOT NULL;

CREATE TABLE invoices (
  id                text PRIMARY KEY,
  org_id            text NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  stripe_invoice_id text NOT NULL UNIQUE,
  amount_usd        numeric(10, 2) NOT NULL,
  status            text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
  period_start      date NOT NULL,
  period_end        date NOT NULL,
  hosted_invoice_url text,
  paid_at           timestamptz,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_invoices_org ON invoices (org_id, id);

CREATE TABLE stripe_events (
  id          text PRIMARY KEY,
  type        text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
);
