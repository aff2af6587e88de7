import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { EventCatalog } from '../events/catalog';
import { salesState, type BoxEvent } from '../events/model';
import type { RedisClient } from '../redis/client';
import { queueIndexKey } from '../redis/keys';
import { Errors } from '../shared/errors';
import { JoinGuard } from './guard';
import { QueueHub } from './hub';
import { queueSettings, type QueueSettings } from './settings';
import { SseStream } from './sse';
import { QueueStore, type QueueState } from './store';
import { QueueTokens } from './tokens';
import { viewId, viewOf } from './views';

export type QueueServiceDeps = {
  redis: RedisClient;
  prefix: string;
  config: Config['queue'];
  secret: string;
  /** Earlier queue secrets, still accepted for verification (rotation). */
  previousSecrets?: readonly string[];
  catalog: EventCatalog;
  logger: Logger;
  /** Keeps a new admission rate in PostgreSQL, so a room rebuilt after a Redis loss starts at it. */
  persistRate: (eventId: string, rate: number) => Promise<void>;
};

/**
 * The waiting room, built once per process: its Redis store, its tokens and the SSE hub,
 * shared by the queue routes, the organiser's stats and the admission job.
 */
export class QueueService {
  readonly settings: QueueSettings;
  readonly store: QueueStore;
  readonly tokens: QueueTokens;
  readonly hub: QueueHub;
  readonly guard: JoinGuard;

  constructor(private readonly d: QueueServiceDeps) {
    this.settings = queueSettings(d.config);
    this.store = new QueueStore(d.redis, d.prefix, this.settings);
    this.tokens = new QueueTokens(d.secret, d.previousSecrets);
    this.hub = new QueueHub(this.store, this.tokens, this.settings, d.logger);
    this.guard = new JoinGuard(d.redis, d.prefix, this.settings, [d.secret, ...(d.previousSecrets ?? [])]);
  }

  /** The event behind a waiting-room route: 404 unknown, 409 without a queue or after sales. */
  async event(id: string, opts: { joining?: boolean } = {}): Promise<BoxEvent> {
    const event = await this.d.catalog.get(id);
    if (!event) throw Errors.notFound('event');
    if (!event.queue.enabled) throw Errors.conflict('QUEUE_DISABLED', 'this event has no waiting room');
    if (opts.joining && salesState(event) === 'closed') {
      throw Errors.salesClosed({ salesCloseAt: event.salesCloseAt.toISOString() });
    }
    return event;
  }

  /**
   * One ticket per user and event; joining again returns the same ticket. Joins pass the
   * event's proof of work (if any) and the join limits first.
   */
  async join(eventId: string, userId: string, client: { address: string; challenge?: string } = { address: 'unknown' }) {
    const event = await this.event(eventId, { joining: true });
    await this.guard.admit(event, userId, client.address, client.challenge);
    const j = await this.store.join(event, userId);
    const view = viewOf(this.tokens, event, userId, j, this.hub.meterFor(event));
    const position = view.status === 'waiting' ? view.position : view.status === 'admitted' ? 0 : null;
    return { created: j.created, body: { ticket: this.tokens.ticket(event, userId), position, ...view } };
  }

  /** A ticket's view for clients that poll; counts as being seen. */
  async snapshot(eventId: string, ticket: string) {
    const userId = this.tokens.readTicket(eventId, ticket);
    const event = await this.event(eventId);
    return viewOf(this.tokens, event, userId, await this.store.join(event, userId), this.hub.meterFor(event));
  }

  /**
   * The SSE response for a ticket; null when it was admitted on an earlier connection (204).
   * `head`: the same checks and headers, but nothing is watched (HEAD has no body to end, so
   * a stream opened for it would live on). `onEnd` is how the HTTP layer says the response
   * is over by whatever path (finished, client gone, socket destroyed): the stream is
   * released then, even if its body was never read.
   */
  async stream(
    eventId: string,
    ticket: string,
    lastEventId: string | undefined,
    opts: { head?: boolean; onEnd?: (release: () => void) => void } = {},
  ): Promise<Response | null> {
    const userId = this.tokens.readTicket(eventId, ticket);
    const event = await this.event(eventId);
    if (opts.head) return SseStream.headResponse();
    if (this.hub.isDraining) {
      // This instance is stopping: tell the client to come back (to another one) shortly.
      const s = new SseStream(() => {});
      s.close(this.settings.retryMs);
      return s.response();
    }
    const j = await this.store.join(event, userId);
    const first = viewOf(this.tokens, event, userId, j, this.hub.meterIfOpen(event.id));
    if (first.status === 'admitted' && lastEventId === 'admitted') return null;
    let unwatch = () => {};
    const stream = new SseStream(() => unwatch());
    stream.retry(this.settings.retryMs);
    stream.send(first.status === 'admitted' ? 'admitted' : 'position', viewId(first), first);
    if (first.status === 'admitted') stream.close();
    else {
      unwatch = this.hub.watch(event, userId, j.number, stream, first);
      opts.onEnd?.(() => stream.close());
    }
    return stream.response();
  }

  /** A proof-of-work challenge for joining (ALTCHA format); 409 when the event asks for none. */
  async challenge(eventId: string) {
    const event = await this.event(eventId, { joining: true });
    if (event.queue.challenge !== 'pow') throw Errors.conflict('CHALLENGE_DISABLED', 'this waiting room asks for no challenge');
    return this.guard.challenge(event);
  }

  /** The admin's view of a waiting room (also part of the organiser's stats). */
  adminView(eventId: string, st: QueueState, refused: Record<string, number> = {}, maxActive: number | null = null) {
    return {
      eventId,
      opensAt: new Date(st.openAt).toISOString(),
      paused: st.paused,
      admitPerSecond: st.rate,
      lobbySize: st.lobbySize,
      issued: st.issued,
      admittedUpTo: st.admitted,
      admitted: st.admittedCount,
      skipped: st.skipped,
      waiting: st.issued - st.admitted,
      maxActive,
      activePasses: maxActive ? st.active : null,
      endedPasses: st.ended,
      refused: { user: 0, address: 0, challenge: 0, replay: 0, ...refused },
    };
  }

  /** The admin's view of an event's room, advanced to now. */
  async stateOf(event: BoxEvent) {
    const [st, refused] = await Promise.all([this.store.advance(event), this.store.refused(event.id)]);
    return this.adminView(event.id, st, refused, event.queue.maxActive ?? null);
  }

  async adminState(eventId: string) {
    return this.stateOf(await this.event(eventId));
  }

  /** Revokes the user's pass (403 QUEUE_PASS_REVOKED from then on); 404 when the user holds none. */
  async revoke(eventId: string, userId: string) {
    const event = await this.event(eventId);
    const at = await this.store.endPass(event, userId, 'r');
    if (at === null) throw Errors.notFound('queue pass');
    return { eventId, userId, status: 'revoked' as const, admittedAt: new Date(at).toISOString() };
  }

  /**
   * The holder confirmed or cancelled: the pass is spent (one admission buys once) and its
   * place under the cap goes to the next buyer.
   */
  async passSpent(eventId: string, userId: string): Promise<void> {
    const event = await this.d.catalog.get(eventId);
    if (event?.queue.enabled) await this.store.endPass(event, userId, 'd');
  }

  /** Pause, resume or change the rate; takes effect in every process at once. */
  async update(eventId: string, change: { admitPerSecond?: number; paused?: boolean }) {
    const event = await this.event(eventId);
    let st = await this.store.advance(event);
    if (change.admitPerSecond !== undefined) {
      st = await this.store.control(event, 'rate', change.admitPerSecond);
      await this.d.persistRate(eventId, change.admitPerSecond);
    }
    if (change.paused !== undefined) st = await this.store.control(event, change.paused ? 'pause' : 'resume');
    return this.adminView(eventId, st);
  }

  /**
   * Advances every waiting room whose sales are still open, so admission keeps its pace
   * with no stream open anywhere; safe in any number of processes (atomic, Redis clock).
   */
  async advanceOpenRooms(): Promise<{ eventId: string; state: QueueState }[]> {
    const index = queueIndexKey(this.d.prefix);
    const now = Date.now();
    await this.d.redis.zremrangebyscore(index, '-inf', now);
    const ids = await this.d.redis.zrangebyscore(index, now, '+inf');
    const rooms = await Promise.all(
      ids.map(async (id) => {
        const event = await this.d.catalog.get(id);
        return event?.queue.enabled ? { eventId: id, state: await this.store.advance(event) } : null;
      }),
    );
    return rooms.filter((r) => r !== null);
  }

  /**
   * The waiting room's say on a hold: the pass is verified in process, then one HGET tells
   * whether it was spent or revoked. A pass whose room Redis no longer knows stays good
   * (a lost queue state must not turn every admitted buyer away).
   */
  readonly checkPass = async (event: BoxEvent, userId: string, pass: string | undefined): Promise<void> => {
    const admittedAt = this.tokens.checkPass(event, userId, pass);
    const ended = await this.store.endedPass(event.id, userId);
    if (!ended || ended.admittedAt < admittedAt) return;
    throw ended.kind === 'revoked'
      ? Errors.queuePassRevoked()
      : Errors.queuePassRequired('this queue pass was used: its holder confirmed or cancelled; join the queue again');
  };

  /** Ends every open stream with a `retry:` hint (shutdown). */
  drain(): Promise<void> {
    return this.hub.drain();
  }

  /** Open rooms and streams of this process (tests, metrics). */
  stats() {
    return this.hub.stats();
  }
}
