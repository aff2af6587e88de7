/**
 * The semantic mutations of `npm run test:mutations`: each is one realistic bug against one
 * promise of ../../docs (design notes, README), with the test files that must notice it.
 * `find` must occur exactly once in its file; when code moves, the runner refuses to report
 * until the entry is updated here (file path and text), so the probe never measures nothing.
 */
export type Edit = { file: string; find: string; replace: string };

export type Mutation = {
  /** Short, stable name (used by --only). */
  name: string;
  /** The promise this breaks, in the words of the design notes / README. */
  promise: string;
  edits: Edit[];
  /** Test files that guard the promise; only these run for this mutation. */
  tests: string[];
  /** A break so plain that the suite must catch it: if it survives, the probe itself is broken. */
  control?: boolean;
};

const RESERVE = 'lua/reserve-8.lua';
const RELEASE = 'lua/release-8.lua';
const QUEUE = 'lua/queue-7.lua';
const STORE = 'src/queue/store.ts';
const INIT = 'migrations/00001_init.sql';
const LIMIT_GUARD = 'migrations/00004_limit_guard.sql';
const GUARD_COST = 'migrations/00009_limit_guard_cost.sql';
const HOLD = 'src/reservations/service.ts';
const WRITER = 'src/reservations/hold-writer.ts';
const TRANSITION = 'src/reservations/transition.ts';
const REPO = 'src/reservations/repository.ts';
const TOKENS = 'src/queue/tokens.ts';
const LOADER = 'src/inventory/loader.ts';
const RECONCILE = 'src/worker/reconcile.ts';
const RELAY = 'src/outbox/relay.ts';
const KEYS = 'src/redis/keys.ts';
const DEDUPE = 'src/consumers/dedupe.ts';
const AUTHN = 'src/auth/authenticator.ts';

export const mutations: Mutation[] = [
  {
    name: 'control-every-hold-refused',
    promise: 'control: a hold inside the sales window succeeds',
    control: true,
    edits: [{ file: RESERVE, find: "if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then return {-3, ''} end", replace: "if true then return {-3, ''} end" }],
    tests: ['test/reservations.test.ts'],
  },

  // ---- holds decided in Redis -------------------------------------------------------------
  {
    name: 'lua-seat-taken-ignored',
    promise: 'a hold succeeds only if all requested seats are free (all or nothing)',
    edits: [{ file: RESERVE, find: "    if state ~= '' then taken[#taken + 1] = ARGV[i + 8] end\n", replace: '' }],
    tests: ['test/contention.test.ts', 'test/guard-inventory.test.ts'],
  },
  {
    name: 'lua-ga-overfill',
    promise: 'GA never above capacity (the GA zone must have the quantity)',
    edits: [{ file: RESERVE, find: 'if available < qty then return {-6, available} end', replace: 'if available <= 0 then return {-6, available} end' }],
    tests: ['test/contention.test.ts', 'test/guard-inventory.test.ts'],
  },
  {
    name: 'lua-user-limit-off-by-one',
    // Both layers: Redis' check alone is backed by PostgreSQL's limit guard (and that one alone
    // is mutation pg-user-limit-unguarded).
    promise: 'per-user limit not exceeded',
    edits: [
      { file: RESERVE, find: 'if current + qty > tonumber(meta[3]) then', replace: 'if current + qty > tonumber(meta[3]) + 1 then' },
      { file: LIMIT_GUARD, find: 'constraint user_usage_within_limit check (used between 0 and max_seats)', replace: 'constraint user_usage_within_limit check (used >= 0)' },
    ],
    tests: ['test/contention.test.ts', 'test/reservations.test.ts'],
  },
  {
    name: 'lua-limit-not-released',
    promise: 'the per-user counter is lowered when a hold is released (cancel frees the limit)',
    edits: [{ file: RELEASE, find: "if rcall('HINCRBY', KEYS[3], user, -tonumber(qty)) <= 0 then rcall('HDEL', KEYS[3], user) end", replace: '' }],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'sales-window-not-enforced',
    promise: 'holds only while sales are open',
    edits: [
      { file: HOLD, find: "    if (salesState(event) !== 'open') throw Errors.salesClosed(salesWindow(event));\n", replace: '' },
      { file: RESERVE, find: "if now < tonumber(meta[1]) or now >= tonumber(meta[2]) then return {-3, ''} end", replace: '' },
    ],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'lua-idempotency-body-ignored',
    promise: 'same Idempotency-Key with another body is 422, never a replay',
    edits: [{ file: RESERVE, find: "    if string.sub(prior, sep + 1) ~= ARGV[5] then return {-2} end\n", replace: '' }],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'lua-same-key-runs-twice',
    // Both layers: Redis' replay alone is backed by PostgreSQL's unique key (and that one alone
    // is mutation pg-idempotency-key-not-unique).
    promise: 'two requests with the same Idempotency-Key in flight execute once',
    edits: [
      { file: RESERVE, find: "    return {0, string.sub(prior, 1, sep - 1)}\n", replace: '' },
      {
        file: INIT,
        find: 'references zones (event_id, code),\n  -- Idempotency survives a Redis flush: a replayed key can never insert twice.\n  unique (user_id, idempotency_key)',
        replace: 'references zones (event_id, code)',
      },
    ],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'lua-acts-on-missing-event',
    promise: 'every script refuses to act while the event is missing from Redis (503 until rebuilt)',
    edits: [{ file: RESERVE, find: "if rcall('EXISTS', KEYS[1]) == 0 then return {-1} end", replace: '' }],
    tests: ['test/reservations.test.ts', 'test/redis-loss.test.ts'],
  },
  {
    name: 'price-from-one-seat',
    promise: 'prices come from the event on the server (total = price x quantity)',
    edits: [{ file: HOLD, find: '      totalCents: req.zone.priceCents * req.quantity,', replace: '      totalCents: req.zone.priceCents,' }],
    tests: ['test/reservations.test.ts'],
  },

  // ---- durable in PostgreSQL before the 201 -----------------------------------------------
  {
    name: 'pg-seat-index-not-unique',
    promise: 'a partial unique index on live seats: even a wrong Redis cannot double-book a seat',
    edits: [{ file: INIT, find: 'create unique index reservation_seats_live_uidx', replace: 'create index reservation_seats_live_uidx' }],
    tests: ['test/guard-inventory.test.ts'],
  },
  {
    name: 'pg-ga-capacity-unguarded',
    promise: 'PostgreSQL is the last guard of GA capacity: a wrong Redis can make a buyer retry, never oversell',
    edits: [{ file: LIMIT_GUARD, find: 'constraint zone_usage_within_capacity check (used between 0 and capacity)', replace: 'constraint zone_usage_within_capacity check (used >= 0)' }],
    tests: ['test/limit-guard.test.ts'],
  },
  {
    name: 'pg-user-limit-unguarded',
    promise: 'PostgreSQL is the last guard of the per-user limit',
    edits: [{ file: LIMIT_GUARD, find: 'constraint user_usage_within_limit check (used between 0 and max_seats)', replace: 'constraint user_usage_within_limit check (used >= 0)' }],
    tests: ['test/limit-guard.test.ts'],
  },
  {
    name: 'pg-zone-counter-overwritten',
    // 00009's insert trigger: a batch that meets an existing zone row must add to it, not
    // replace it, or every batch sees only its own seats against the CHECK.
    promise: 'PostgreSQL is the last guard of GA capacity, under concurrent group-commit batches',
    edits: [{ file: GUARD_COST, find: 'on conflict (event_id, zone_code) do update set used = u.used + excluded.used;', replace: 'on conflict (event_id, zone_code) do update set used = excluded.used;' }],
    tests: ['test/limit-guard-race.test.ts'],
  },
  {
    name: 'pg-user-counter-overwritten',
    promise: 'PostgreSQL is the last guard of the per-user limit, under concurrent group-commit batches',
    edits: [{ file: GUARD_COST, find: 'on conflict (event_id, user_id) do update set used = u.used + excluded.used;', replace: 'on conflict (event_id, user_id) do update set used = excluded.used;' }],
    tests: ['test/limit-guard-race.test.ts'],
  },
  {
    name: 'pg-release-not-counted',
    // 00009's apply_usage: cancel, expiry and refund must give the zone's seats back.
    promise: "the usage counters follow every transition: cancel and expiry give back (PostgreSQL's counters equal its live rows)",
    edits: [{ file: GUARD_COST, find: 'update zone_usage u set used = u.used + d.q', replace: 'update zone_usage u set used = u.used' }],
    tests: ['test/limit-guard.test.ts'],
  },
  {
    name: 'pg-idempotency-key-not-unique',
    promise: 'the key is also unique in PostgreSQL: a Redis that lost it never lets a replay execute twice',
    edits: [{
      file: INIT,
      find: 'references zones (event_id, code),\n  -- Idempotency survives a Redis flush: a replayed key can never insert twice.\n  unique (user_id, idempotency_key)',
      replace: 'references zones (event_id, code)',
    }],
    tests: ['test/guard-inventory.test.ts', 'test/reservations.test.ts'],
  },
  {
    name: 'hold-answered-before-durable',
    promise: 'a successful hold is written to PostgreSQL before the 201 goes out',
    edits: [{ file: WRITER, find: '      await this.batcher.add(hold);\n', replace: '      void this.batcher.add(hold).catch(() => {});\n' }],
    tests: ['test/reservations.test.ts', 'test/guard-inventory.test.ts'],
  },
  {
    name: 'failed-write-not-undone',
    promise: 'if the write fails the Redis hold is undone: nothing half-done is left',
    edits: [{ file: WRITER, find: '    await undo();\n', replace: '' }],
    tests: ['test/reservations.test.ts', 'test/guard-inventory.test.ts'],
  },
  {
    name: 'write-deadline-ignored',
    promise: 'a hold that reaches PostgreSQL after its write deadline is not written (the rebuild window)',
    edits: [{ file: REPO, find: '      where clock_timestamp() < t.deadline\n', replace: '' }],
    tests: ['test/reservations.test.ts'],
  },

  // ---- confirm, cancel, expiry ------------------------------------------------------------
  {
    name: 'confirm-ignores-status',
    promise: 'confirm only if still held: confirm and expiry race only through the conditional update',
    edits: [{ file: REPO, find: "and r.user_id = ${a.userId} and r.status = 'held' and r.expires_at > now()", replace: 'and r.user_id = ${a.userId} and r.expires_at > now()' }],
    tests: ['test/guard-transactions.test.ts', 'test/reservations.test.ts'],
  },
  {
    name: 'confirm-ignores-expiry',
    promise: 'confirm only if not expired (410 after the hold expired)',
    edits: [{ file: REPO, find: "and r.user_id = ${a.userId} and r.status = 'held' and r.expires_at > now()", replace: "and r.user_id = ${a.userId} and r.status = 'held'" }],
    tests: ['test/reservations.test.ts', 'test/guard-transactions.test.ts'],
  },
  {
    name: 'confirm-ignores-owner',
    promise: "someone else's reservation cannot be confirmed",
    edits: [{ file: REPO, find: "where r.id = ${a.id} and r.user_id = ${a.userId} and r.status = 'held' and r.expires_at > now()", replace: "where r.id = ${a.id} and r.status = 'held' and r.expires_at > now()" }],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'expiry-ignores-status',
    promise: 'expiry takes only holds still held: a confirmed reservation is never expired',
    edits: [
      { file: REPO, find: "      where status = 'held' and expires_at <= now()\n", replace: '      where expires_at <= now()\n' },
      { file: REPO, find: "    from due where r.id = due.id and r.status = 'held'", replace: '    from due where r.id = due.id' },
    ],
    tests: ['test/guard-transactions.test.ts', 'test/worker.test.ts'],
  },
  {
    name: 'expiry-waits-on-locked-rows',
    promise: 'several workers at once: FOR UPDATE SKIP LOCKED (an expiry never waits on a confirm in progress)',
    edits: [{ file: REPO, find: "      for update skip locked\n    )\n    update reservations r set status = 'expired'", replace: "      for update\n    )\n    update reservations r set status = 'expired'" }],
    tests: ['test/guard-transactions.test.ts'],
  },
  {
    name: 'release-keeps-seat-live',
    promise: "cancel/expiry clears the seats' live flag in the same transaction",
    edits: [{ file: REPO, find: '    sql`update reservation_seats set live = false where reservation_id = ${a.id}`);', replace: '    sql`select 1`);' }],
    tests: ['test/contention.test.ts', 'test/guard-transactions.test.ts'],
  },
  {
    name: 'confirm-not-sold-in-redis',
    promise: 'after the confirm commits, Redis marks the seats sold',
    edits: [{ file: TRANSITION, find: '  if (changed.length) await d.follower.apply(changed, action);', replace: "  if (changed.length && action !== 'sell') await d.follower.apply(changed, action);" }],
    tests: ['test/reservations.test.ts'],
  },
  {
    name: 'confirm-breaker-bypassed',
    // Without both the fast check and the breaker around the call, a confirm waits for a
    // PostgreSQL that does not answer until the statement times out.
    promise: 'while PostgreSQL is known to be down, confirm answers 503 + Retry-After in milliseconds',
    edits: [{
      file: HOLD,
      find: "    this.d.breakers?.failFast('postgres');\n    return this.guard('postgres', () => this.confirmInPostgres(userId, id, paymentRef));",
      replace: '    return this.confirmInPostgres(userId, id, paymentRef);',
    }],
    tests: ['test/breakers.test.ts'],
  },
  {
    name: 'lua-release-frees-others-seats',
    promise: 'release frees exactly its seats, only if still held by that reservation',
    edits: [{ file: RELEASE, find: "  if rcall('HGET', KEYS[5], label) == tag then\n", replace: "  if true then\n" }],
    tests: ['test/guard-inventory.test.ts'],
  },

  // ---- outbox -----------------------------------------------------------------------------
  {
    name: 'outbox-after-commit',
    promise: 'confirm, cancel and expiry insert their outbox row in the same transaction as the state change',
    edits: [{
      file: TRANSITION,
      find: '    await enqueueBookingEvents(tx, d.topic, type, rows.map((r) => bookingItem(r, extra?.(r))), d.outboxHeaders?.());\n    return rows;\n  });\n',
      replace: '    return rows;\n  });\n  await enqueueBookingEvents(d.sql, d.topic, type, changed.map((r) => bookingItem(r, extra?.(r))), d.outboxHeaders?.());\n',
    }],
    tests: ['test/guard-transactions.test.ts'],
  },
  {
    name: 'outbox-outside-tx',
    promise: 'the state change and its message commit or roll back together (no message for a change that failed)',
    edits: [{
      file: TRANSITION,
      find: '    await enqueueBookingEvents(tx, d.topic, type,',
      replace: '    await enqueueBookingEvents(d.sql, d.topic, type,',
    }],
    tests: ['test/guard-transactions.test.ts'],
  },
  {
    name: 'relay-claims-without-lock',
    promise: 'several relays share the outbox without publishing a row twice (FOR UPDATE SKIP LOCKED)',
    edits: [{ file: RELAY, find: '        limit ${batchSize}\n        for update skip locked`;', replace: '        limit ${batchSize}`;' }],
    tests: ['test/outbox.test.ts'],
  },
  {
    name: 'consumer-no-dedupe',
    promise: 'consumers dedupe on the message id: a redelivered message is skipped',
    edits: [{ file: DEDUPE, find: '          if (!mine) return true;\n', replace: '' }],
    tests: ['test/consumer.test.ts'],
  },
  {
    name: 'consumer-dedupe-skipped-after-kill',
    // The same bug as consumer-no-dedupe, seen by the worker-kill drill: the batch the broker
    // acknowledged before the SIGKILL is published again and must be handled once.
    promise: 'SIGKILL of a worker mid relay batch: the consumer handles each republished message once',
    edits: [{ file: DEDUPE, find: '          if (!mine) return true;\n', replace: '          if (!mine && false) return true;\n' }],
    tests: ['test/outbox-worker-kill.test.ts'],
  },
  {
    name: 'relay-marks-sent-without-ack',
    promise: 'the relay sets sent_at only after the broker acknowledged',
    edits: [{ file: RELAY, find: '        for (const end of spans) end(err);\n        throw err;\n', replace: '        for (const end of spans) end(err);\n' }],
    tests: ['test/outbox-kafka-down.test.ts'],
  },

  // ---- Redis loss -------------------------------------------------------------------------
  {
    name: 'rebuild-without-quiesce',
    promise: 'a rebuild waits out in-flight writes before reading PostgreSQL: nothing oversold after a loss',
    edits: [{ file: LOADER, find: '      await sleep(this.d.quiesceMs);\n', replace: '' }],
    tests: ['test/guard-rebuild.test.ts'],
  },
  {
    name: 'reconcile-ignores-confirmed',
    promise: 'reconciliation marks sold what PostgreSQL confirmed',
    edits: [{ file: RECONCILE, find: "      if (pg === 'confirmed') {", replace: "      if (pg === 'confirmed' && false) {" }],
    tests: ['test/worker.test.ts'],
  },
  {
    name: 'reconcile-frees-orphans-at-once',
    promise: 'a hold still being written is never freed: orphans only after the grace period',
    edits: [{ file: RECONCILE, find: 'if (now - first >= this.graceMs)', replace: 'if (now - first >= 0)' }],
    tests: ['test/worker.test.ts'],
  },
  {
    name: 'worker-jobs-ignore-postgres-breaker',
    promise: "the worker's PostgreSQL jobs (seat release, refunds, reconcile, retention) sit out an open PostgreSQL breaker",
    edits: [{ file: 'src/worker/postgres-gate.ts', find: '    throw new JobSkipped(reason);\n', replace: '    return undefined as never;\n' }],
    tests: ['test/worker-postgres-gate.test.ts'],
  },
  {
    name: 'keys-without-hash-tag',
    promise: 'every key of an event carries the same hash tag (one Redis Cluster slot per event)',
    edits: [{ file: KEYS, find: 'const base = `${prefix}:{evt:${eventId}}`;', replace: 'const base = `${prefix}:evt:${eventId}`;' }],
    tests: ['test/keys.test.ts'],
  },

  {
    name: 'mail-ignores-checkout-address',
    promise: "the confirmation mail goes to the address of the token's email claim given at checkout",
    edits: [{ file: 'src/consumers/notifier.ts', find: '  const to = (await paidEmail(tx, r.id)) ?? recipientFor(userId, mail.userDomain);', replace: '  const to = recipientFor(userId, mail.userDomain);' }],
    tests: ['test/notifications-mail.test.ts'],
  },

  {
    name: 'late-hold-opens-breaker',
    promise: "a hold PostgreSQL wrote too late for its budget answers 503 but does not count against PostgreSQL's breaker",
    edits: [{ file: 'src/resilience/breakers.ts', find: '  if (err instanceof Overloaded) return false;\n', replace: '' }],
    tests: ['test/breaker-overload.test.ts'],
  },
  {
    name: 'request-id-not-on-the-wire',
    promise: 'every answer carries X-Request-Id on a real server (set on the Node response)',
    edits: [{ file: 'src/http/middleware/request-id.ts', find: "    if (outgoing) outgoing.setHeader('X-Request-Id', id);\n    else c.header('X-Request-Id', id);", replace: "    if (!outgoing) c.header('X-Request-Id', id);" }],
    tests: ['test/keep-alive.test.ts'],
  },
  {
    name: 'token-cache-ignores-exp',
    promise: 'a remembered token stops being honoured at its exp',
    edits: [{ file: AUTHN, find: 'untilS: Math.min(claims.exp as number, nowS + CACHE_TTL_S)', replace: 'untilS: nowS + CACHE_TTL_S' }],
    tests: ['test/identity.test.ts'],
  },

  // ---- identity ---------------------------------------------------------------------------
  {
    name: 'jwks-cache-ignores-rotation',
    promise: 'a token verified with a key the provider withdrew is refused after the key set is refetched (no cached pass)',
    edits: [{ file: AUTHN, find: '(hit.keys === -1 || hit.keys === provider?.generation())', replace: '(hit.keys === -1 || hit.keys >= 0)' }],
    tests: ['test/identity.test.ts'],
  },

  // ---- waiting room -----------------------------------------------------------------------
  {
    name: 'queue-rate-change-not-rebased',
    promise: 'admission follows elapsed time x rate; a rate change takes effect from that instant',
    edits: [{ file: QUEUE, find: "    s.base = allowedMilli()\n    s.since = math.max(now, s.open)\n    s.rate = tonumber(ARGV[10])", replace: "    s.base = allowedMilli()\n    s.rate = tonumber(ARGV[10])" }],
    tests: ['test/guard-queue.test.ts'],
  },
  {
    name: 'queue-resume-not-rebased',
    promise: 'paused time is not admitted on resume',
    edits: [{ file: QUEUE, find: "    s.paused = 0\n    s.since = math.max(now, s.open)", replace: '    s.paused = 0' }],
    tests: ['test/guard-queue.test.ts'],
  },
  {
    name: 'queue-banks-idle-allowance',
    promise: 'unused allowance is dropped when the queue is empty (at most one admission banked)',
    edits: [{ file: QUEUE, find: 's.base = math.min(allowedMilli(), (s.count + 1) * 1000)', replace: 's.base = allowedMilli()' }],
    tests: ['test/guard-queue.test.ts'],
  },
  {
    name: 'queue-lobby-not-shuffled',
    promise: 'buyers who join before sales open are shuffled once at opening',
    // The draw is a random score per joiner; a score that follows the join order is no draw.
    edits: [{ file: STORE, find: '  return (randomBytes(8).readBigUInt64BE(0) >> 11n).toString();', replace: '  return String(Date.now() * 1000 + (lobbySeq = (lobbySeq + 1) % 1000));' }, { file: STORE, find: "import { randomBytes } from 'node:crypto';\n", replace: "import { randomBytes } from 'node:crypto';\nlet lobbySeq = 0;\n" }],
    tests: ['test/guard-queue.test.ts'],
  },
  {
    name: 'queue-abandoned-not-skipped',
    promise: 'a holder not seen within the idle window is skipped and uses none of the rate',
    edits: [{ file: QUEUE, find: "        if tonumber(seen[i] or '0') >= cut then", replace: '        if true then' }],
    tests: ['test/queue-skip.test.ts'],
  },
  {
    name: 'pass-not-bound-to-event',
    promise: 'a pass is bound to its event',
    edits: [{ file: TOKENS, find: 'if (!claims || claims.e !== event.id || claims.u !== userId)', replace: 'if (!claims || claims.u !== userId)' }],
    tests: ['test/guard-queue.test.ts'],
  },
  {
    name: 'pass-not-bound-to-user',
    promise: 'a pass is bound to the JWT subject',
    edits: [{ file: TOKENS, find: 'if (!claims || claims.e !== event.id || claims.u !== userId)', replace: 'if (!claims || claims.e !== event.id)' }],
    tests: ['test/guard-queue.test.ts'],
  },
];
