-- A hold sent without an Idempotency-Key stores no key: the unique (user_id, idempotency_key)
-- index ignores NULLs, and a Redis rebuild restores only the keys clients can replay.
alter table reservations alter column idempotency_key drop not null;
