import { randomBytes } from 'node:crypto';
import type { BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { queueIndexKey, queueKeys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import type { QueueSettings } from './settings';

/** One event's admission state, as lua/queue-7.lua left it. */
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
  /** Live passes (counted only when the event has a cap). */
  active: number;
  /** Passes ended early (spent or revoked). */
  ended: number;
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
  | { kind: 'skipped'; number: number }
  | { kind: 'ended'; number: number };

export type ControlOp = 'pause' | 'resume' | 'rate';

const STATUS = ['lobby', 'waiting', 'admitted'] as const;

/** Ids per script call or read when many holders are touched or looked up at once. */
const CHUNK = 1_000;

/** A uniform random integer in [0, 2^53): exact as a double, so Redis keeps it as drawn. */
export function drawScore(): string {
  return (randomBytes(8).readBigUInt64BE(0) >> 11n).toString();
}

/** The cap on live passes of an event (0: none). */
export const maxActiveOf = (event: BoxEvent): number => event.queue.maxActive ?? 0;

/** The TS side of lua/queue-7.lua and the plain reads beside it. */
export class QueueStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly settings: QueueSettings,
    /** Lobby scores; tests pass a fixed sequence to force a collision. */
    private readonly draw: () => string = drawScore,
  ) {}

  private async run(event: BoxEvent, op: string, extra: (string | number)[], score = '0'): Promise<number[]> {
    const k = queueKeys(this.prefix, event.id);
    const r = (await runScript(
      this.redis,
      'queue',
      [k.state, k.lobby, k.order, k.users, k.seen, k.active, k.ended],
      [
        op,
        event.salesOpenAt.getTime(),
        event.queue.admitPerSecond,
        score,
        this.settings.idleSkipMs,
        event.queue.passSeconds * 1000,
        this.settings.maxScan,
        maxActiveOf(event),
        ...extra,
      ],
    )) as number[];
    return r.map(Number);
  }

  async advance(event: BoxEvent): Promise<QueueState> {
    return toState(await this.run(event, 'advance', []));
  }

  async join(event: BoxEvent, userId: string): Promise<JoinOutcome> {
    let r = await this.run(event, 'join', [userId], this.draw());
    // A lobby score already taken (about L / 2^53 per join): draw again, so scores stay distinct.
    for (let tries = 0; r[0] === -1; tries++) {
      if (tries >= 8) throw new Error('queue: no free lobby score after 8 draws');
      r = await this.run(event, 'join', [userId], this.draw());
    }
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

  /** Marks holders as seen now (one bounded command per thousand holders). */
  async touch(event: BoxEvent, userIds: string[]): Promise<void> {
    for (let i = 0; i < userIds.length; i += CHUNK) await this.run(event, 'touch', userIds.slice(i, i + CHUNK));
  }

  async control(event: BoxEvent, op: ControlOp, rate?: number): Promise<QueueState> {
    return toState(await this.run(event, 'control', op === 'rate' ? [op, rate!] : [op]));
  }

  /**
   * Ends a user's pass early: "d" when it was spent (its holder confirmed or cancelled), "r"
   * when an admin revoked it. Returns the ended pass's admission time, or null when the user
   * held no pass to end. Its place goes to the next buyer in the same call.
   */
  async endPass(event: BoxEvent, userId: string, kind: 'd' | 'r'): Promise<number | null> {
    const r = await this.run(event, 'end', [userId, kind]);
    return r[10] === 1 ? r[13]! : null;
  }

  /** The hold path's one cheap lookup: how the user's latest pass ended early, if it did. */
  async endedPass(eventId: string, userId: string): Promise<{ kind: 'spent' | 'revoked'; admittedAt: number } | null> {
    const v = await this.redis.hget(queueKeys(this.prefix, eventId).ended, userId);
    if (!v) return null;
    const [kind, at] = v.split('|');
    return { kind: kind === 'r' ? 'revoked' : 'spent', admittedAt: Number(at) };
  }

  /**
   * Entries of several holders (bounded reads of a thousand). Once the lobby is frozen
   * (`opened`), a lobby entry is reported as waiting with its number, its rank in the draw.
   */
  async lookup(eventId: string, userIds: string[], opened = false): Promise<(Entry | null)[]> {
    const k = queueKeys(this.prefix, eventId);
    const out: (Entry | null)[] = [];
    for (let i = 0; i < userIds.length; i += CHUNK) {
      const ids = userIds.slice(i, i + CHUNK);
      const entries = (await this.redis.hmget(k.users, ...ids)).map(parseEntry);
      const lobby = opened ? ids.filter((_, j) => entries[j]?.kind === 'lobby') : [];
      if (lobby.length) {
        const p = this.redis.pipeline();
        for (const u of lobby) p.zrank(k.lobby, u);
        const ranks = (await p.exec())!.map(([err, rank]) => (err || rank === null ? null : Number(rank)));
        let j = 0;
        entries.forEach((e, m) => {
          if (e?.kind !== 'lobby') return;
          const rank = ranks[j++];
          if (rank !== null && rank !== undefined) entries[m] = { kind: 'waiting', number: rank + 1 };
        });
      }
      out.push(...entries);
    }
    return out;
  }

  /** Joins refused so far, by reason. */
  async refused(eventId: string): Promise<Record<string, number>> {
    const h = await this.redis.hgetall(queueKeys(this.prefix, eventId).refused);
    return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)]));
  }
}

export function parseEntry(v: string | null): Entry | null {
  if (v === null) return null;
  if (v === '0') return { kind: 'lobby' };
  const [n, kind, at] = v.split('|');
  const number = Number(n);
  if (kind === 'a') return { kind: 'admitted', number, at: Number(at) };
  if (kind === 's') return { kind: 'skipped', number };
  if (kind === 'e') return { kind: 'ended', number };
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
    active: r[14] ?? 0,
    ended: r[15] ?? 0,
  };
}
