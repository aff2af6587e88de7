import type postgres from 'postgres';
import type { Sql } from '../db/client';

export type CursorQuery<T extends postgres.Row> = (sql: postgres.ReservedSql<Record<string, never>>) => postgres.PendingQuery<T[]>;

/**
 * Rows of one query in batches from a server-side cursor, on a connection of its own.
 *
 * The pool sets statement_timeout on every connection to bound request work; a cursor's
 * statement lasts until its last batch, so a long export would be killed by it. The query
 * runs in a read-only transaction with `set local statement_timeout = 0`, which ends with
 * the transaction: the connection goes back to the pool with the pool's setting.
 *
 * Leaving early (`return()` on this generator, as the stream does when the client goes
 * away) closes the cursor, rolls back and releases the connection at once.
 */
export async function* cursorBatches<T extends postgres.Row>(
  sql: Sql,
  query: CursorQuery<T>,
  batchRows = 500,
): AsyncGenerator<T[], void, undefined> {
  const conn = await sql.reserve();
  let open = false;
  try {
    await conn`begin read only`;
    open = true;
    await conn`set local statement_timeout = 0`;
    for await (const batch of query(conn).cursor(batchRows)) yield batch as T[];
    await conn`commit`;
    open = false;
  } finally {
    if (open) await conn`rollback`.catch(() => {});
    conn.release();
  }
}
