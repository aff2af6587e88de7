// postgres.js 3.4.9 can send a transaction's BEGIN without reserving its connection when
// BEGIN is the query that fills the connection's pipeline (porsager/postgres#823, #1189):
// the caller gets UNSAFE_TRANSACTION, or worse, the open transaction goes back to the pool
// and unrelated queries run inside it. patches/postgres+3.4.9.patch applies the upstream
// fix (porsager/postgres#1218). The race below is #823's reproduction, made deterministic
// with a pipeline of 2 so it needs no luck.
import { randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { TEST_DATABASE_URL } from './env';

describe('postgres.js transactions under a full pipeline (patched driver)', () => {
  it('every sql.begin gets its own reserved connection: no UNSAFE_TRANSACTION, no transaction left open', async () => {
    const app = `pg-driver-${randomUUID().slice(0, 8)}`;
    // max_pipeline is a real option (src/index.js), missing from the package's types.
    const options = { max: 3, max_pipeline: 2, onnotice: () => {}, connection: { application_name: app } };
    const sql = postgres(TEST_DATABASE_URL, options);
    const failures: string[] = [];
    try {
      await Promise.all([sql`select 1`, sql`select 1`, sql`select 1`]); // all three connections open
      for (let round = 0; round < 10; round++) {
        // Every connection busy with one query and a second pipelined behind it (execute()
        // sends at once; a tagged query waits for the next tick), then the transactions:
        // each BEGIN is dispatched as the last slot of a busy connection's pipeline.
        const busy = Array.from({ length: 3 }, () => sql`select pg_sleep(0.1)`.execute());
        const plain = Array.from({ length: 3 }, (_, i) => sql`select ${i}::int as i`.execute());
        const txs = Array.from({ length: 5 }, (_, i) => sql.begin(async (tx) => (await tx`select ${i}::int as i`)[0]));
        const settled = await Promise.allSettled([...busy, ...plain, ...txs]);
        for (const s of settled) if (s.status === 'rejected') failures.push(`round ${round}: ${(s.reason as Error).message}`);
        // Nothing may be left idle in a transaction on the pool's connections.
        const [open] = await sql<{ n: number }[]>`
          select count(*)::int as n from pg_stat_activity
          where application_name = ${app} and state = 'idle in transaction' and pid <> pg_backend_pid()`;
        if (open!.n > 0) failures.push(`round ${round}: ${open!.n} connection(s) idle in transaction`);
      }
    } finally {
      await sql.end({ timeout: 5 });
    }
    expect(failures).toEqual([]);
  });
});
