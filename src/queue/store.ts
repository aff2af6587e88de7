import { randomInt } from 'node:crypto';
import type { BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { queueIndexKey, queueKeys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import type { QueueSettings } from './settings';

/** One event's admission state, as lua/queue-5.lua left it. */
export type QueueState = {
  /** Redis clock (ms) when the state was read. */
  now: number;
  /** admittedUpTo: the highest ticket number passed (admitted or skipped). */
  admitted: number;
  issued: number;
  lobbySize: number;
  paused: boolean;
  rate: number;
  openAt: number;
  shuffled: boolean;
  skipped: number;
  /** Buyers admitted (skipped tickets excluded). */
  admittedCount: number;
};

export type JoinOutcome = QueueState & {
  created: boolean;
  status: 'lobby' | 'waiting' | 'admitted';
  /** Ticket number; 0 while in the lobby. */
  number: number;
  admittedAt: number;
};

/** A holder's entry in the users hash. */
export type Entry =
  | { kind: 'lobby' }
  | { kind: 'waiting'; number: number }
  | { kind: 'admitted'; number: number; at: number }
  | { kind: 'skipped'; number: number };

export type ControlOp = 'pause' | 'resume' | 'rate';

const STATUS = ['lobby', 'waiting', 'admitted'] as const;

/** The TS side of lua/queue-5.lua and the plain reads beside it. */
export class QueueStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly settings: QueueSettings,
  ) {}

  private async run(event: BoxEvent, op: string, extra: (string | number)[]): Promise<number[]> {
    const k = queueKeys(this.prefix, event.id);
    const r = (await runScript(
      this.redis,
      'queue',
      [k.state, k.lobby, k.order, k.users, k.seen],
      [
        op,
        event.salesOpenAt.getTime(),
        event.queue.admitPerSecond,
        randomInt(1, 2 ** 31 - 1),
        this.settings.idleSkipMs,
        event.queue.passSeconds * 1000,
        this.settings.maxScan,
        ...extra,
      ],
    )) as number[];
    return r.map(Number);
  }

  async advance(event: BoxEvent): Promise<QueueState> {
    return toState(await this.run(event, 'advance', []));
  }

  async join(event: BoxEvent, userId: string): Promise<JoinOutcome> {
    const r = await this.run(event, 'join', [userId]);
    if (r[10] === 1) {
      // Lets worker tickers find the room; the score drops it once sales close.
      void this.redis.zadd(queueIndexKey(this.prefix), event.salesCloseAt.getTime(), event.id).catch(() => {});
    }
    return {
      ...toState(r),
      created: r[10] === 1,
      status: STATUS[r[11]!]!,
      number: r[12]!,
      admittedAt: r[13]!,
    };
  }

  /** Marks holders as seen now (one command, however many). */
  async touch(event: BoxEvent, userIds: string[]): Promise<void> {
    if (userIds.length) await this.run(event, 'touch', userIds);
  }

  async control(event: BoxEvent, op: ControlOp, rate?: number): Promise<QueueState> {
    return toState(await this.run(event, 'control', op === 'rate' ? [op, rate!] : [op]));
  }

  /** Entries of several holders in one read. */
  async lookup(eventId: string, userIds: string[]): Promise<(Entry | null)[]> {
    if (!userIds.length) return [];
    const values = await this.redis.hmget(queueKeys(this.prefix, eventId).users, ...userIds);
    return values.map(parseEntry);
  }
}

export function parseEntry(v: string | null): Entry | null {
  if (v === null) return null;
  if (v === '0') return { kind: 'lobby' };
  const [n, kind, at] = v.split('|');
  const number = Number(n);
  if (kind === 'a') return { kind: 'admitted', number, at: Number(at) };
  if (kind === 's') return { kind: 'skipped', number };
  return { kind: 'waiting', number };
}

function toState(r: number[]): QueueState {
  return {
    now: r[0]!,
    admitted: r[1]!,
    issued: r[2]!,
    lobbySize: r[3]!,
    paused: r[4] === 1,
    rate: r[5]!,
    openAt: r[6]!,
    shuffled: r[7] === 1,
    skipped: r[8]!,
    admittedCount: r[9]!,
  };
}
