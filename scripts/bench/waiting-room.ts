// npm run bench:waiting-room [-- --quick] [--keep]
//
// The waiting-room scenario of `npm run bench` on its own (see suite/waiting-room.ts): a
// private redis-server for the room, the bench database schema for the one API process.
// Writes artifacts/bench/<timestamp>-waiting/result.json and report.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { progress } from './suite/common';
import { benchEnv, ROOT, shortId } from './suite/stack';
import { waitingOptions } from './suite/waiting-options';
import { waitingRoom } from './suite/waiting-room';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = `${ROOT}artifacts/bench/${stamp}-waiting`;
await mkdir(outDir, { recursive: true });
const be = await benchEnv(shortId());
try {
  const t0 = Date.now();
  const r = await waitingRoom(be, waitingOptions(args.quick));
  await writeFile(`${outDir}/result.json`, JSON.stringify({ wallSeconds: Math.round((Date.now() - t0) / 1000), quick: args.quick, ...r.figures }, null, 2));
  await writeFile(`${outDir}/report.md`, `# waiting room ${stamp}${args.quick ? ' (--quick)' : ''}\n\n${r.markdown}`);
  progress(`report: ${outDir}/report.md`);
} finally {
  await be.close({ keep: args.keep });
}
process.exit(0);
