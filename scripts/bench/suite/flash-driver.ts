// One flash-sale driver process (forked by flash-drivers.ts): a slice of the buyers with its
// own keep-alive agent. It signs its buyers' tokens, joins them to the lobby, runs their sale
// and sends its measurements back; once a second it reports its own backlog, CPU and
// event-loop delay, so the report can tell a busy driver from a busy server.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashClient } from './client';
import { signTokens } from './common';
import type { DriverInit, DriverTick, FromDriver, ToDriver } from './flash-protocol';
import { Sale } from './flash-sale';

let init: DriverInit;
let client: FlashClient;
let buyers: { sub: string; token: string }[] = [];
let tickets: (string | undefined)[] = [];
let sale: Sale | null = null;
let phase: DriverTick['phase'] = 'join';
let ticker: NodeJS.Timeout | undefined;
const cpuAtStart = process.cpuUsage();

const send = (m: FromDriver) => process.send!(m);

function startTicks(): void {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let cpu = process.cpuUsage();
  let at = performance.now();
  ticker = setInterval(() => {
    const nowCpu = process.cpuUsage();
    const now = performance.now();
    const cores = (nowCpu.user - cpu.user + nowCpu.system - cpu.system) / 1000 / (now - at);
    cpu = nowCpu;
    at = now;
    const counts = sale?.counts;
    send({
      type: 'tick',
      tick: {
        index: init.index,
        epoch: Date.now(),
        phase,
        backlog: client.backlog,
        peakBacklog: client.takePeakBacklog(),
        pollBacklog: client.pollBacklog,
        inFlight: client.active,
        cores: Math.round(cores * 100) / 100,
        loopDelayP99: Math.round(loop.percentile(99) / 1e4) / 100,
        loopDelayMax: Math.round(loop.max / 1e4) / 100,
        admitted: counts?.admitted ?? 0,
        holds: counts?.holds ?? 0,
        confirmedSeats: counts?.confirmedSeats ?? 0,
        waitingToRetry: sale?.waitingToRetry ?? 0,
      },
    });
    loop.reset();
  }, 1_000);
}

/** Closed loop: as fast as the server answers, `limit` at a time. */
async function calibrate(eventId: string, count: number): Promise<number> {
  const t = performance.now();
  await Promise.all(buyers.slice(0, count).map((b) => client.request('join (calibration)', 'POST', `/v1/events/${eventId}/queue`, { token: b.token })));
  return (performance.now() - t) / 1000;
}

/** Open loop: joins offered at `perSecond` whatever the answers (up to 5 tries each). */
async function join(eventId: string, perSecond: number) {
  tickets = new Array(buyers.length);
  let joined = 0;
  let joinedLate = 0;
  const t = performance.now();
  const one = async (i: number) => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await client.request('POST queue (join)', 'POST', `/v1/events/${eventId}/queue`, { token: buyers[i]!.token, priority: 1 });
      if (r.status === 201 || r.status === 200) {
        tickets[i] = r.json.ticket;
        if (r.json.status !== 'lobby') joinedLate++;
        joined++;
        return;
      }
      await sleep(500);
    }
  };
  const all: Promise<void>[] = [];
  for (let i = 0; i < buyers.length; ) {
    const due = Math.min(buyers.length, Math.floor(((performance.now() - t) / 1000) * perSecond) + 1);
    for (; i < due; i++) all.push(one(i));
    await sleep(5);
  }
  await Promise.all(all);
  return { joined, joinedLate, seconds: (performance.now() - t) / 1000 };
}

async function open(eventId: string, openEpoch: number): Promise<void> {
  phase = 'sale';
  client.t0 = openEpoch - performance.timeOrigin;
  sale = new Sale(client, eventId, init.layout, init.pay);
  const outcome = await sale.run(buyers, tickets);
  clearInterval(ticker);
  const cpu = process.cpuUsage(cpuAtStart);
  client.close();
  send({
    type: 'result',
    result: {
      index: init.index,
      latencies: client.latencies,
      statuses: client.statuses,
      timeline: client.timeline,
      slotWaits: client.slotWaits,
      outcome: {
        counts: outcome.counts,
        confirmedIds: [...outcome.confirmedIds],
        abandonedIds: [...outcome.abandonedIds],
        lateIds: [...outcome.lateIds],
        failedIds: [...outcome.failedIds],
        lateOutcomes: outcome.lateOutcomes,
      },
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    },
  });
}

process.on('message', (m: ToDriver) => {
  const run = async () => {
    switch (m.type) {
      case 'init':
        init = m.init;
        client = new FlashClient(init.port, init.concurrency);
        buyers = await signTokens(init.jwtSecret, init.to - init.from, init.subPrefix, init.from);
        startTicks();
        send({ type: 'ready', index: init.index });
        break;
      case 'calibrate':
        send({ type: 'calibrated', index: init.index, seconds: await calibrate(m.eventId, m.count) });
        break;
      case 'join':
        send({ type: 'joined', index: init.index, ...(await join(m.eventId, m.perSecond)) });
        break;
      case 'open':
        void open(m.eventId, m.openEpoch).catch(fail);
        break;
      case 'availability':
        sale?.setAvailability(m.ga, m.seated);
        break;
      case 'seats':
        sale?.setSeatMap(m.free);
        break;
      case 'end':
        sale?.end();
        break;
    }
  };
  run().catch(fail);
});

function fail(err: unknown): void {
  send({ type: 'error', index: init?.index ?? -1, message: (err as Error)?.stack ?? String(err) });
}

// The coordinator went away: nothing left to report to.
process.on('disconnect', () => process.exit(0));
