import type { BoxEvent, Zone } from '../events/model';
import type { ReserveOutcome } from '../inventory/scripts';
import { Errors } from '../shared/errors';
import { salesWindow } from './request';

/**
 * What a reserve-script outcome means for the caller: go on (held), replay an earlier
 * reservation, or the error to answer. `not-loaded` and `drift` (the seat index disagrees
 * with the seats) are the loader's to answer.
 */
export type Decision =
  | { kind: 'held'; seats: string[] }
  | { kind: 'replay'; reservationId: string }
  | { kind: 'not-loaded' }
  | { kind: 'drift' };

export function decide(outcome: ReserveOutcome, event: BoxEvent, zone: Zone, quantity: number): Decision {
  switch (outcome.kind) {
    case 'held':
    case 'replay':
    case 'not-loaded':
      return outcome;
    case 'idempotency-mismatch':
      throw Errors.idempotencyKeyReused();
    case 'sales-closed':
      throw Errors.salesClosed({ ...salesWindow(event), ...(outcome.state ? { status: outcome.state } : {}) });
    case 'no-block':
      throw Errors.seatsUnavailable([], { zone: zone.code, quantity, largestBlock: outcome.largestBlock });
    case 'index-drift':
      return { kind: 'drift' };
    case 'limit':
      throw Errors.limitExceeded(event.maxSeatsPerUser, outcome.current, quantity);
    case 'seats-taken':
      throw Errors.seatsUnavailable(outcome.seats);
    case 'ga-short':
      if (outcome.available <= 0) throw Errors.soldOut(zone.code);
      throw Errors.seatsUnavailable([], { zone: zone.code, available: outcome.available });
    case 'unknown-seat':
      throw Errors.invalid(`unknown seat ${outcome.seat}`, { field: 'seats', seat: outcome.seat });
  }
}
