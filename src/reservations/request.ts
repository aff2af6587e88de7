import { createHash } from 'node:crypto';
import { parseSeatLabel, zoneHasSeat, type BoxEvent, type Zone } from '../events/model';
import { Errors } from '../shared/errors';

export type HoldRequest =
  | { seats: string[]; zone?: undefined; quantity?: undefined }
  | { seats?: undefined; zone: string; quantity: number };

/** `best`: a quantity on a seated zone, whose seats the hold script chooses (best available). */
export type ResolvedHold = { zone: Zone; seats: string[]; quantity: number; requestHash: string; best: boolean };

/** Maps the body to one zone plus seats, a quantity (GA) or best available (seated); unknown names are 400. */
export function resolveRequest(event: BoxEvent, body: HoldRequest): ResolvedHold {
  const { zone, seats, quantity } = body.seats ? bySeats(event, body.seats) : byZone(event, body.zone!, body.quantity!);
  // Identifies the request for idempotency: the same key with another body is refused.
  const requestHash = createHash('sha256')
    .update(JSON.stringify([event.id, zone.code, quantity, [...seats].sort()]))
    .digest('base64url');
  return { zone, seats, quantity, requestHash, best: !body.seats && zone.kind === 'seated' };
}

function bySeats(event: BoxEvent, seats: string[]) {
  const zoneCode = parseSeatLabel(seats[0]!)?.zone;
  const zone = event.zones.find((z) => z.code === zoneCode);
  const unknown = seats.filter((s) => !zone || !zoneHasSeat(zone, s));
  if (unknown.length) throw Errors.invalid('unknown seat labels', { field: 'seats', unknown });
  const otherZone = seats.filter((s) => parseSeatLabel(s)?.zone !== zoneCode);
  if (otherZone.length) {
    throw Errors.invalid('all seats of one reservation must be in one zone', { field: 'seats', otherZone });
  }
  return { zone: zone!, seats, quantity: seats.length };
}

function byZone(event: BoxEvent, code: string, quantity: number) {
  const zone = event.zones.find((z) => z.code === code);
  if (!zone) throw Errors.invalid(`unknown zone ${code}`, { field: 'zone' });
  return { zone, seats: [] as string[], quantity };
}

export function salesWindow(e: BoxEvent) {
  return { salesOpenAt: e.salesOpenAt.toISOString(), salesCloseAt: e.salesCloseAt.toISOString() };
}
