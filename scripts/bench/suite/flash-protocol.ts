// Messages between the flash-sale coordinator (the bench process) and its driver processes.
import type { ClientStats } from './client';
import type { BuyerOutcome, PayOptions, SaleLayout } from './flash-sale';

export type DriverInit = {
  index: number;
  port: number;
  jwtSecret: string;
  /** This driver's buyers are users `${subPrefix}-${from}` … `${subPrefix}-${to - 1}`. */
  subPrefix: string;
  from: number;
  to: number;
  concurrency: number;
  layout: SaleLayout;
  pay: PayOptions;
};

export type ToDriver =
  | { type: 'init'; init: DriverInit }
  /** Closed-loop joins of the first `count` buyers on a throwaway room (the join rate). */
  | { type: 'calibrate'; eventId: string; count: number }
  /** Every buyer joins the lobby, offered at `perSecond` (open loop). */
  | { type: 'join'; eventId: string; perSecond: number }
  /** The sale opened at `openEpoch` (ms): buyers start polling. */
  | { type: 'open'; eventId: string; openEpoch: number }
  | { type: 'availability'; ga: number; seated: number }
  | { type: 'seats'; free: string[] }
  | { type: 'end' };

/** Once a second: what the driver itself is doing. */
export type DriverTick = {
  index: number;
  epoch: number;
  phase: 'join' | 'sale';
  /** Requests the buyers asked for that wait inside the driver for a free slot. */
  backlog: number;
  peakBacklog: number;
  /** Of `backlog`, the waiting-room polls (purchase steps and joins go first). */
  pollBacklog: number;
  inFlight: number;
  /** Driver CPU in the last second (process.cpuUsage), in cores. */
  cores: number;
  /** Event-loop delay in the last second (ms): a saturated driver shows it here first. */
  loopDelayP99: number;
  loopDelayMax: number;
  admitted: number;
  holds: number;
  confirmedSeats: number;
  waitingToRetry: number;
};

export type DriverResult = ClientStats & {
  index: number;
  outcome: {
    counts: BuyerOutcome['counts'];
    confirmedIds: [string, number][];
    abandonedIds: string[];
    lateIds: string[];
    failedIds: string[];
    lateOutcomes: Record<string, number>;
  };
  cpuSeconds: number;
};

export type FromDriver =
  | { type: 'ready'; index: number }
  | { type: 'calibrated'; index: number; seconds: number }
  | { type: 'joined'; index: number; joined: number; joinedLate: number; seconds: number }
  | { type: 'tick'; tick: DriverTick }
  | { type: 'result'; result: DriverResult }
  | { type: 'error'; index: number; message: string };
