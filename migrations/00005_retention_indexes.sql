-- The retention job purges sent outbox rows and old consumer dedupe rows by age, in batches:
-- these indexes let each batch find its oldest rows without scanning the table.
create index outbox_sent_at_idx on outbox (sent_at) where sent_at is not null;
create index consumer_messages_handled_at_idx on consumer_messages (handled_at);
