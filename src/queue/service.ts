import type { Core } from '../core';
import { salesState, type BoxEvent } from '../events/model';
import { AppError, Errors } from '../shared/errors';
import type { RateMeter } from './meter';
import type { JoinOutcome, QueueState } from './store';
import { signQueueToken, verifyQueueToken } from './tokens';

const TOKEN_SHAPE = /^bq1\.[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{43}$/;

export type LobbyView = { status: 'lobby'; lobbySize: number; opensAt: string };
export type WaitingView = {
  status: 'waiting';
  position: number;
  ahead: number;
  /** null while admission is paused */
  etaSeconds: number | null;
  admittedUpTo: number;
  paused: boolean;
};
export type AdmittedView = { status: 'admitted'; pass: string; expiresAt: string };
export type QueueView = LobbyView | WaitingView | AdmittedView;

/** Tickets, passes and what a holder is shown; no Redis here. */
export class QueueTokens {
  constructor(private readonly secret: string) {}

  /**
   * The same (event, user) always gets the identical ticket string: it names no number
   * (that is drawn at opening for the lobby) and expires when sales close.
   */
  ticket(event: BoxEvent, userId: string): string {
    return signQueueToken(this.secret, { k: 'ticket', e: event.id, u: userId, x: event.salesCloseAt.getTime() });
  }

  /** The pass is fixed by the admission time, so every process signs the identical string. */
  pass(event: BoxEvent, userId: string, admittedAt: number): AdmittedView {
    const x = admittedAt + event.queue.passSeconds * 1000;
    return {
      status: 'admitted',
      pass: signQueueToken(this.secret, { k: 'pass', e: event.id, u: userId, x }),
      expiresAt: new Date(x).toISOString(),
    };
  }

  /** The ticket's user; 400 when it is not a ticket at all, 403 when forged, expired or another event's. */
  readTicket(eventId: string, ticket: string): string {
    if (!TOKEN_SHAPE.test(ticket)) throw Errors.invalid('malformed ticket', { field: 'ticket' });
    const claims = verifyQueueToken(this.secret, 'ticket', ticket);
    if (!claims || claims.e !== eventId || typeof claims.u !== 'string') {
      throw new AppError(403, 'FORBIDDEN', 'invalid or expired ticket for this event');
    }
    return claims.u;
  }
}

/** The event behind a waiting-room route: 404 unknown, 409 without a queue or after sales. */
export async function queueEvent(core: Core, id: string, opts: { joining?: boolean } = {}): Promise<BoxEvent> {
  const event = await core.catalog.get(id);
  if (!event) throw Errors.notFound('event');
  if (!event.queue.enabled) throw Errors.conflict('QUEUE_DISABLED', 'this event has no waiting room');
  if (opts.joining && salesState(event) === 'closed') {
    throw Errors.salesClosed({ salesCloseAt: event.salesCloseAt.toISOString() });
  }
  return event;
}

/** Position and ETA of ticket `number` given the state; ETA from the measured rate when known. */
export function waitingView(number: number, st: QueueState, meter?: RateMeter): WaitingView {
  const position = Math.max(1, number - st.admitted);
  const rate = st.paused ? 0 : (meter?.rate() ?? st.rate);
  return {
    status: 'waiting',
    position,
    ahead: position - 1,
    etaSeconds: rate > 0 ? Math.ceil(position / rate) : null,
    admittedUpTo: st.admitted,
    paused: st.paused,
  };
}

export function lobbyView(st: QueueState): LobbyView {
  return { status: 'lobby', lobbySize: st.lobbySize, opensAt: new Date(st.openAt).toISOString() };
}

export function viewOf(tokens: QueueTokens, event: BoxEvent, userId: string, j: JoinOutcome, meter?: RateMeter): QueueView {
  if (j.status === 'admitted') return tokens.pass(event, userId, j.admittedAt);
  if (j.status === 'lobby') return lobbyView(j);
  return waitingView(j.number, j, meter);
}

/** SSE event id of a view; a reconnect that last saw "admitted" gets no second one. */
export function viewId(v: QueueView): string {
  if (v.status === 'admitted') return 'admitted';
  if (v.status === 'lobby') return `l-${v.lobbySize}`;
  return `w-${v.position}${v.paused ? 'p' : ''}`;
}
