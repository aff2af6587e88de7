import { AsyncResource } from 'node:async_hooks';
import type { Logger } from 'pino';
import type { BoxEvent } from '../events/model';
import { RateMeter } from './meter';
import type { QueueTokens } from './tokens';
import { lobbyView, viewId, waitingView, type QueueView } from './views';
import type { QueueSettings } from './settings';
import type { QueueState, QueueStore } from './store';
import type { SseStream } from './sse';

/** One open stream: a holder watching its place. */
type Listener = {
  userId: string;
  /** Ticket number; 0 until the lobby is frozen at opening. */
  number: number;
  stream: SseStream;
  lastKey: string;
  lastSentAt: number;
};

type Room = {
  event: BoxEvent;
  listeners: Set<Listener>;
  meter: RateMeter;
  state: QueueState | null;
  busy: boolean;
  lastSeenRefresh: number;
  /** Polls keep the room (and its meter) ticking for a while without streams. */
  keepUntil: number;
};

const POLL_KEEP_MS = 30_000;

/**
 * Fan-out: one room per event with open streams (or recent polls), one timer for the whole
 * process. Each tick runs the admission script once per room and pushes the result to every
 * stream of that room, so Redis work grows with events, not with connections. Holders are
 * looked up only when their number comes up (at most the admission rate).
 */
export class QueueHub {
  private readonly rooms = new Map<string, Room>();
  private timer: NodeJS.Timeout | null = null;
  private lastPing = Date.now();
  private draining = false;
  /**
   * The timer starts inside whichever request opens the first room; running it in the
   * scope the hub was built in keeps that request's context (log ids, trace span) from
   * living on in every tick.
   */
  private readonly scope = new AsyncResource('QueueHub');

  constructor(
    private readonly store: QueueStore,
    private readonly tokens: QueueTokens,
    private readonly settings: QueueSettings,
    private readonly logger: Logger,
  ) {}

  get isDraining(): boolean {
    return this.draining;
  }

  stats(): { rooms: number; streams: number; timer: boolean } {
    let streams = 0;
    for (const r of this.rooms.values()) streams += r.listeners.size;
    return { rooms: this.rooms.size, streams, timer: this.timer !== null };
  }

  /** Open streams per event of this process (the API's metrics read it at scrape time). */
  streamsByEvent(): Map<string, number> {
    return new Map([...this.rooms].map(([id, r]) => [id, r.listeners.size]));
  }

  /** The measured rate of an event's room, for snapshots; a poll keeps the room alive. */
  meterFor(event: BoxEvent): RateMeter {
    const room = this.room(event);
    room.keepUntil = Date.now() + POLL_KEEP_MS;
    return room.meter;
  }

  /** The measured rate of a room this process already has, if any. */
  meterIfOpen(eventId: string): RateMeter | undefined {
    return this.rooms.get(eventId)?.meter;
  }

  /** Registers a stream that has already been sent its first view. */
  watch(event: BoxEvent, userId: string, number: number, stream: SseStream, first: QueueView): () => void {
    const room = this.room(event);
    const l: Listener = { userId, number, stream, lastKey: viewId(first), lastSentAt: Date.now() };
    room.listeners.add(l);
    return () => {
      room.listeners.delete(l);
      this.release(room);
    };
  }

  /** Ends every stream with a reconnect hint (spread out, so clients do not return at once). */
  async drain(): Promise<void> {
    this.draining = true;
    for (const room of this.rooms.values()) {
      for (const l of [...room.listeners]) l.stream.close(this.settings.retryMs * (0.5 + Math.random()));
    }
    this.rooms.clear();
    this.stop();
  }

  private room(event: BoxEvent): Room {
    let room = this.rooms.get(event.id);
    if (!room) {
      room = {
        event,
        listeners: new Set(),
        meter: new RateMeter(this.settings.etaWindowMs),
        state: null,
        busy: false,
        lastSeenRefresh: Date.now(),
        keepUntil: 0,
      };
      this.rooms.set(event.id, room);
      this.timer ??= this.scope.runInAsyncScope(() => setInterval(() => this.tick(), this.settings.tickMs));
    } else {
      room.event = event;
    }
    return room;
  }

  private release(room: Room): void {
    if (room.listeners.size || room.keepUntil > Date.now()) return;
    if (this.rooms.get(room.event.id) === room) this.rooms.delete(room.event.id);
    if (!this.rooms.size) this.stop();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const now = Date.now();
    const ping = now - this.lastPing >= this.settings.pingMs;
    if (ping) this.lastPing = now;
    for (const room of [...this.rooms.values()]) {
      if (ping) for (const l of room.listeners) l.stream.comment('ping');
      if (!room.listeners.size && room.keepUntil <= now) {
        this.release(room);
        continue;
      }
      if (room.busy) continue;
      room.busy = true;
      this.tickRoom(room)
        .catch((err) => this.logger.warn({ err, eventId: room.event.id }, 'queue tick failed'))
        .finally(() => {
          room.busy = false;
        });
    }
  }

  private async tickRoom(room: Room): Promise<void> {
    const { event } = room;
    const st = await this.store.advance(event);
    room.state = st;
    room.meter.add(st.now, st.admitted, st.issued, st.paused);
    const now = Date.now();

    if (now - room.lastSeenRefresh >= this.settings.seenRefreshMs) {
      room.lastSeenRefresh = now;
      await this.store.touch(event, [...new Set([...room.listeners].map((l) => l.userId))]);
    }

    // Lobby holders learn their number (their rank in the draw) once, right after opening.
    const unnumbered = st.shuffled ? [...room.listeners].filter((l) => l.number === 0) : [];
    if (unnumbered.length) {
      const entries = await this.store.lookup(event.id, unnumbered.map((l) => l.userId), true);
      unnumbered.forEach((l, i) => {
        const e = entries[i];
        if (e && e.kind !== 'lobby') l.number = e.number;
      });
    }

    // Holders whose number came up: admitted (or, if they were skipped after all, queued again).
    const due = [...room.listeners].filter((l) => l.number > 0 && l.number <= st.admitted);
    if (due.length) {
      const entries = await this.store.lookup(event.id, due.map((l) => l.userId));
      await Promise.all(
        due.map(async (l, i) => {
          const e = entries[i];
          if (e?.kind === 'admitted' && e.number === l.number) return this.admit(l, event, e.at);
          const j = await this.store.join(event, l.userId);
          if (j.status === 'admitted') return this.admit(l, event, j.admittedAt);
          l.number = j.number;
        }),
      );
    }

    for (const l of room.listeners) {
      if (l.number > st.admitted || l.number === 0) this.push(l, l.number === 0 ? lobbyView(st) : waitingView(l.number, st, room.meter), now);
    }
  }

  private admit(l: Listener, event: BoxEvent, at: number): void {
    if (l.stream.closed) return;
    const view = this.tokens.pass(event, l.userId, at);
    l.stream.send('admitted', viewId(view), view);
    l.stream.close();
  }

  /** A position event when the place changed, at most one per interval per stream. */
  private push(l: Listener, view: QueueView, now: number): void {
    const key = viewId(view);
    if (key === l.lastKey || now - l.lastSentAt < this.settings.positionIntervalMs || !l.stream.writable) return;
    l.lastKey = key;
    l.lastSentAt = now;
    l.stream.send('position', key, view);
  }
}
