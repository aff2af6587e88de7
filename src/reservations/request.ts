import { createHash } from 'node:crypto';
import { parseSeatLabel, zoneHasSeat, type BoxEvent, type Zone } from '../events/model';
import { Errors } from '../shared/errors';

export type HoldRequest =
  | { seats: string[]; zone?: undefined; quantity?: undefined }
  | { seats?: undefined; zone: string; quantity: number };

export type ResolvedHold = { zone: Zone; seats: string[]; quantity: number; requestHash: string };

/** Maps the body to one zone plus seats (seated) or a quantity (GA); unknown names are 400. */
export function resolveRequest(event: BoxEvent, body: HoldRequest): ResolvedHold {
  const { zone, seats, quantity } = body.seats ? bySeats(event, body.seats) : byZone(event, body.zone!, body.quantity!);
  // Identifies the request for idempotency: the same key with another body is refused.
  const requestHash = createHash('sha256')
    .update(JSON.stringify([event.id, zone.code, quantity, [...seats].sort()]))
    .digest('base64url');
  return { zone, seats, quantity, requestHash };
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
  if (zone.kind !== 'ga') throw Errors.invalid(`zone ${zone.code} is seated: name the seats`, { field: 'zone' });
  return { zone, seats: [] as string[], quantity };
}

export function salesWindow(e: BoxEvent) {
  return { salesOpenAt: e.salesOpenAt.toISOString(), salesCloseAt: e.salesCloseAt.toISOString() };
}
