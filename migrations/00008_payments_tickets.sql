-- Payments, refunds and tickets (api.md v1.1 "Payments", "Tickets").

-- The currency every price of an event is in (ISO 4217, upper case); PaymentIntents use it.
alter table events add column currency text not null default 'EUR' check (currency ~ '^[A-Z]{3}$');

alter table reservations drop constraint reservations_status_check;
alter table reservations add constraint reservations_status_check
  check (status in ('held', 'confirmed', 'cancelled', 'expired', 'refunded'));
alter table reservations add column refunded_at timestamptz;
-- Set by the first checkout: the hold is extended to cover the payment window once, never again.
alter table reservations add column payment_window_at timestamptz;

create table payments (
  id                   uuid primary key,
  reservation_id       uuid not null references reservations (id),
  provider             text not null,
  -- the provider's id (Stripe PaymentIntent id); null until the provider answered
  provider_payment_id  text,
  amount_cents         bigint not null check (amount_cents >= 0),
  currency             text not null,
  status               text not null check (status in ('pending', 'succeeded', 'failed', 'refunded')),
  client_secret        text,
  redirect_url         text,
  -- 1 for the first checkout of a reservation, 2 after a failed one, ...
  attempt              integer not null,
  created_at           timestamptz not null default now(),
  updated_at           timestamptz not null default now(),
  unique (reservation_id, attempt),
  unique (provider, provider_payment_id)
);
-- One open (pending or paid) payment per reservation: checkout is idempotent on it.
create unique index payments_open_uidx on payments (reservation_id) where status in ('pending', 'succeeded');

-- Refunds owed to buyers. The row commits with the decision to refund; a job sends it to the
-- provider until the provider accepts it, so an outage delays a refund but never loses it.
create table refunds (
  id                   uuid primary key,
  payment_id           uuid not null unique references payments (id),
  reason               text not null check (reason in ('late', 'mismatch', 'duplicate', 'admin', 'event_cancelled')),
  -- what was actually collected (a mismatched payment may be less than the payment asked for)
  amount_cents         bigint not null check (amount_cents >= 0),
  status               text not null check (status in ('pending', 'succeeded')),
  provider_refund_id   text,
  attempts             integer not null default 0,
  last_error           text,
  next_attempt_at      timestamptz not null default now(),
  created_at           timestamptz not null default now(),
  done_at              timestamptz
);
create index refunds_pending_idx on refunds (next_attempt_at) where status = 'pending';

-- Every webhook delivery handled, keyed by the provider's event id: the dedupe of at-least-once delivery.
create table payment_webhook_events (
  provider     text not null,
  event_id     text not null,
  type         text not null,
  payment_id   uuid,
  outcome      text not null,
  received_at  timestamptz not null default now(),
  primary key (provider, event_id)
);

create table tickets (
  id              uuid primary key,
  reservation_id  uuid not null references reservations (id),
  event_id        uuid not null references events (id),
  zone_code       text not null,
  seat_label      text,
  -- 1..quantity within the reservation; a GA booking of 3 has units 1, 2, 3
  unit            integer not null,
  status          text not null default 'valid' check (status in ('valid', 'revoked')),
  checked_in_at   timestamptz,
  checked_in_by   text,
  created_at      timestamptz not null default now(),
  unique (reservation_id, unit)
);
create index tickets_event_idx on tickets (event_id);
