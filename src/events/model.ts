export type ZoneKind = 'ga' | 'seated';

export type Zone = {
  code: string;
  name: string;
  priceCents: number;
  kind: ZoneKind;
  capacity: number;
  rows?: number;
  seatsPerRow?: number;
};

export type EventQueue = {
  enabled: boolean;
  admitPerSecond: number;
  passSeconds: number;
  /** At most this many admitted buyers hold a live pass at once (null: no cap). */
  maxActive?: number | null;
  /** "pow": a join needs a solved proof-of-work challenge. */
  challenge?: 'pow' | null;
};

/** draft (unlisted, no holds) -> on_sale -> closed; any but cancelled -> cancelled (final). */
export const EVENT_STATUSES = ['draft', 'on_sale', 'closed', 'cancelled'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export type BoxEvent = {
  id: string;
  name: string;
  startsAt: Date;
  salesOpenAt: Date;
  salesCloseAt: Date;
  holdSeconds: number;
  maxSeatsPerUser: number;
  queue: EventQueue;
  zones: Zone[];
  /** Absent (an event built in memory, e.g. by a test) = 'on_sale'. */
  status?: EventStatus;
  /** Test events (rehearsals, load tests) are hidden from buyers' lists. */
  test?: boolean;
  /** ISO 4217, upper case: every price of the event is in it, and payments are taken in it. Absent = EUR. */
  currency?: string;
};

export const statusOf = (e: BoxEvent): EventStatus => e.status ?? 'on_sale';

export const ZONE_CODE = /^[A-Za-z0-9_]{1,16}$/;
const SEAT_LABEL = /^([A-Za-z0-9_]{1,16})-([1-9]\d{0,4})-([1-9]\d{0,4})$/;

export const seatLabel = (zone: string, row: number, n: number) => `${zone}-${row}-${n}`;

/** Seat labels are `<zone>-<row>-<n>`, so a label alone names its zone and position. */
export function parseSeatLabel(label: string): { zone: string; row: number; n: number } | null {
  const m = SEAT_LABEL.exec(label);
  return m ? { zone: m[1]!, row: Number(m[2]), n: Number(m[3]) } : null;
}

export function zoneHasSeat(zone: Zone, label: string): boolean {
  const p = parseSeatLabel(label);
  return (
    !!p &&
    zone.kind === 'seated' &&
    p.zone === zone.code &&
    p.row <= zone.rows! &&
    p.n <= zone.seatsPerRow!
  );
}

export function* zoneSeatLabels(zone: Zone): Generator<string> {
  if (zone.kind !== 'seated') return;
  for (let r = 1; r <= zone.rows!; r++)
    for (let n = 1; n <= zone.seatsPerRow!; n++) yield seatLabel(zone.code, r, n);
}

export function salesState(event: BoxEvent, now = Date.now()): 'before' | 'open' | 'closed' {
  if (statusOf(event) === 'draft') return 'before';
  if (statusOf(event) !== 'on_sale') return 'closed';
  if (now < event.salesOpenAt.getTime()) return 'before';
  return now < event.salesCloseAt.getTime() ? 'open' : 'closed';
}

export function eventJson(e: BoxEvent) {
  return {
    id: e.id,
    name: e.name,
    startsAt: e.startsAt.toISOString(),
    salesOpenAt: e.salesOpenAt.toISOString(),
    salesCloseAt: e.salesCloseAt.toISOString(),
    holdSeconds: e.holdSeconds,
    maxSeatsPerUser: e.maxSeatsPerUser,
    queue: e.queue,
    status: statusOf(e),
    test: e.test ?? false,
    currency: e.currency ?? 'EUR',
    zones: e.zones.map((z) => ({
      code: z.code,
      name: z.name,
      priceCents: z.priceCents,
      kind: z.kind,
      capacity: z.capacity,
      ...(z.kind === 'seated' ? { rows: z.rows, seatsPerRow: z.seatsPerRow } : {}),
    })),
  };
}
