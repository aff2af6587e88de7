-- Event lifecycle (draft -> on_sale -> closed, or cancelled) and buyer-facing lists.
alter table events
  add column status text not null default 'on_sale'
    check (status in ('draft', 'on_sale', 'closed', 'cancelled')),
  -- Test events (load tests, rehearsals) never show in buyers' lists.
  add column test boolean not null default false,
  add column updated_at timestamptz not null default now();

-- Buyers' list: newest sale first, keyset-paginated on (sales_open_at, id).
create index events_listed_idx on events (sales_open_at desc, id desc)
  where status = 'on_sale' and not test;
create index events_all_idx on events (sales_open_at desc, id desc);
