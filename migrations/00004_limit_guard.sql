-- PostgreSQL as the last line of defence for the limits Redis enforces first: a GA zone's
-- capacity and a user's seats per event. Counter rows with CHECK constraints, maintained
-- by statement-level triggers on reservations, so every transition (hold insert, confirm,
-- cancel, expire, and any later one) keeps them right in the statement that makes it, and
-- concurrent writers serialise on the counter row: a write that would pass a limit fails
-- with check_violation (23514) naming the constraint, whatever Redis believed.

create table zone_usage (
  event_id  uuid not null,
  zone_code text not null,
  capacity  integer not null,
  used      integer not null,
  primary key (event_id, zone_code),
  constraint zone_usage_within_capacity check (used between 0 and capacity)
);

create table user_usage (
  event_id  uuid not null,
  user_id   text not null,
  max_seats integer not null,
  used      integer not null,
  primary key (event_id, user_id),
  constraint user_usage_within_limit check (used between 0 and max_seats)
);

-- Adds seat deltas per (event, zone, user). Rows are created on first use with the limit
-- copied from zones / events (neither changes after creation) and locked in key order, the
-- same order for every caller, so two writers never deadlock on them. PostgreSQL checks
-- the row an upsert proposes before it finds the conflict, so the proposed row carries a
-- valid value and the update re-reads the delta.
create function apply_usage(ev uuid[], zone text[], usr text[], delta integer[]) returns void
language sql as $$
  insert into zone_usage as u (event_id, zone_code, capacity, used)
  select d.event_id, d.zone_code, z.capacity, greatest(d.q, 0)
  from (select e as event_id, zc as zone_code, sum(q)::int as q
        from unnest(ev, zone, delta) as t(e, zc, q) group by 1, 2 having sum(q) <> 0) d
  join zones z on z.event_id = d.event_id and z.code = d.zone_code
  order by 1, 2
  on conflict (event_id, zone_code) do update set used = u.used + (
    select sum(q)::int from unnest(ev, zone, delta) as t(e, zc, q)
    where t.e = excluded.event_id and t.zc = excluded.zone_code);

  insert into user_usage as u (event_id, user_id, max_seats, used)
  select d.event_id, d.user_id, e.max_seats_per_user, greatest(d.q, 0)
  from (select e as event_id, us as user_id, sum(q)::int as q
        from unnest(ev, usr, delta) as t(e, us, q) group by 1, 2 having sum(q) <> 0) d
  join events e on e.id = d.event_id
  order by 1, 2
  on conflict (event_id, user_id) do update set used = u.used + (
    select sum(q)::int from unnest(ev, usr, delta) as t(e, us, q)
    where t.e = excluded.event_id and t.us = excluded.user_id);
$$;

create function usage_after_insert() returns trigger language plpgsql as $$
begin
  perform apply_usage(array_agg(event_id), array_agg(zone_code), array_agg(user_id), array_agg(quantity))
  from new_rows where status in ('held', 'confirmed');
  return null;
end $$;

create function usage_after_update() returns trigger language plpgsql as $$
begin
  perform apply_usage(array_agg(event_id), array_agg(zone_code), array_agg(user_id), array_agg(q))
  from (select event_id, zone_code, user_id, quantity as q from new_rows where status in ('held', 'confirmed')
        union all
        select event_id, zone_code, user_id, -quantity from old_rows where status in ('held', 'confirmed')) d;
  return null;
end $$;

create function usage_after_delete() returns trigger language plpgsql as $$
begin
  perform apply_usage(array_agg(event_id), array_agg(zone_code), array_agg(user_id), array_agg(-quantity))
  from old_rows where status in ('held', 'confirmed');
  return null;
end $$;

create trigger reservations_usage_insert after insert on reservations
  referencing new table as new_rows for each statement execute function usage_after_insert();
create trigger reservations_usage_update after update on reservations
  referencing old table as old_rows new table as new_rows for each statement execute function usage_after_update();
create trigger reservations_usage_delete after delete on reservations
  referencing old table as old_rows for each statement execute function usage_after_delete();

-- Reservations made before this migration.
select apply_usage(array_agg(event_id), array_agg(zone_code), array_agg(user_id), array_agg(quantity))
from reservations where status in ('held', 'confirmed');
