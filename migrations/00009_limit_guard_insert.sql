-- The hold insert's side of the limit guard (00004), at a lower cost. The group-commit insert
-- of a few hundred holds paid for the generic apply_usage: the transition table copied into
-- four arrays, unnested and grouped twice, and one correlated re-unnest per counter row that
-- already existed (every batch: the zone row). An insert only ever adds seats, so the counters
-- are upserted straight from the transition table, grouped once, and the update adds the
-- proposed row's own figure (excluded.used). Same lock order as apply_usage (zone rows, then
-- user rows, each in key order), so writers of both kinds still never deadlock; same CHECK
-- constraints, so a write that would pass a limit still fails with check_violation.
create or replace function usage_after_insert() returns trigger language plpgsql as $$
begin
  insert into zone_usage as u (event_id, zone_code, capacity, used)
  select d.event_id, d.zone_code, z.capacity, d.q
  from (select event_id, zone_code, sum(quantity)::int as q
        from new_rows where status in ('held', 'confirmed') group by 1, 2) d
  join zones z on z.event_id = d.event_id and z.code = d.zone_code
  order by 1, 2
  on conflict (event_id, zone_code) do update set used = u.used + excluded.used;

  insert into user_usage as u (event_id, user_id, max_seats, used)
  select d.event_id, d.user_id, e.max_seats_per_user, d.q
  from (select event_id, user_id, sum(quantity)::int as q
        from new_rows where status in ('held', 'confirmed') group by 1, 2) d
  join events e on e.id = d.event_id
  order by 1, 2
  on conflict (event_id, user_id) do update set used = u.used + excluded.used;
  return null;
end $$;
