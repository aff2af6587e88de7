-- Downstream consumers of booking.events record every message they handled, keyed by their
-- own name and the message id: delivery is at least once, so the primary key is the dedupe.
create table consumer_messages (
  consumer        text not null,
  message_id      uuid not null,
  type            text not null,
  reservation_id  uuid not null,
  topic           text not null,
  partition       integer not null,
  kafka_offset    bigint not null,
  -- what the handler did (e.g. the notification it sent), for audit and tests
  outcome         text not null,
  handled_at      timestamptz not null default now(),
  primary key (consumer, message_id)
);
create index consumer_messages_reservation_idx on consumer_messages (reservation_id);
