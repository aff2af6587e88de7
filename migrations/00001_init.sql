-- boxoffice schema v1. PostgreSQL is the source of truth; Redis only caches inventory.

create table events (
  id                   uuid primary key,
  name                 text not null,
  starts_at            timestamptz not null,
  sales_open_at        timestamptz not null,
  sales_close_at       timestamptz not null,
  hold_seconds         integer not null check (hold_seconds between 10 and 86400),
  max_seats_per_user   integer not null check (max_seats_per_user between 1 and 100),
  queue_enabled        boolean not null default false,
  queue_admit_per_second integer not null default 500 check (queue_admit_per_second > 0),
  queue_pass_seconds   integer not null default 900 check (queue_pass_seconds > 0),
  created_at           timestamptz not null default now(),
  check (sales_open_at < sales_close_at)
);
create index events_sales_close_idx on events (sales_close_at);

create table zones (
  event_id       uuid not null references events (id) on delete cascade,
  code           text not null,
  name           text not null,
  price_cents    integer not null check (price_cents >= 0),
  kind           text not null check (kind in ('ga', 'seated')),
  capacity       integer not null check (capacity > 0),
  rows           integer,
  seats_per_row  integer,
  position       integer not null,
  primary key (event_id, code),
  check ((kind = 'seated') = (rows is not null and seats_per_row is not null))
);

create table seats (
  event_id   uuid not null,
  zone_code  text not null,
  label      text not null,
  primary key (event_id, label),
  foreign key (event_id, zone_code) references zones (event_id, code) on delete cascade
);

create table reservations (
  id               uuid primary key,
  event_id         uuid not null references events (id),
  user_id          text not null,
  zone_code        text not null,
  quantity         integer not null check (quantity > 0),
  total_cents      bigint not null check (total_cents >= 0),
  status           text not null check (status in ('held', 'confirmed', 'cancelled', 'expired')),
  idempotency_key  text not null,
  request_hash     text not null,
  expires_at       timestamptz not null,
  created_at       timestamptz not null default now(),
  confirmed_at     timestamptz,
  cancelled_at     timestamptz,
  expired_at       timestamptz,
  booking_code     text unique,
  payment_ref      text,
  foreign key (event_id, zone_code) references zones (event_id, code),
  -- Idempotency survives a Redis flush: a replayed key can never insert twice.
  unique (user_id, idempotency_key)
);
-- The seat-release worker scans only live holds, oldest expiry first.
create index reservations_expiring_idx on reservations (expires_at) where status = 'held';
create index reservations_event_user_idx on reservations (event_id, user_id);
create index reservations_user_created_idx on reservations (user_id, created_at desc);
create index reservations_event_status_idx on reservations (event_id, status);

create table reservation_seats (
  reservation_id uuid not null references reservations (id) on delete cascade,
  event_id       uuid not null,
  seat_label     text not null,
  -- true while the reservation is held or confirmed; cleared in the same transaction
  -- that cancels or expires it.
  live           boolean not null default true,
  primary key (reservation_id, seat_label),
  foreign key (event_id, seat_label) references seats (event_id, label)
);
-- Even a wrong Redis cannot double-book a seat.
create unique index reservation_seats_live_uidx on reservation_seats (event_id, seat_label) where live;

create table outbox (
  id           bigserial primary key,
  message_id   uuid not null unique,
  topic        text not null,
  key          text not null,
  type         text not null,
  payload      jsonb not null,
  headers      jsonb not null default '{}'::jsonb,
  created_at   timestamptz not null default now(),
  sent_at      timestamptz
);
create index outbox_pending_idx on outbox (id) where sent_at is null;

-- Wakes outbox relays (LISTEN outbox) once per inserting statement, so they need not poll hard.
create function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('outbox', '');
  return null;
end $$;
create trigger outbox_notify_trg after insert on outbox for each statement execute function outbox_notify();
