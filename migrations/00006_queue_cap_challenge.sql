-- Waiting room: an optional cap on live passes, and an optional proof-of-work challenge on joining.
alter table events add column queue_max_active integer check (queue_max_active > 0);
alter table events add column queue_challenge text check (queue_challenge in ('pow'));
