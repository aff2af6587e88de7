// Chrome DevTools Protocol client for scripts/profile.sh (Node 20: --experimental-websocket).
import { writeFile, open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

const [kind, port, secs, out] = process.argv.slice(2) as [string, string, string, string];

async function targetUrl(): Promise<string> {
  for (let i = 0; i < 50; i++) {
    try {
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
      if (list[0]) return list[0].webSocketDebuggerUrl;
    } catch {}
    await sleep(100);
  }
  throw new Error(`no inspector on 127.0.0.1:${port}`);
}

const ws = new WebSocket(await targetUrl());
await new Promise((resolve, reject) => {
  ws.onopen = resolve;
  ws.onerror = reject;
});
let nextId = 1;
const pending = new Map<number, (v: any) => void>();
const listeners: ((m: any) => void)[] = [];
ws.onmessage = (e) => {
  const msg = JSON.parse(String(e.data));
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)!(msg.result);
    pending.delete(msg.id);
  } else listeners.forEach((l) => l(msg));
};
const send = (method: string, params: object = {}) =>
  new Promise<any>((resolve) => {
    const id = nextId++;
    pending.set(id, resolve);
    ws.send(JSON.stringify({ id, method, params }));
  });

if (kind === 'cpu') {
  await send('Profiler.enable');
  await send('Profiler.start');
  process.stderr.write(`profiling CPU for ${secs} s...\n`);
  await sleep(Number(secs) * 1000);
  const { profile } = await send('Profiler.stop');
  await writeFile(out, JSON.stringify(profile));
} else {
  const file = await open(out, 'w');
  listeners.push((m) => {
    if (m.method === 'HeapProfiler.addHeapSnapshotChunk') void file.write(m.params.chunk);
  });
  await send('HeapProfiler.enable');
  await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
  await file.close();
}
ws.close();
process.stdout.write(`${out}\n`);
