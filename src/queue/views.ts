import type { BoxEvent } from '../events/model';
import type { RateMeter } from './meter';
import type { JoinOutcome, QueueState } from './store';
import type { AdmittedView, QueueTokens } from './tokens';

export type { AdmittedView } from './tokens';

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
export type QueueView = LobbyView | WaitingView | AdmittedView;

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
