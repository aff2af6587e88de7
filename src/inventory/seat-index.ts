/**
 * The seat index of a seated zone, built in TypeScript by the loader in the exact format the
 * Lua scripts maintain (lua/includes/seatIndex.lua documents it): a bitmap, one byte per seat
 * ("0" free, "1" held or sold), and a segment tree over rows whose nodes hold a 31-bit mask
 * of the free-run lengths present (bit k-1: a run of exactly k) and the longest free run.
 */
export const NODE_BYTES = 6;

export type RowSummary = { mask: number; longest: number };

export function rowSummary(row: Uint8Array): RowSummary {
  let mask = 0;
  let longest = 0;
  let run = 0;
  const end = (len: number) => {
    if (len === 0) return;
    if (len > longest) longest = len;
    if (len <= 31) mask |= 2 ** (len - 1);
  };
  for (const b of row) {
    if (b === 0x30) run++;
    else {
      end(run);
      run = 0;
    }
  }
  end(run);
  return { mask: mask >>> 0, longest };
}

export function leavesFor(rows: number): number {
  let p = 1;
  while (p < rows) p *= 2;
  return p;
}

/** The index string for a zone's bitmap (rows x perRow bytes). */
export function buildIndex(free: Uint8Array, rows: number, perRow: number): { index: Buffer; leaves: number } {
  const leaves = leavesFor(rows);
  const index = Buffer.alloc((2 * leaves - 1) * NODE_BYTES);
  const mask = new Array<number>(2 * leaves).fill(0);
  const longest = new Array<number>(2 * leaves).fill(0);
  for (let r = 0; r < rows; r++) {
    const s = rowSummary(free.subarray(r * perRow, (r + 1) * perRow));
    mask[leaves + r] = s.mask;
    longest[leaves + r] = s.longest;
  }
  for (let i = leaves - 1; i >= 1; i--) {
    mask[i] = (mask[2 * i]! | mask[2 * i + 1]!) >>> 0;
    longest[i] = Math.max(longest[2 * i]!, longest[2 * i + 1]!);
  }
  for (let i = 1; i < 2 * leaves; i++) {
    index.writeUInt32BE(mask[i]!, (i - 1) * NODE_BYTES);
    index.writeUInt16BE(longest[i]!, (i - 1) * NODE_BYTES + 4);
  }
  return { index, leaves };
}

/** Longest free run in a zone, from its index (the root node). */
export function longestRun(index: Buffer): number {
  return index.length >= NODE_BYTES ? index.readUInt16BE(4) : 0;
}
